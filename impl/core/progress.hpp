// The progress of long work, for a reporter to show (tools/progress.hpp prints it).
//
// Whoever wants a piece of work watched opens a Task on the thread that does it; the work
// itself only says how many steps it has (begin) and marks each one done (step). The naive
// reference does so once per image and channel, so a reference that computes for minutes
// shows how far it is. Without a Task on the thread both calls do nothing but read one
// thread-local pointer, and they never touch the work's arithmetic.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace convconf::progress {

// What a reporter shows of one running task.
struct Snapshot {
    std::string label;
    double fraction = -1;  // of the work done, 0..1; -1 when the work reports no steps
    double seconds = 0;    // since the task began
};
// Every running task, oldest first.
std::vector<Snapshot> running();

// A part of `total` steps begins on this thread (parts follow one another: the reference
// computes the values, then the sum of |terms| the error bound comes from).
void begin(int64_t total);
// One step of the current part is done.
void step();

// Watches the work done on this thread while it lives. `parts`: how many begin() calls the
// work will make, so the share shown runs from 0 to 100% once over all of them.
class Task {
public:
    explicit Task(std::string label, int parts = 1);
    ~Task();
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;

    // How many parts the work makes, when only the work knows (reference/expected.cpp).
    static void parts(int n);

private:
    friend void begin(int64_t);
    friend void step();
    friend std::vector<Snapshot> running();

    std::string label_;
    std::atomic<int> parts_;
    std::atomic<int> part_{0};  // parts begun
    std::atomic<int64_t> done_{0}, total_{0};
    std::chrono::steady_clock::time_point start_;
    Task* outer_;  // the task this one interrupts on the same thread, restored after it
};

}  // namespace convconf::progress
