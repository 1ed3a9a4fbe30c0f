#include "impl/im2col/pool.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "impl/core/pooling.hpp"

namespace convconf::im2col {
namespace {

using pooling::Tasks;
using Task = Tasks::Task;

// Entries of one tile: a few KB, so that it is written and read back in the first-level
// cache.
constexpr int64_t kTileElements = 2048;

int64_t taps(const WindowProblem& p) { return p.kh * p.kw; }

// A task's output positions q = oh*OW + ow (its rows of the column matrix) are lowered this
// many at a time, one tile: at least one.
int64_t tile_rows(const WindowProblem& p, const Tasks& tasks) {
    return std::clamp<int64_t>(kTileElements / (tasks.max_channels() * taps(p)), 1, tasks.max_rows() * p.ow());
}

int64_t tile_elements(const WindowProblem& p, const Tasks& tasks) {
    return tile_rows(p, tasks) * tasks.max_channels() * taps(p);
}

// Calls f(oh, ow) for the output positions [begin, end) of an image, in order.
template <class F>
void for_each_position(const WindowProblem& p, int64_t begin, int64_t end, F&& f) {
    const int64_t OW = p.ow();
    for (int64_t oh = begin / OW, ow = begin % OW, q = begin; q < end; ++q) {
        f(oh, ow);
        if (++ow == OW) ow = 0, ++oh;
    }
}

// Lowers the windows of output positions [begin, end) of task t into `tile`: a row per
// position, columns (c, i, j) over the task's channels; taps outside x get `padding`
// (-infinity for max pooling, 0 for average pooling).
// The loops follow x's memory order: channels innermost in NHWC, taps in NCHW.
template <class T>
void lower(const PoolProblem& p, const Tensor<T>& x, const Task& t, int64_t begin, int64_t end, T* tile,
           T padding) {
    const int64_t K = taps(p), C = t.channels(), c_step = x.offset(0, 1, 0, 0);
    T* row = tile;
    for_each_position(p, begin, end, [&](int64_t oh, int64_t ow) {
        for (int64_t i = 0; i < p.kh; ++i) {
            const int64_t ih = oh * p.sh - p.pt + i * p.dh;
            for (int64_t j = 0; j < p.kw; ++j) {
                const int64_t iw = ow * p.sw - p.pl + j * p.dw, tap = i * p.kw + j;
                T* column = row + tap;
                if (ih < 0 || ih >= p.ih || iw < 0 || iw >= p.iw) {
                    for (int64_t c = 0; c < C; ++c) column[c * K] = padding;
                    continue;
                }
                const T* source = &x.at(t.n, t.c_begin, ih, iw);
                for (int64_t c = 0; c < C; ++c) column[c * K] = source[c * c_step];
            }
        }
        row += C * K;
    });
}

using pooling::CompactTap;

// Reduces every row segment (window) of the tile lowered for output positions [begin, end)
// of task t to the element the contract chooses: f(c, oh, ow, value, chosen column), in the
// tile's row-major order. Each window is scanned from its first element of x, column `first`
// of the segment: the padding before it is never chosen, and padding after it, -infinity,
// replaces nothing. The windows of one row are scanned side by side, column by column.
template <class T, class Tap, class F>
void for_each_choice(const PoolProblem& p, const Task& t, int64_t begin, int64_t end, const T* tile,
                     std::vector<T>& best, std::vector<Tap>& chosen, F&& f) {
    const int64_t K = taps(p), C = t.channels();
    const T* row = tile;
    for_each_position(p, begin, end, [&](int64_t oh, int64_t ow) {
        const int64_t first = pooling::first_tap_h(p, oh) * p.kw + pooling::first_tap_w(p, ow);
        for (int64_t c = 0; c < C; ++c) best[c] = row[c * K + first], chosen[c] = Tap(first);
        for (int64_t tap = first + 1; tap < K; ++tap)
            for (int64_t c = 0; c < C; ++c) {
                const T v = row[c * K + tap];
                const bool replace = pooling::replaces(best[c], v);
                best[c] = replace ? v : best[c];
                chosen[c] = replace ? Tap(tap) : chosen[c];
            }
        for (int64_t c = 0; c < C; ++c) f(t.c_begin + c, oh, ow, best[c], int64_t(chosen[c]));
        row += C * K;
    });
}

// For each task of p, on the threads parallel_for has: lowers its blocks of output positions
// one at a time into a tile of its own and calls f(task, c, oh, ow, value, chosen column)
// for each window. Given `gradient` (backward's dx), each task zeroes its part of it a block
// ahead of that block's windows (pooling::ZeroAhead).
template <class T, class Tap, class F>
void for_each_window(const PoolProblem& p, const Tensor<T>& x, Tensor<T>* gradient, F&& f) {
    const Tasks tasks(p, gradient ? Pass::backward : Pass::forward);
    const int64_t elements = tile_elements(p, tasks), rows = tile_rows(p, tasks), OW = p.ow();
    parallel_for(tasks.count(), [&](int64_t k) {
        const Task t = tasks[k];
        std::vector<T> tile(elements), best(t.channels());
        std::vector<Tap> chosen(t.channels());
        std::optional<pooling::ZeroAhead<T>> zero;
        if (gradient) zero.emplace(p, *gradient, t);
        for (int64_t begin = t.oh_begin * OW; begin < t.oh_end * OW; begin += rows) {
            const int64_t end = std::min(begin + rows, t.oh_end * OW);
            lower(p, x, t, begin, end, tile.data(), -std::numeric_limits<T>::infinity());
            if (zero) zero->through((end - 1) / OW + 1);
            for_each_choice(p, t, begin, end, tile.data(), best, chosen,
                            [&](int64_t c, int64_t oh, int64_t ow, T value, int64_t tap) {
                                f(t, c, oh, ow, value, tap);
                            });
        }
        if (zero) zero->finish();
    });
}

template <class T, class F>
void for_each_window(const PoolProblem& p, const Tensor<T>& x, Tensor<T>* gradient, F&& f) {
    if (pooling::taps_fit<CompactTap<T>>(p)) return for_each_window<T, CompactTap<T>>(p, x, gradient, f);
    for_each_window<T, int64_t>(p, x, gradient, f);
}

// The flat offset in x (or dx, which has x's layout) of the element tap t = i*kw + j of
// output (n, c, oh, ow) reads; the tap must read inside x. Computed from the tap's input
// coordinates, never from offsets of taps taken apart from their window: with strides and
// dilations up to validate()'s 2^40, those would overflow.
template <class T>
int64_t source(const PoolProblem& p, const Tensor<T>& x, int64_t n, int64_t c, int64_t oh, int64_t ow, int64_t t) {
    return x.offset(n, c, oh * p.sh - p.pt + (t / p.kw) * p.dh, ow * p.sw - p.pl + (t % p.kw) * p.dw);
}

}  // namespace

template <class T>
void pool_forward(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y, Tensor<int64_t>& argmax) {
    for_each_window(
        p, x, static_cast<Tensor<T>*>(nullptr),
        [&](const Task& t, int64_t c, int64_t oh, int64_t ow, T value, int64_t chosen) {
            y.at(t.n, c, oh, ow) = value;
            argmax.at(t.n, c, oh, ow) = chosen;
        });
}

// col2im of the gradient tile, dy at each window's chosen column and 0 elsewhere, adds only
// those entries into dx, so only they are formed: each dy goes to the element of x its
// window's chosen column was lowered from. Windows that overlap accumulate; they all belong
// to the task, which owns its channels of dx, zeroed a block ahead (pooling::ZeroAhead).
template <class T>
void pool_backward(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dx) {
    for_each_window(
        p, x, &dx,
        [&](const Task& t, int64_t c, int64_t oh, int64_t ow, T, int64_t chosen) {
            dx[source(p, dx, t.n, c, oh, ow, chosen)] += dy.at(t.n, c, oh, ow);
        });
}

template <class T>
void avg_forward(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y) {
    const Tasks tasks(p, Pass::forward);
    const int64_t elements = tile_elements(p, tasks), rows = tile_rows(p, tasks), OW = p.ow(), K = taps(p);
    parallel_for(tasks.count(), [&](int64_t k) {
        const Task t = tasks[k];
        std::vector<T> tile(elements);
        for (int64_t begin = t.oh_begin * OW; begin < t.oh_end * OW; begin += rows) {
            const int64_t end = std::min(begin + rows, t.oh_end * OW);
            lower(p, x, t, begin, end, tile.data(), T(0));
            const T* row = tile.data();
            for_each_position(p, begin, end, [&](int64_t oh, int64_t ow) {
                const T divisor = T(pool_divisor(p, oh, ow));
                for (int64_t c = 0; c < t.channels(); ++c) {
                    const T* window = row + c * K;
                    T sum = 0;
                    for (int64_t tap = 0; tap < K; ++tap) sum += window[tap];
                    y.at(t.n, t.c_begin + c, oh, ow) = sum / divisor;
                }
                row += t.channels() * K;
            });
        }
    });
}

// col2im of the gradient matrix, one window (row) at a time: its value dy / divisor goes to
// every tap of the window inside x. Windows that overlap accumulate; they all belong to the
// task, which owns its channels of dx, zeroed a row of windows ahead (pooling::ZeroAhead).
template <class T>
void avg_backward(const PoolProblem& p, const Tensor<T>& dy, Tensor<T>& dx) {
    const Tasks tasks(p, Pass::backward);
    const int64_t OW = p.ow();
    parallel_for(tasks.count(), [&](int64_t k) {
        const Task t = tasks[k];
        pooling::ZeroAhead<T> zero(p, dx, t);
        std::vector<T> share(size_t(t.channels()));
        for (int64_t oh = t.oh_begin; oh < t.oh_end; ++oh) {
            zero.through(oh + 1);
            for (int64_t ow = 0; ow < OW; ++ow) {
                const T divisor = T(pool_divisor(p, oh, ow));
                for (int64_t c = 0; c < t.channels(); ++c) share[size_t(c)] = dy.at(t.n, t.c_begin + c, oh, ow) / divisor;
                for (int64_t i = 0; i < p.kh; ++i) {
                    const int64_t ih = oh * p.sh - p.pt + i * p.dh;
                    if (ih < 0 || ih >= p.ih) continue;
                    for (int64_t j = 0; j < p.kw; ++j) {
                        const int64_t iw = ow * p.sw - p.pl + j * p.dw;
                        if (iw < 0 || iw >= p.iw) continue;
                        for (int64_t c = 0; c < t.channels(); ++c) dx.at(t.n, t.c_begin + c, ih, iw) += share[size_t(c)];
                    }
                }
            }
        }
        zero.finish();
    });
}

int64_t pool_workspace_bytes(const WindowProblem& p, Pass pass, DType dtype) {
    const Tasks tasks(p, pass);
    if (is_average(p.alg) && pass == Pass::backward)
        return pooling::concurrent_bytes(tasks, tasks.max_channels() * (dtype == DType::f32 ? 4 : 8));
    return pooling::concurrent_bytes(tasks, tile_elements(p, tasks) * (dtype == DType::f32 ? 4 : 8));
}

template void pool_forward<float>(const PoolProblem&, const Tensor<float>&, Tensor<float>&, Tensor<int64_t>&);
template void pool_forward<double>(const PoolProblem&, const Tensor<double>&, Tensor<double>&, Tensor<int64_t>&);
template void pool_backward<float>(const PoolProblem&, const Tensor<float>&, const Tensor<float>&, Tensor<float>&);
template void pool_backward<double>(const PoolProblem&, const Tensor<double>&, const Tensor<double>&,
                                    Tensor<double>&);

template void avg_forward<float>(const PoolProblem&, const Tensor<float>&, Tensor<float>&);
template void avg_forward<double>(const PoolProblem&, const Tensor<double>&, Tensor<double>&);
template void avg_backward<float>(const PoolProblem&, const Tensor<float>&, Tensor<float>&);
template void avg_backward<double>(const PoolProblem&, const Tensor<double>&, Tensor<double>&);

}  // namespace convconf::im2col
