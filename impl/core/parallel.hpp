// Parallelism for the optimised variants, made so that results never depend on the number
// of threads.
//
// The caller cuts the work into tasks whose number and boundaries depend only on the
// problem, never on the thread count, and each task writes outputs no other task touches
// (a reduction across tasks goes through per-task partial results summed afterwards in task
// order). parallel_for only hands tasks to threads, so every output element is computed by
// the same operations in the same order whether 1 or 16 threads run: bit-identical results.
// Every GEMM inside a task runs on the calling thread (gemm.hpp), so oneDNN's sgemm cannot
// split a product differently when more threads are available.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <type_traits>

#include <omp.h>

namespace convconf {

// How many different `slot`s parallel_for may pass: one per thread it may run tasks on.
// Per-thread scratch buffers are indexed by slot.
inline int parallel_slots() { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

// Runs f(t) or f(t, slot) for every t in [0, count), on the threads set_threads() allows;
// slot < parallel_slots() identifies the thread, and no two tasks run at once on one slot.
// The first exception a task throws (std::bad_alloc from a scratch buffer, say) is rethrown
// here once every thread has stopped; the remaining tasks are skipped.
template <class F>
void parallel_for(int64_t count, F&& f) {
    auto run = [&f](int64_t t, int slot) {
        if constexpr (std::is_invocable_v<F&, int64_t, int>) f(t, slot);
        else f(t);
    };
    if (count <= 0) return;
    if (count == 1 || parallel_slots() == 1) {
        for (int64_t t = 0; t < count; ++t) run(t, 0);
        return;
    }
    std::exception_ptr error;
    std::atomic<bool> failed{false};
    std::mutex lock;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t t = 0; t < count; ++t) {
        if (failed.load(std::memory_order_relaxed)) continue;
        try {
            run(t, omp_get_thread_num());
        } catch (...) {
            const std::lock_guard<std::mutex> guard(lock);
            if (!error) error = std::current_exception();
            failed = true;
        }
    }
    if (error) std::rethrow_exception(error);
}

// Splits [0, total) into pieces of `grain` (the last one shorter): the number of pieces and
// piece k's range. Task boundaries made this way depend on the problem alone.
struct Pieces {
    int64_t total, grain;
    int64_t count() const { return total <= 0 ? 0 : (total + grain - 1) / grain; }
    int64_t begin(int64_t k) const { return k * grain; }
    int64_t end(int64_t k) const { return k * grain + grain < total ? k * grain + grain : total; }
};

}  // namespace convconf
