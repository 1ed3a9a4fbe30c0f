#include "impl/plugin/worker/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

namespace convconf::worker {

std::vector<std::string> split_command(const std::string& command) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    for (size_t i = 0; i < command.size(); ++i) {
        const char c = command[i];
        if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word) words.push_back(word), word.clear(), in_word = false;
            continue;
        }
        in_word = true;
        if (c == '\\') {
            if (++i == command.size()) throw std::invalid_argument("it ends with a lone backslash");
            word += command[i];
        } else if (c == '\'') {
            const size_t end = command.find('\'', i + 1);
            if (end == std::string::npos) throw std::invalid_argument("a ' at character " + std::to_string(i + 1) + " is never closed");
            word += command.substr(i + 1, end - i - 1);
            i = end;
        } else if (c == '"') {
            size_t j = i + 1;
            for (; j < command.size() && command[j] != '"'; ++j) {
                if (command[j] == '\\' && j + 1 < command.size() && std::strchr("\"\\$`", command[j + 1])) ++j;
                word += command[j];
            }
            if (j == command.size()) throw std::invalid_argument("a \" at character " + std::to_string(i + 1) + " is never closed");
            i = j;
        } else {
            word += c;
        }
    }
    if (in_word) words.push_back(word);
    if (words.empty()) throw std::invalid_argument("it has no words");
    return words;
}

std::array<unsigned char, 8> frame_prefix(uint32_t length) {
    std::array<unsigned char, 8> prefix{};
    std::memcpy(prefix.data(), kMagic, 4);
    for (int i = 0; i < 4; ++i) prefix[size_t(4 + i)] = static_cast<unsigned char>(length >> (8 * i));
    return prefix;
}

uint32_t header_length(const unsigned char* prefix) {
    uint32_t n = 0;
    for (int i = 3; i >= 0; --i) n = (n << 8) | prefix[4 + i];
    return n;
}

uint64_t payload_bytes(const std::string& header) {
    nlohmann::json h;
    try {
        h = nlohmann::json::parse(header);
    } catch (const nlohmann::json::exception& e) {
        throw std::invalid_argument(std::string("the header is not JSON: ") + e.what());
    }
    if (!h.is_object()) throw std::invalid_argument("the header is not a JSON object");
    const auto it = h.find("tensors");
    if (it == h.end()) return 0;
    if (!it->is_array()) throw std::invalid_argument("/tensors is not an array");
    uint64_t total = 0;
    for (size_t i = 0; i < it->size(); ++i) {
        const nlohmann::json& t = (*it)[i];
        const std::string at = "/tensors/" + std::to_string(i) + "/bytes";
        if (!t.is_object() || !t.contains("bytes")) throw std::invalid_argument(at + " is missing");
        const nlohmann::json& b = t["bytes"];
        if (!b.is_number_unsigned()) throw std::invalid_argument(at + " is not a non-negative integer: " + b.dump());
        const uint64_t n = b.get<uint64_t>();
        if (n > (uint64_t(1) << 48) || total + n < total) throw std::invalid_argument(at + " is too large: " + b.dump());
        total += n;
    }
    return total;
}

std::string describe_wait_status(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        const char* abbrev = sigabbrev_np(sig);
        const char* text = strsignal(sig);
        return "was killed by signal " + std::to_string(sig) + " (" + (abbrev ? "SIG" + std::string(abbrev) : "?") +
               (text ? ", " + std::string(text) : "") + ")" + (WCOREDUMP(status) ? ", core dumped" : "");
    }
    return "ended with wait status " + std::to_string(status);
}

namespace {

constexpr size_t kLogBytes = 16384;  // stderr kept per process
constexpr int kTailLines = 15;

// Every live worker's pid (= its process group), for the signal handler and exit.
std::array<std::atomic<pid_t>, 1024> g_live{};

void remember(pid_t pid) {
    for (auto& slot : g_live) {
        pid_t empty = 0;
        if (slot.compare_exchange_strong(empty, pid)) return;
    }
    // More than 1024 live workers: still killed by the destructor and PR_SET_PDEATHSIG.
}
void forget(pid_t pid) {
    for (auto& slot : g_live) {
        pid_t was = pid;
        if (slot.compare_exchange_strong(was, 0)) return;
    }
}
void kill_all() {
    for (auto& slot : g_live)
        if (const pid_t p = slot.load(); p > 0) kill(-p, SIGKILL);
}

extern "C" void on_fatal_signal(int sig) {
    kill_all();  // async-signal-safe: atomics and kill()
    signal(sig, SIG_DFL);
    raise(sig);
}

// Ctrl-C, a terminal hang-up, kill: the workers die first, then convconf as the signal
// says. A signal someone set to be ignored (nohup) stays ignored.
void install_cleanup() {
    static std::once_flag once;
    std::call_once(once, [] {
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
            struct sigaction old{};
            if (sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) continue;
            struct sigaction sa{};
            sa.sa_handler = on_fatal_signal;
            sigemptyset(&sa.sa_mask);
            sigaction(sig, &sa, nullptr);
        }
        std::atexit(kill_all);
    });
}

// PR_SET_PDEATHSIG fires when the *thread* that forked ends, so every worker is forked by
// one thread that lives as long as the process: the run's short-lived pool threads can
// start workers that outlive them.
class Spawner {
public:
    static Spawner& get() {
        static Spawner* s = new Spawner;  // never destroyed: its thread never ends
        return *s;
    }
    void run(std::function<void()> f) {
        std::packaged_task<void()> task(std::move(f));
        std::future<void> done = task.get_future();
        {
            const std::lock_guard<std::mutex> guard(m_);
            queue_.push_back(std::move(task));
        }
        cv_.notify_one();
        done.get();  // rethrows what f threw
    }

private:
    Spawner() {
        std::thread([this] {
            for (;;) {
                std::unique_lock<std::mutex> lock(m_);
                cv_.wait(lock, [this] { return !queue_.empty(); });
                std::packaged_task<void()> task = std::move(queue_.front());
                queue_.pop_front();
                lock.unlock();
                task();
            }
        }).detach();
    }
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::packaged_task<void()>> queue_;
};

std::string find_program(const std::string& name, const std::string& display) {
    auto executable = [](const std::string& p) {
        struct stat st{};
        return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
    };
    if (name.find('/') != std::string::npos) {
        if (!executable(name))
            throw WorkerFailure("worker '" + display + "': " + name + " is not an executable file");
        return name;
    }
    const char* path = std::getenv("PATH");
    const std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    size_t begin = 0;
    while (begin <= dirs.size()) {
        const size_t end = std::min(dirs.find(':', begin), dirs.size());
        const std::string dir = end > begin ? dirs.substr(begin, end - begin) : ".";
        if (executable(dir + "/" + name)) return dir + "/" + name;
        begin = end + 1;
    }
    throw WorkerFailure("worker '" + display + "': no program " + name + " on PATH");
}

void close_fd(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
}

// SIGPIPE blocked on this thread while it writes to a worker, so that a worker that
// closed its stdin is an EPIPE to report, not the end of convconf; a SIGPIPE raised
// meanwhile is taken off the thread's pending set before the mask is restored.
class NoSigpipe {
public:
    NoSigpipe() {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        sigset_t pending;
        sigpending(&pending);
        was_pending_ = sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    }
    ~NoSigpipe() {
        if (!was_pending_) {
            const timespec zero{0, 0};
            while (sigtimedwait(&pipe_, nullptr, &zero) == SIGPIPE) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }

private:
    sigset_t pipe_{}, old_{};
    bool was_pending_ = false;
};

uint32_t length_of(const std::vector<unsigned char>& prefix) { return header_length(prefix.data()); }

std::string printable(const unsigned char* p, size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += (p[i] >= 32 && p[i] < 127) ? char(p[i]) : '.';
    return s;
}

}  // namespace

Process::Process(const std::vector<std::string>& argv, std::string display) : display_(std::move(display)) {
    install_cleanup();
    const std::string program = find_program(argv.at(0), display_);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    Spawner::get().run([&] {
        int in[2], out[2], err[2], status[2];
        if (pipe2(in, O_CLOEXEC) != 0) throw WorkerFailure("worker '" + display_ + "': pipe: " + std::strerror(errno));
        if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(status, O_CLOEXEC) != 0) {
            const int e = errno;
            for (int fd : {in[0], in[1]}) close(fd);
            throw WorkerFailure("worker '" + display_ + "': pipe: " + std::strerror(e));
        }
        const pid_t parent = getpid();
        const pid_t pid = fork();
        if (pid == 0) {
            // The child: only async-signal-safe calls until exec.
            setpgid(0, 0);
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(127);  // convconf died before the line above
            dup2(in[0], 0);
            dup2(out[1], 1);
            dup2(err[1], 2);
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, nullptr);
            for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT}) signal(sig, SIG_DFL);
            execv(program.c_str(), args.data());
            const int e = errno;
            ssize_t ignored = write(status[1], &e, sizeof e);
            (void)ignored;
            _exit(127);
        }
        const int fork_errno = errno;
        for (int fd : {in[0], out[1], err[1], status[1]}) close(fd);
        in_ = in[1], out_ = out[0], err_ = err[0];
        if (pid < 0) {
            close(status[0]);
            throw WorkerFailure("worker '" + display_ + "': fork: " + std::strerror(fork_errno));
        }
        pid_ = pid;
        setpgid(pid, pid);  // as the child does: whichever runs first, kill(-pid) reaches it
        remember(pid);
        int exec_errno = 0;
        ssize_t n;
        do n = read(status[0], &exec_errno, sizeof exec_errno);
        while (n < 0 && errno == EINTR);
        close(status[0]);
        if (n == ssize_t(sizeof exec_errno)) {
            kill_now();
            throw WorkerFailure("worker '" + display_ + "': cannot run " + program + ": " + std::strerror(exec_errno));
        }
    });
    for (int fd : {in_, out_, err_}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

Process::~Process() {
    kill_now();
    for (int* fd : {&in_, &out_, &err_}) close_fd(*fd);
}

void Process::kill_now() {
    if (pid_ <= 0 || reaped_) return;
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    int status = 0;
    pid_t r;
    while ((r = waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    if (r == pid_) {
        wait_status_ = status;
    } else {
        unknown_ = std::strerror(errno);  // reaped elsewhere (ECHILD): no status to report
    }
    forget(pid_);
}

std::string Process::who() const { return "worker '" + display_ + "' (pid " + std::to_string(pid_) + ")"; }

void Process::drain_stderr(bool until_end) {
    std::array<char, 4096> buf;
    while (err_ >= 0) {
        const ssize_t n = read(err_, buf.data(), buf.size());
        if (n > 0) {
            log_.append(buf.data(), size_t(n));
            logged_ += uint64_t(n);
            if (log_.size() > 2 * kLogBytes) log_.erase(0, log_.size() - kLogBytes);
            continue;
        }
        if (n == 0) return close_fd(err_);  // it closed its stderr: no more to poll for
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN && until_end) {
            // The process has ended, but a child of it may hold the pipe: wait a little.
            pollfd p{err_, POLLIN, 0};
            if (poll(&p, 1, 200) > 0) continue;
        }
        return;
    }
}

std::string Process::stderr_tail(bool this_request) {
    drain_stderr(false);
    size_t keep = std::min(log_.size(), kLogBytes);
    if (this_request) keep = size_t(std::min<uint64_t>(keep, logged_ - mark_));
    std::string text = log_.substr(log_.size() - keep);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.empty()) return "";
    std::vector<std::string> lines;
    size_t begin = 0;
    while (begin <= text.size()) {
        const size_t end = std::min(text.find('\n', begin), text.size());
        lines.push_back(text.substr(begin, end - begin));
        begin = end + 1;
    }
    const size_t first = lines.size() > size_t(kTailLines) ? lines.size() - kTailLines : 0;
    std::string out = "\n  its stderr ended with:";
    for (size_t i = first; i < lines.size(); ++i) {
        std::string line;
        for (char c : lines[i]) line += (static_cast<unsigned char>(c) < 32 && c != '\t') ? '?' : c;
        if (line.size() > 240) line = line.substr(0, 240) + "...";
        out += "\n    | " + line;
    }
    return out;
}

std::string Process::how_it_ended(Clock::time_point wait_until) {
    if (reaped_) return wait_status_ ? describe_wait_status(*wait_status_) : "(its status is unknown: " + unknown_ + ")";
    for (;;) {
        int status = 0;
        const pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            reaped_ = true;
            wait_status_ = status;
            forget(pid_);
            kill(-pid_, SIGKILL);  // anything it started in its group
            return describe_wait_status(status);
        }
        if (r < 0 && errno != EINTR) return "(its status is unknown: " + std::string(std::strerror(errno)) + ")";
        if (Clock::now() >= wait_until) return "was still running: killed it";
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

void Process::fail(const std::string& what) {
    const std::string ended = how_it_ended(Clock::now() + std::chrono::milliseconds(500));
    kill_now();
    drain_stderr(true);
    throw WorkerFailure(who() + " " + what + "; it " + ended + stderr_tail());
}

Frame Process::exchange(const std::string& header, const std::vector<std::span<const unsigned char>>& payload,
                        std::chrono::milliseconds timeout, uint64_t max_payload, const std::string& doing) {
    if (reaped_ || in_ < 0) fail("had stopped reading its stdin before " + doing);
    const Clock::time_point deadline = Clock::now() + timeout;
    drain_stderr(false);
    mark_ = logged_;
    const std::array<unsigned char, 8> prefix = frame_prefix(uint32_t(header.size()));
    std::vector<std::span<const unsigned char>> pieces{
        prefix, {reinterpret_cast<const unsigned char*>(header.data()), header.size()}};
    for (const auto& p : payload)
        if (!p.empty()) pieces.push_back(p);
    size_t piece = 0, offset = 0;

    std::vector<unsigned char> head;  // the prefix and header as they arrive
    Frame frame;
    uint64_t want_payload = 0;
    bool have_header = false;
    const NoSigpipe no_sigpipe;
    std::array<unsigned char, 65536> buf;
    for (;;) {
        if (have_header && frame.payload.size() == want_payload) break;
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            // Whole milliseconds as seconds: 3 s, 0.25 s, 0.001 s.
            std::string seconds = std::to_string(timeout.count() / 1000);
            if (const auto ms = timeout.count() % 1000) {
                std::string frac = std::to_string(1000 + ms).substr(1);
                while (frac.back() == '0') frac.pop_back();
                seconds += "." + frac;
            }
            fail("did not answer within " + seconds + " s while " + doing + " (--worker-timeout)");
        }
        std::array<pollfd, 3> fds{pollfd{out_, POLLIN, 0}, pollfd{err_, POLLIN, 0},
                                  pollfd{piece < pieces.size() ? in_ : -1, POLLOUT, 0}};
        const int r = poll(fds.data(), fds.size(), int(std::min<long long>(left, 1000)));
        if (r < 0) {
            if (errno == EINTR) continue;
            fail("could not be waited for (poll: " + std::string(std::strerror(errno)) + ")");
        }
        if (fds[1].revents) drain_stderr(false);
        if (fds[2].revents) {
            while (piece < pieces.size()) {
                const auto& p = pieces[piece];
                const ssize_t n = write(in_, p.data() + offset, p.size() - offset);
                if (n < 0) {
                    if (errno == EINTR) continue;
                    if (errno == EAGAIN) break;
                    // EPIPE: it closed its stdin. Whatever it says on stdout is still read.
                    piece = pieces.size();
                    close_fd(in_);
                    break;
                }
                offset += size_t(n);
                if (offset == p.size()) ++piece, offset = 0;
            }
        }
        if (!fds[0].revents) continue;
        const ssize_t n = read(out_, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            fail("could not be read (" + std::string(std::strerror(errno)) + ")");
        }
        if (n == 0) {
            const bool nothing = head.empty();
            fail(std::string(nothing ? "closed its stdout without answering" : "closed its stdout in the middle of its answer") +
                 " while " + doing);
        }
        size_t used = 0;
        while (used < size_t(n)) {
            if (!have_header) {
                const size_t need = head.size() < 8 ? 8 - head.size() : 8 + size_t(length_of(head)) - head.size();
                const size_t take = std::min(need, size_t(n) - used);
                head.insert(head.end(), buf.begin() + long(used), buf.begin() + long(used + take));
                used += take;
                if (head.size() == 8) {
                    if (std::memcmp(head.data(), kMagic, 4) != 0)
                        fail("wrote \"" + printable(head.data(), head.size()) + "\" where a frame should begin (\"CCW1\") while " +
                             doing + ": its stdout carries frames only, its log goes to stderr");
                    if (length_of(head) > kMaxHeaderBytes)
                        fail("announced a header of " + std::to_string(length_of(head)) + " bytes (at most " +
                             std::to_string(kMaxHeaderBytes) + ") while " + doing);
                }
                if (head.size() >= 8 && head.size() == 8 + size_t(length_of(head))) {
                    frame.header.assign(reinterpret_cast<const char*>(head.data()) + 8, head.size() - 8);
                    try {
                        want_payload = payload_bytes(frame.header);
                    } catch (const std::invalid_argument& e) {
                        fail("sent a malformed header while " + doing + ": " + e.what());
                    }
                    if (want_payload > max_payload)
                        fail("announced " + std::to_string(want_payload) + " bytes of tensors while " + doing +
                             ", more than the " + std::to_string(max_payload) + " its answer can hold");
                    frame.payload.reserve(size_t(want_payload));
                    have_header = true;
                }
            } else {
                const size_t take = std::min(size_t(want_payload - frame.payload.size()), size_t(n) - used);
                frame.payload.insert(frame.payload.end(), buf.begin() + long(used), buf.begin() + long(used + take));
                used += take;
            }
            if (have_header && frame.payload.size() == want_payload && used < size_t(n))
                fail("wrote " + std::to_string(size_t(n) - used) + " bytes after its answer while " + doing +
                     ": one request gets one frame");
        }
    }
    if (piece < pieces.size()) fail("answered before it had read all of its request while " + doing);
    drain_stderr(false);
    return frame;
}

}  // namespace convconf::worker
