// A worker process (docs/worker-protocol.md): started from a command, spoken to in frames
// over its stdin and stdout, its stderr kept as its log. Everything that can go wrong with
// a process another program wrote is turned into a WorkerFailure that says what happened:
// it exited (with its status), died by a signal (named), wrote something that is not a
// frame, or did not answer within the deadline. No call here blocks past its deadline, and
// no worker outlives convconf: each is killed (its whole process group) when its Process is
// destroyed, when convconf is interrupted or terminated, and by the kernel when convconf
// dies any other way (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace convconf::worker {

// What went wrong with a worker: the message names the command and what happened, and
// ends with the tail of its stderr where there is one. The process is unusable after it.
class WorkerFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The words of a command line, split as a POSIX shell splits a simple command: blanks
// separate words, '...' is literal, "..." keeps blanks and takes \" \\ \$ \`, a backslash
// outside quotes escapes the next character. No expansion, no operators. Throws
// std::invalid_argument naming what is wrong (an unclosed quote, no words).
std::vector<std::string> split_command(const std::string& command);

// One frame: the magic, the header's length, the JSON header, the payload.
inline constexpr char kMagic[4] = {'C', 'C', 'W', '1'};
inline constexpr uint32_t kMaxHeaderBytes = 1u << 20;
struct Frame {
    std::string header;                  // the JSON text
    std::vector<unsigned char> payload;  // its tensors' bytes, concatenated
};
// A frame's first 8 bytes, before a header of `length` bytes; and the header length those
// bytes state (the caller checks the magic).
std::array<unsigned char, 8> frame_prefix(uint32_t length);
uint32_t header_length(const unsigned char* prefix);

// The payload's length a header states: the sum of its "tensors"[i]."bytes" (0 when it has
// no "tensors"). Throws std::invalid_argument naming the JSON path of a bad entry.
uint64_t payload_bytes(const std::string& header);

using Clock = std::chrono::steady_clock;

class Process {
public:
    // Starts argv (argv[0] looked up on PATH unless it has a '/') in its own process
    // group, stdin and stdout pipes to this process, stderr kept. `display` names it in
    // messages (the command as the user wrote it). Throws WorkerFailure when it cannot start.
    Process(const std::vector<std::string>& argv, std::string display);
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    // Kills the process group (SIGKILL) and reaps the process.
    ~Process();

    // Writes one frame (header, then the payload pieces) and reads the answer's frame,
    // both within `timeout`; an answer's payload may be at most max_payload bytes. `doing`
    // says what the request was, for messages ("running conv2d FWD_B"). Throws
    // WorkerFailure; the process is dead (killed) after it.
    Frame exchange(const std::string& header, const std::vector<std::span<const unsigned char>>& payload,
                   std::chrono::milliseconds timeout, uint64_t max_payload, const std::string& doing);

    // Its stderr's last lines, each indented "    | ", after a header line; "" when it
    // wrote none. this_request: only what it wrote since the last exchange began.
    std::string stderr_tail(bool this_request = false);
    pid_t pid() const { return pid_; }
    const std::string& display() const { return display_; }
    // "worker 'python3 w.py' (pid 123)"
    std::string who() const;

    // Kills it and throws WorkerFailure: "<who> <what>, <how it ended>" and its stderr tail.
    [[noreturn]] void fail(const std::string& what);

private:
    void drain_stderr(bool until_end);
    std::string how_it_ended(Clock::time_point wait_until);
    void kill_now();

    std::string display_;
    pid_t pid_ = -1;
    int in_ = -1, out_ = -1, err_ = -1;  // its stdin (we write), stdout and stderr (we read)
    bool reaped_ = false;
    // Its wait status once reaped; none when waitpid failed (its status is unknown, and
    // how_it_ended says so with unknown_, waitpid's error).
    std::optional<int> wait_status_;
    std::string unknown_;
    std::string log_;       // the last kLogBytes of its stderr
    uint64_t logged_ = 0;   // bytes of stderr read, ever
    uint64_t mark_ = 0;     // logged_ when the last exchange began
};

// How a wait status reads: "exited with status 3", "was killed by signal 11 (SIGSEGV,
// Segmentation fault)".
std::string describe_wait_status(int status);

}  // namespace convconf::worker
