// The progress line of long work: what is being computed, how far, for how long.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

namespace convconf::cli {

// While it lives, shows the running progress::Tasks (impl/core/progress.hpp) on stderr:
//   reference (naive, f64) conv2d FWD_B mb4ic64ih224oc64kh7ph3: 37% (12.3 s)
// On a terminal one line, rewritten in place every 0.25 s; otherwise (a log, a pipe) one
// plain line per task every 5 s, prefixed "progress: ". A task shows only once it has run
// that long (1 s on a terminal), so quick checks print nothing.
// CONVCONF_PROGRESS=tty|plain|off forces the mode; CONVCONF_PROGRESS_INTERVAL=SECONDS sets
// the interval (and the delay before a task shows), so a test sees lines on a small problem.
class ProgressReporter {
public:
    ProgressReporter();
    ~ProgressReporter();
    ProgressReporter(const ProgressReporter&) = delete;
    ProgressReporter& operator=(const ProgressReporter&) = delete;

private:
    void loop();

    bool tty_ = false;
    double interval_ = 5, delay_ = 5;
    bool stop_ = false;
    bool shown_ = false;  // the tty line holds text to clear
    std::mutex lock_;
    std::condition_variable wake_;
    std::thread thread_;
};

}  // namespace convconf::cli
