#include "impl/core/progress.hpp"

#include <algorithm>
#include <mutex>

namespace convconf::progress {

namespace {

thread_local Task* current = nullptr;

struct Registry {
    std::mutex lock;
    std::vector<Task*> tasks;

    static Registry& get() {
        static Registry r;
        return r;
    }
};

}  // namespace

Task::Task(std::string label, int parts)
    : label_(std::move(label)), parts_(std::max(1, parts)), start_(std::chrono::steady_clock::now()), outer_(current) {
    current = this;
    Registry& r = Registry::get();
    const std::lock_guard<std::mutex> guard(r.lock);
    r.tasks.push_back(this);
}

Task::~Task() {
    current = outer_;
    Registry& r = Registry::get();
    const std::lock_guard<std::mutex> guard(r.lock);
    r.tasks.erase(std::find(r.tasks.begin(), r.tasks.end(), this));
}

void Task::parts(int n) {
    if (current) current->parts_ = std::max(1, n);
}

void begin(int64_t total) {
    Task* t = current;
    if (!t) return;
    t->done_.store(0, std::memory_order_relaxed);
    t->total_.store(total, std::memory_order_relaxed);
    t->part_.fetch_add(1, std::memory_order_relaxed);
}

void step() {
    if (Task* t = current) t->done_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<Snapshot> running() {
    Registry& r = Registry::get();
    const std::lock_guard<std::mutex> guard(r.lock);
    const auto now = std::chrono::steady_clock::now();
    std::vector<Snapshot> out;
    for (const Task* t : r.tasks) {
        Snapshot s{t->label_, -1, std::chrono::duration<double>(now - t->start_).count()};
        const int part = t->part_.load(std::memory_order_relaxed), parts = t->parts_.load();
        const int64_t total = t->total_.load(std::memory_order_relaxed);
        if (part > 0 && total > 0) {
            const double within = std::min(1.0, double(t->done_.load(std::memory_order_relaxed)) / double(total));
            s.fraction = std::min(1.0, (std::min(part, parts) - 1 + within) / parts);
        }
        out.push_back(s);
    }
    return out;
}

}  // namespace convconf::progress
