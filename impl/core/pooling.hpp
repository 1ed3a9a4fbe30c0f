// What the optimised max-pooling paths (impl/im2col/pool.cpp, impl/strided/pool.cpp) share:
// the contract's choice as one comparison, where a window's first element of x lies, how a
// problem is cut into parallel tasks, and the zeroing of dx just ahead of the scatter.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "impl/core/parallel.hpp"
#include "impl/core/problem.hpp"
#include "impl/core/tensor.hpp"
#include "impl/core/threads.hpp"
#include "impl/core/types.hpp"

namespace convconf::pooling {

// Whether `next`, met after `best` in window order, replaces it as the chosen element (the
// contract): a strictly greater value does, so ties keep the first maximum; a NaN replaces
// any number; nothing replaces a NaN. One comparison without branches, so loops over many
// windows at once vectorise.
template <class T>
bool replaces(T best, T next) {
    return !(best >= next) && best == best;
}

// Tap indices as narrow as the window allows: 32 bits beside a float, so that they share
// vector lanes; 64 beside a double, or where a window has more taps than 32 bits count.
template <class T>
using CompactTap = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;

// Whether every tap index of p fits in Tap.
template <class Tap>
bool taps_fit(const WindowProblem& p) {
    return p.kh * p.kw <= std::numeric_limits<Tap>::max();
}

// Along one axis, the first tap of output position o that is not in the leading padding:
// the smallest t with o*stride - pad + t*dilation >= 0. In a validated problem it reads x
// (every window meets x, and later taps only move further in), so a window's first element
// of x is tap first_tap_h(oh) * kw + first_tap_w(ow).
inline int64_t first_tap(int64_t o, int64_t stride, int64_t pad, int64_t dilation) {
    const int64_t before = pad - o * stride;  // how far the window starts before x
    return before <= 0 ? 0 : (before + dilation - 1) / dilation;
}
inline int64_t first_tap_h(const WindowProblem& p, int64_t oh) { return first_tap(oh, p.sh, p.pt, p.dh); }
inline int64_t first_tap_w(const WindowProblem& p, int64_t ow) { return first_tap(ow, p.sw, p.pl, p.dw); }

// The parallel tasks: one per image, block of channels and, forward only, block of output
// rows. A task owns its outputs in y and argmax and, backward, its channels of its image in
// dx: windows that overlap (stride < kernel) never meet across tasks, so backward accumulates
// into dx without any other task writing there. The blocks follow from the problem alone
// (parallel.hpp), so results are the same on any number of threads. Channel blocks are wide:
// a task that took a few channels of every NHWC pixel would read x a cache line here and
// there, which the hardware does not prefetch (measured 2-3x slower than whole pixels).
class Tasks {
public:
    // A task gets about kTaskElements elements of x or more, its channels in multiples of
    // kChannelGrain (256 bytes of f32 in NHWC) unless it takes them all.
    static constexpr int64_t kTaskElements = int64_t{1} << 16;
    static constexpr int64_t kChannelGrain = 64;

    Tasks(const WindowProblem& p, Pass pass)
        : mb_(p.mb),
          channels_{p.ic, channel_block(p)},
          rows_{p.oh(), pass == Pass::forward ? row_block(p, channels_.grain) : p.oh()} {}

    struct Task {
        int64_t n, c_begin, c_end, oh_begin, oh_end;
        int64_t channels() const { return c_end - c_begin; }
        int64_t rows() const { return oh_end - oh_begin; }
    };
    int64_t count() const { return mb_ * channels_.count() * rows_.count(); }
    Task operator[](int64_t t) const {
        const int64_t r = t % rows_.count(), k = t / rows_.count() % channels_.count();
        return {t / rows_.count() / channels_.count(), channels_.begin(k), channels_.end(k), rows_.begin(r),
                rows_.end(r)};
    }
    // The most channels and output rows one task has.
    int64_t max_channels() const { return channels_.grain; }
    int64_t max_rows() const { return rows_.grain; }

private:
    static int64_t channel_block(const WindowProblem& p) {
        const int64_t plane = p.ih * p.iw;
        const int64_t wanted = (kTaskElements + plane - 1) / plane;
        const int64_t rounded = (wanted + kChannelGrain - 1) / kChannelGrain * kChannelGrain;
        return std::min(p.ic, rounded);
    }
    // Output rows each reading about sh rows of x.
    static int64_t row_block(const WindowProblem& p, int64_t channels) {
        // Divided one factor at a time: the product of validate()'s limits overflows.
        return std::clamp<int64_t>(kTaskElements / channels / p.sh / p.iw, 1, p.oh());
    }

    int64_t mb_;
    Pieces channels_, rows_;
};

// A task's part of an output-shaped tensor (n, c, oh, ow), over output rows [oh_begin,
// oh_end) and columns [ow_begin, ow_end), as runs of `lines` lines of `length` elements each,
// in memory order: f(c, oh, ow, lines, length) from the run's first output (c, oh, ow). NHWC:
// a run per output row, its lines the output columns, their elements the task's channels.
// NCHW: a run per channel, its lines the output rows, their elements the output columns.
// Steps says how far apart lines and elements lie in a tensor.
template <class F>
void for_each_run(Layout layout, const Tasks::Task& t, int64_t oh_begin, int64_t oh_end,
                  int64_t ow_begin, int64_t ow_end, F&& f) {
    if (oh_begin >= oh_end || ow_begin >= ow_end) return;
    if (layout == Layout::nhwc) {
        for (int64_t oh = oh_begin; oh < oh_end; ++oh) f(t.c_begin, oh, ow_begin, ow_end - ow_begin, t.channels());
    } else {
        for (int64_t c = t.c_begin; c < t.c_end; ++c) f(c, oh_begin, ow_begin, oh_end - oh_begin, ow_end - ow_begin);
    }
}

// The distance between neighbouring lines and elements of a run of for_each_run in tensor
// t, where neighbouring outputs lie `h` rows or `w` columns apart: 1 and 1 in y's shape, sh
// and sw in x's.
struct Steps {
    int64_t line, element;
};
template <class T>
Steps run_steps(const Tensor<T>& t, int64_t h = 1, int64_t w = 1) {
    if (t.order() == AxisOrder::nhwc) return {t.offset(0, 0, 0, w), t.offset(0, 1, 0, 0)};
    return {t.offset(0, 0, h, 0), t.offset(0, 0, 0, w)};
}

// Zeroes one task's dx a block of output rows ahead of the scatter, instead of all of it at
// once, so that the rows are still in cache when that block's gradients are added to them.
// Blocks come in order: through(oh_end) before scattering the windows of output rows up to
// oh_end zeroes the input rows those windows reach and no earlier call did, never a row
// that has received gradients; finish() zeroes the rows no window reached.
template <class T>
class ZeroAhead {
public:
    ZeroAhead(const WindowProblem& p, Tensor<T>& dx, const Tasks::Task& t) : p_(p), dx_(dx), t_(t) {}

    void through(int64_t oh_end) {
        zero_to(std::min(p_.ih, (oh_end - 1) * p_.sh - p_.pt + p_.kh_extent()));
    }
    void finish() { zero_to(p_.ih); }

private:
    void zero_to(int64_t ih_end) {
        if (ih_end <= done_) return;
        if (dx_.order() == AxisOrder::nhwc) {
            for (int64_t ih = done_; ih < ih_end; ++ih)
                for (int64_t iw = 0; iw < p_.iw; ++iw) {
                    T* run = &dx_.at(t_.n, t_.c_begin, ih, iw);
                    std::fill(run, run + t_.channels(), T(0));
                }
        } else {
            for (int64_t c = t_.c_begin; c < t_.c_end; ++c) {
                T* rows = &dx_.at(t_.n, c, done_, 0);
                std::fill(rows, rows + (ih_end - done_) * p_.iw, T(0));
            }
        }
        done_ = ih_end;
    }

    const WindowProblem& p_;
    Tensor<T>& dx_;
    Tasks::Task t_;
    int64_t done_ = 0;  // input rows [0, done_) are zeroed
};

// Bytes of per-task scratch alive at once: one task's worth on each thread that can run.
inline int64_t concurrent_bytes(const Tasks& tasks, int64_t per_task_bytes) {
    return std::min<int64_t>(tasks.count(), parallel_slots()) * per_task_bytes;
}

}  // namespace convconf::pooling
