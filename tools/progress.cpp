#include "tools/progress.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "impl/core/progress.hpp"
#include "tools/cli.hpp"

namespace convconf::cli {
namespace {

std::string line(const progress::Snapshot& s) {
    char buf[64];
    if (s.fraction >= 0) std::snprintf(buf, sizeof buf, ": %.0f%% (%.1f s)", 100 * s.fraction, s.seconds);
    else std::snprintf(buf, sizeof buf, ": running (%.1f s)", s.seconds);
    return s.label + buf;
}

}  // namespace

ProgressReporter::ProgressReporter() {
    const char* mode = std::getenv("CONVCONF_PROGRESS");
    const std::string m = mode ? mode : "";
    if (m == "off") return;
    if (!m.empty() && m != "tty" && m != "plain")
        throw std::invalid_argument("CONVCONF_PROGRESS=\"" + m + "\" is not tty, plain or off");
    tty_ = m.empty() ? isatty(STDERR_FILENO) != 0 : m == "tty";
    interval_ = tty_ ? 0.25 : 5;
    delay_ = tty_ ? 1 : 5;
    if (const char* text = std::getenv("CONVCONF_PROGRESS_INTERVAL"); text && *text)
        interval_ = delay_ = parse_real("CONVCONF_PROGRESS_INTERVAL", text, 0, true, "a positive number of seconds");
    thread_ = std::thread([this] { loop(); });
}

ProgressReporter::~ProgressReporter() {
    if (!thread_.joinable()) return;
    {
        const std::lock_guard<std::mutex> guard(lock_);
        stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
    if (shown_) std::fputs("\r\033[K", stderr);
}

void ProgressReporter::loop() {
    std::unique_lock<std::mutex> guard(lock_);
    const auto interval = std::chrono::duration<double>(interval_);
    while (!wake_.wait_for(guard, interval, [this] { return stop_; })) {
        std::vector<progress::Snapshot> shown;
        for (const progress::Snapshot& s : progress::running())
            if (s.seconds >= delay_) shown.push_back(s);
        if (tty_) {
            if (shown.empty() && !shown_) continue;
            std::string text = shown.empty() ? "" : line(shown.front());
            if (shown.size() > 1) text += " (+" + std::to_string(shown.size() - 1) + " more)";
            std::fprintf(stderr, "\r\033[K%s", text.c_str());
            shown_ = !shown.empty();
        } else {
            for (const progress::Snapshot& s : shown) std::fprintf(stderr, "progress: %s\n", line(s).c_str());
        }
        std::fflush(stderr);
    }
}

}  // namespace convconf::cli
