// convconf: the conformance harness's command line. Each subcommand lives in its own
// file (tools/cmd_*.cpp) and has its own --help.
//
// Exit status: 0 all passed, 1 a check failed, 2 bad usage, bad input, the environment
// (out of memory, a file that cannot be written), or a run that checked nothing (unless
// --allow-empty).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "impl/core/threads.hpp"
#include "tools/cli.hpp"

namespace {

using convconf::cli::Command;
const Command* const kCommands[] = {&convconf::cli::kRun, &convconf::cli::kCheck, &convconf::cli::kGolden,
                                    &convconf::cli::kVariants, &convconf::cli::kBench, &convconf::cli::kWorker};

void overview(FILE* out) {
    std::fputs("usage: convconf COMMAND [options]   (convconf COMMAND --help for its options)\n", out);
    for (const Command* c : kCommands) std::fprintf(out, "  %-9s %s\n", c->name, c->summary);
}

// Standard output is a file the user asked for too (`convconf run > log`): a full disk
// there is an error, with the exit status of a lost report (tools/cli.hpp's exit_status:
// a failure's 1 is kept, a pass becomes 2).
int stdout_written(int status) {
    errno = 0;
    const bool flushed = std::fflush(stdout) == 0;
    if (flushed && !std::ferror(stdout)) return status;
    std::fprintf(stderr, "convconf: cannot write standard output: %s\n",
                 !flushed && errno ? std::strerror(errno) : "a write failed");
    return status == 0 ? 2 : status;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace convconf::cli;
    const std::string cmd = argc < 2 ? "" : argv[1];
    if (cmd.empty() || cmd == "--help" || cmd == "-h" || cmd == "help") {
        overview(cmd.empty() ? stderr : stdout);
        return cmd.empty() ? 2 : 0;
    }
    const Command* command = nullptr;
    for (const Command* c : kCommands)
        if (cmd == c->name) command = c;
    if (!command) {
        std::fprintf(stderr, "convconf: unknown command \"%s\"\n", cmd.c_str());
        overview(stderr);
        return 2;
    }
    Args args(argc, argv, 2);
    if (command->subcommand) command = command->subcommand(args);
    int status = 2;
    try {
        if (args.flag("--help") || args.flag("-h")) {
            std::fputs(command->usage, stdout);
            return stdout_written(0);
        }
        convconf::set_threads(1);  // many small problems: see impl/core/threads.hpp
        status = command->run(args);
    } catch (const UsageError& e) {
        std::cout << std::flush;  // what was printed before the error, before it
        std::fprintf(stderr, "convconf %s: %s\n%s", command->name, e.what(), command->usage);
    } catch (const std::exception& e) {
        // Bad input (a descriptor, a field value, an invalid problem, a file) or the
        // environment (out of memory: reference/conformance.hpp's OutOfMemory): say what, exit 2.
        std::cout << std::flush;
        std::fprintf(stderr, "convconf: %s\n", e.what());
    }
    return stdout_written(status);
}
