// The worker protocol's pieces that need no process: how a command splits into words,
// what a frame header's payload is, how a process's end reads, the timeout's floor
// (impl/plugin/worker).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>

#include "impl/plugin/worker/process.hpp"
#include "impl/plugin/worker/worker.hpp"

namespace convconf::worker {
namespace {

TEST(WorkerCommand, SplitsAsAShellSplitsASimpleCommand) {
    using W = std::vector<std::string>;
    EXPECT_EQ(split_command("python3 w.py"), (W{"python3", "w.py"}));
    EXPECT_EQ(split_command("  a\t b \n"), (W{"a", "b"}));
    EXPECT_EQ(split_command("'my dir/w.py' --x=1"), (W{"my dir/w.py", "--x=1"}));
    EXPECT_EQ(split_command("\"a \\\"b\\\" \\\\ \\n\" c"), (W{"a \"b\" \\ \\n", "c"}));
    EXPECT_EQ(split_command("a\\ b c"), (W{"a b", "c"}));
    EXPECT_EQ(split_command("x''y \"\"z"), (W{"xy", "z"}));
    EXPECT_EQ(split_command("''"), (W{""}));
    EXPECT_EQ(split_command("$HOME;|&"), (W{"$HOME;|&"}));  // no expansion, no operators
}

TEST(WorkerCommand, RefusesWhatItCannotSplitSayingWhy) {
    auto message = [](const std::string& c) {
        try {
            split_command(c);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    EXPECT_EQ(message("python3 'w.py"), "a ' at character 9 is never closed");
    EXPECT_EQ(message("a \"b"), "a \" at character 3 is never closed");
    EXPECT_EQ(message("a\\"), "it ends with a lone backslash");
    EXPECT_EQ(message("   "), "it has no words");
}

TEST(WorkerFrame, ThePayloadIsTheSumOfTheTensorsBytes) {
    EXPECT_EQ(payload_bytes(R"({"type":"pong"})"), 0u);
    EXPECT_EQ(payload_bytes(R"({"type":"result","tensors":[{"bytes":12},{"bytes":0},{"bytes":4}]})"), 16u);
    auto message = [](const std::string& h) {
        try {
            payload_bytes(h);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    EXPECT_EQ(message(R"({"tensors":[{"bytes":-1}]})"), "/tensors/0/bytes is not a non-negative integer: -1");
    EXPECT_EQ(message(R"({"tensors":[{"bytes":1},{}]})"), "/tensors/1/bytes is missing");
    EXPECT_EQ(message(R"({"tensors":[{"bytes":1.5}]})"), "/tensors/0/bytes is not a non-negative integer: 1.5");
    EXPECT_EQ(message(R"({"tensors":[{"bytes":281474976710657}]})"), "/tensors/0/bytes is too large: 281474976710657");
    EXPECT_EQ(message(R"({"tensors":{}})"), "/tensors is not an array");
    EXPECT_EQ(message(R"([1])"), "the header is not a JSON object");
    EXPECT_EQ(message("{").rfind("the header is not JSON: ", 0), 0u) << message("{");
}

TEST(WorkerStatus, NamesTheSignalAndTheExitStatus) {
    EXPECT_EQ(describe_wait_status(3 << 8), "exited with status 3");
    EXPECT_EQ(describe_wait_status(0), "exited with status 0");
    EXPECT_EQ(describe_wait_status(SIGSEGV), "was killed by signal 11 (SIGSEGV, Segmentation fault)");
    EXPECT_EQ(describe_wait_status(SIGKILL), "was killed by signal 9 (SIGKILL, Killed)");
    EXPECT_EQ(describe_wait_status(SIGABRT | 0x80), "was killed by signal 6 (SIGABRT, Aborted), core dumped");
}

TEST(WorkerTimeout, IsAtLeastAMillisecond) {
    const auto before = timeout();
    EXPECT_THROW(set_timeout(std::chrono::milliseconds(0)), std::invalid_argument);
    EXPECT_THROW(set_timeout(std::chrono::milliseconds(-5)), std::invalid_argument);
    EXPECT_EQ(timeout(), before);  // a refused value leaves the timeout as it was
    set_timeout(std::chrono::milliseconds(1));
    EXPECT_EQ(timeout(), std::chrono::milliseconds(1));
    set_timeout(before);
}

}  // namespace
}  // namespace convconf::worker
