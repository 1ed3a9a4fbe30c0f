#include "impl/strided/pool.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "impl/core/lowering.hpp"
#include "impl/core/pooling.hpp"

namespace convconf::strided {
namespace {

using pooling::Tasks;
using Task = Tasks::Task;

// Outputs in one block of output rows of a task: its running choice, a value and a tap
// index each, stays in the first-level cache across the kh*kw taps.
constexpr int64_t kBlockElements = 2048;

int64_t block_rows(const WindowProblem& p, const Tasks& tasks) {
    return std::clamp<int64_t>(kBlockElements / (p.ow() * tasks.max_channels()), 1, tasks.max_rows());
}

// Calls f(oh_begin, oh_end) for each block of output rows of task t, in order.
template <class F>
void for_each_block(const Task& t, int64_t rows, F&& f) {
    for (int64_t oh = t.oh_begin; oh < t.oh_end; oh += rows) f(oh, std::min(oh + rows, t.oh_end));
}

using pooling::CompactTap;
using pooling::taps_fit;

// Calls f(tap, c, oh, ow, ih, iw, lines, length) for each run (pooling::for_each_run) of
// tap (i, j)'s slice over output rows [oh_begin, oh_end) of task t that reads inside x, tap
// by tap in window order: (ih, iw) is where (c, oh, ow), the run's first output, reads x.
// The rest of each slice is padding, which is never chosen and receives nothing.
template <class F>
void for_each_slice_run(const PoolProblem& p, const Task& t, int64_t oh_begin, int64_t oh_end, F&& f) {
    lowering::for_each_tap(p, [&](int64_t i, int64_t j, const lowering::TapSlice& s) {
        pooling::for_each_run(p.layout, t, std::max(s.rows.begin, oh_begin), std::min(s.rows.end, oh_end),
                              s.cols.begin, s.cols.end,
                              [&](int64_t c, int64_t oh, int64_t ow, int64_t lines, int64_t length) {
                                  f(i * p.kw + j, c, oh, ow, oh * p.sh + s.rows.offset, ow * p.sw + s.cols.offset,
                                    lines, length);
                              });
    });
}

// Calls f with the distance in x between neighbouring elements of a run: the next channel
// (NHWC) or the element sw columns on (NCHW); as a compile-time 1 when it is, so that loop
// compiles to plain vector loads.
template <class F>
void with_x_step(const PoolProblem& p, F&& f) {
    if (p.layout == Layout::nhwc || p.sw == 1) return f(std::integral_constant<int64_t, 1>{});
    f(p.sw);
}

// The running choice of one block of output rows of a task: for each output, the value
// chosen so far and its tap, in a (1, channels, rows, OW) tensor of the activations' layout,
// whose runs (pooling::for_each_run) have the steps of y's.
template <class T, class Tap>
struct Choice {
    Tensor<T> best;
    Tensor<Tap> tap;
    int64_t c_begin = 0, oh_begin = 0;  // the task's and block's first output

    Choice(const PoolProblem& p, const Tasks& tasks, int64_t rows)
        : best(axis_order(p.layout), {1, tasks.max_channels(), rows, p.ow()}),
          tap(axis_order(p.layout), {1, tasks.max_channels(), rows, p.ow()}) {}

    int64_t at(int64_t c, int64_t oh, int64_t ow) const { return best.offset(0, c - c_begin, oh - oh_begin, ow); }
};

// One tap over one run: each output takes the tap's element of x if it replaces the one
// chosen so far. Branch-free, so it vectorises.
template <class T, class Tap, class Step>
void take_replacing(const T* x, pooling::Steps xs, Step x_step, T* best, Tap* chosen, int64_t line_step,
                    int64_t lines, int64_t length, Tap tap) {
    for (int64_t l = 0; l < lines; ++l, x += xs.line, best += line_step, chosen += line_step)
        for (int64_t k = 0; k < length; ++k) {
            const T v = x[k * x_step], b = best[k];
            const bool replace = pooling::replaces(b, v);
            best[k] = replace ? v : b;
            chosen[k] = replace ? tap : chosen[k];
        }
}

// The choice of every output of rows [oh_begin, oh_end) of task t, tap by tap in window
// order. Before the first tap, each output holds its window's first element of x with the
// value -infinity: where that element is -inf this is what the contract chooses, and any
// other value of it replaces -inf when its tap comes (the taps before it are padding).
template <class T, class Tap>
void choose(const PoolProblem& p, const Tensor<T>& x, const Task& t, int64_t oh_begin, int64_t oh_end,
            Choice<T, Tap>& ch) {
    ch.c_begin = t.c_begin, ch.oh_begin = oh_begin;
    ch.best.fill(-std::numeric_limits<T>::infinity());
    const int64_t line_step = pooling::run_steps(ch.tap).line;
    const bool nhwc = p.layout == Layout::nhwc;
    pooling::for_each_run(p.layout, t, oh_begin, oh_end, 0, p.ow(),
                          [&](int64_t c, int64_t oh, int64_t ow, int64_t lines, int64_t length) {
                              Tap* first = &ch.tap[ch.at(c, oh, ow)];
                              for (int64_t l = 0; l < lines; ++l, first += line_step)
                                  for (int64_t k = 0; k < length; ++k)
                                      first[k] = Tap(pooling::first_tap_h(p, nhwc ? oh : oh + l) * p.kw +
                                                     pooling::first_tap_w(p, nhwc ? ow + l : ow + k));
                          });
    const pooling::Steps xs = pooling::run_steps(x, p.sh, p.sw);
    with_x_step(p, [&](auto x_step) {
        for_each_slice_run(p, t, oh_begin, oh_end,
                           [&](int64_t tap, int64_t c, int64_t oh, int64_t ow, int64_t ih, int64_t iw,
                               int64_t lines, int64_t length) {
                               const int64_t o = ch.at(c, oh, ow);
                               take_replacing(&x.at(t.n, c, ih, iw), xs, x_step, &ch.best[o], &ch.tap[o],
                                              line_step, lines, length, Tap(tap));
                           });
    });
}

template <class T, class Tap>
void forward(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y, Tensor<int64_t>& argmax) {
    const Tasks tasks(p, Pass::forward);
    const int64_t rows = block_rows(p, tasks), y_line = pooling::run_steps(y).line;
    parallel_for(tasks.count(), [&](int64_t k) {
        const Task t = tasks[k];
        Choice<T, Tap> ch(p, tasks, rows);
        const int64_t line_step = pooling::run_steps(ch.tap).line;
        for_each_block(t, rows, [&](int64_t oh_begin, int64_t oh_end) {
            choose(p, x, t, oh_begin, oh_end, ch);
            pooling::for_each_run(p.layout, t, oh_begin, oh_end, 0, p.ow(),
                                  [&](int64_t c, int64_t oh, int64_t ow, int64_t lines, int64_t length) {
                                      const int64_t o = ch.at(c, oh, ow), out = y.offset(t.n, c, oh, ow);
                                      for (int64_t l = 0; l < lines; ++l) {
                                          std::copy_n(&ch.best[o + l * line_step], length, &y[out + l * y_line]);
                                          std::copy_n(&ch.tap[o + l * line_step], length, &argmax[out + l * y_line]);
                                      }
                                  });
        });
    });
}

// One tap over one run: dy goes to the tap's element of x where the output chose this tap.
// Elsewhere 0 is added, which changes nothing: dx starts at +0 and a sum is -0 only when
// both its terms are, so dx is never -0.
template <class T, class Tap, class Step>
void add_where_chosen(T* dx, pooling::Steps xs, Step x_step, const T* dy, int64_t dy_line, const Tap* chosen,
                      int64_t line_step, int64_t lines, int64_t length, Tap tap) {
    for (int64_t l = 0; l < lines; ++l, dx += xs.line, dy += dy_line, chosen += line_step)
        for (int64_t k = 0; k < length; ++k) {
            const T gradient = dy[k];  // read whether chosen or not, so the loop vectorises
            dx[k * x_step] += chosen[k] == tap ? gradient : T(0);
        }
}

// Per block of output rows: the choice, then, tap by tap, dy into the tap's slice of dx.
// Windows that overlap (stride < kernel) meet at the same element of dx and accumulate;
// they all belong to the task, which owns its channels of dx.
template <class T, class Tap>
void backward(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dx) {
    const Tasks tasks(p, Pass::backward);
    const int64_t rows = block_rows(p, tasks);
    const pooling::Steps xs = pooling::run_steps(dx, p.sh, p.sw);
    const int64_t dy_line = pooling::run_steps(dy).line;
    parallel_for(tasks.count(), [&](int64_t k) {
        const Task t = tasks[k];
        Choice<T, Tap> ch(p, tasks, rows);
        const int64_t line_step = pooling::run_steps(ch.tap).line;
        pooling::ZeroAhead<T> zero(p, dx, t);
        for_each_block(t, rows, [&](int64_t oh_begin, int64_t oh_end) {
            choose(p, x, t, oh_begin, oh_end, ch);
            zero.through(oh_end);
            with_x_step(p, [&](auto x_step) {
                for_each_slice_run(p, t, oh_begin, oh_end,
                                   [&](int64_t tap, int64_t c, int64_t oh, int64_t ow, int64_t ih, int64_t iw,
                                       int64_t lines, int64_t length) {
                                       add_where_chosen(&dx.at(t.n, c, ih, iw), xs, x_step, &dy.at(t.n, c, oh, ow),
                                                        dy_line, &ch.tap[ch.at(c, oh, ow)], line_step, lines,
                                                        length, Tap(tap));
                                   });
            });
        });
        zero.finish();
    });
}

// One block of output rows of a task for average pooling: per output its running sum
// (forward) or its share dy / divisor (backward), laid out as Choice's, and its divisor.
template <class T>
struct Averages {
    Tensor<T> value;
    std::vector<T> divisor;  // (oh - oh_begin) * OW + ow
    int64_t c_begin = 0, oh_begin = 0, ow_count = 0;

    Averages(const PoolProblem& p, const Tasks& tasks, int64_t rows)
        : value(axis_order(p.layout), {1, tasks.max_channels(), rows, p.ow()}),
          divisor(size_t(rows * p.ow())),
          ow_count(p.ow()) {}

    // Starts the block of rows [oh_begin, oh_end) of task t.
    void start(const PoolProblem& p, const Task& t, int64_t oh_begin_, int64_t oh_end) {
        c_begin = t.c_begin, oh_begin = oh_begin_;
        for (int64_t oh = oh_begin; oh < oh_end; ++oh)
            for (int64_t ow = 0; ow < ow_count; ++ow)
                divisor[size_t((oh - oh_begin) * ow_count + ow)] = T(pool_divisor(p, oh, ow));
    }
    int64_t at(int64_t c, int64_t oh, int64_t ow) const { return value.offset(0, c - c_begin, oh - oh_begin, ow); }
    T divisor_of(int64_t oh, int64_t ow) const { return divisor[size_t((oh - oh_begin) * ow_count + ow)]; }

    // Calls f(block, tensor, l, k, oh, ow) for each output of rows [oh_begin, oh_end) of task t:
    // its offsets in this block and in a tensor of y's shape, and its position.
    template <class U, class F>
    void for_each_output(const PoolProblem& p, const Task& t, int64_t oh_end, const Tensor<U>& outputs, F&& f) const {
        const int64_t line_step = pooling::run_steps(value).line, out_line = pooling::run_steps(outputs).line;
        const bool nhwc = p.layout == Layout::nhwc;
        pooling::for_each_run(p.layout, t, oh_begin, oh_end, 0, p.ow(),
                              [&](int64_t c, int64_t oh, int64_t ow, int64_t lines, int64_t length) {
                                  const int64_t o = at(c, oh, ow), out = outputs.offset(t.n, c, oh, ow);
                                  for (int64_t l = 0; l < lines; ++l)
                                      for (int64_t k = 0; k < length; ++k)
                                          f(o + l * line_step + k, out + l * out_line + k, nhwc ? oh : oh + l,
                                            nhwc ? ow + l : ow + k);
                              });
    }
};

}  // namespace

template <class T>
void avg_forward(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y) {
    const Tasks tasks(p, Pass::forward);
    const int64_t rows = block_rows(p, tasks);
    const pooling::Steps xs = pooling::run_steps(x, p.sh, p.sw);
    parallel_for(tasks.count(), [&](int64_t k) {
        const Task t = tasks[k];
        Averages<T> a(p, tasks, rows);
        const int64_t line_step = pooling::run_steps(a.value).line;
        for_each_block(t, rows, [&](int64_t oh_begin, int64_t oh_end) {
            a.start(p, t, oh_begin, oh_end);
            a.value.fill(T(0));
            with_x_step(p, [&](auto x_step) {
                for_each_slice_run(p, t, oh_begin, oh_end,
                                   [&](int64_t, int64_t c, int64_t oh, int64_t ow, int64_t ih, int64_t iw,
                                       int64_t lines, int64_t length) {
                                       const T* in = &x.at(t.n, c, ih, iw);
                                       T* sum = &a.value[a.at(c, oh, ow)];
                                       for (int64_t l = 0; l < lines; ++l, in += xs.line, sum += line_step)
                                           for (int64_t e = 0; e < length; ++e) sum[e] += in[e * x_step];
                                   });
            });
            a.for_each_output(p, t, oh_end, y, [&](int64_t o, int64_t out, int64_t oh, int64_t ow) {
                y[out] = a.value[o] / a.divisor_of(oh, ow);
            });
        });
    });
}

template <class T>
void avg_backward(const PoolProblem& p, const Tensor<T>& dy, Tensor<T>& dx) {
    const Tasks tasks(p, Pass::backward);
    const int64_t rows = block_rows(p, tasks);
    const pooling::Steps xs = pooling::run_steps(dx, p.sh, p.sw);
    parallel_for(tasks.count(), [&](int64_t k) {
        const Task t = tasks[k];
        Averages<T> a(p, tasks, rows);
        const int64_t line_step = pooling::run_steps(a.value).line;
        pooling::ZeroAhead<T> zero(p, dx, t);
        for_each_block(t, rows, [&](int64_t oh_begin, int64_t oh_end) {
            a.start(p, t, oh_begin, oh_end);
            a.for_each_output(p, t, oh_end, dy, [&](int64_t o, int64_t in, int64_t oh, int64_t ow) {
                a.value[o] = dy[in] / a.divisor_of(oh, ow);
            });
            zero.through(oh_end);
            with_x_step(p, [&](auto x_step) {
                for_each_slice_run(p, t, oh_begin, oh_end,
                                   [&](int64_t, int64_t c, int64_t oh, int64_t ow, int64_t ih, int64_t iw,
                                       int64_t lines, int64_t length) {
                                       T* out = &dx.at(t.n, c, ih, iw);
                                       const T* share = &a.value[a.at(c, oh, ow)];
                                       for (int64_t l = 0; l < lines; ++l, out += xs.line, share += line_step)
                                           for (int64_t e = 0; e < length; ++e) out[e * x_step] += share[e];
                                   });
            });
        });
        zero.finish();
    });
}

template <class T>
void pool_forward(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y, Tensor<int64_t>& argmax) {
    if (taps_fit<CompactTap<T>>(p)) return forward<T, CompactTap<T>>(p, x, y, argmax);
    forward<T, int64_t>(p, x, y, argmax);
}

template <class T>
void pool_backward(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dx) {
    if (taps_fit<CompactTap<T>>(p)) return backward<T, CompactTap<T>>(p, x, dy, dx);
    backward<T, int64_t>(p, x, dy, dx);
}

int64_t pool_workspace_bytes(const WindowProblem& p, Pass pass, DType dtype) {
    const Tasks tasks(p, pass);
    const int64_t value = dtype == DType::f32 ? 4 : 8;
    const int64_t outputs = block_rows(p, tasks) * p.ow() * tasks.max_channels();
    if (is_average(p.alg))  // a sum or share per output, a divisor per output position
        return pooling::concurrent_bytes(tasks, (outputs + block_rows(p, tasks) * p.ow()) * value);
    const int64_t tap = dtype == DType::f32 && taps_fit<int32_t>(p) ? 4 : 8;
    return pooling::concurrent_bytes(tasks, outputs * (value + tap));
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

}  // namespace convconf::strided
