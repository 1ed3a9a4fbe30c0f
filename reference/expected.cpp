#include "reference/expected.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "impl/core/progress.hpp"
#include "impl/naive/naive.hpp"

namespace convconf {
namespace {

// A tensor of t's shape and order (allocated as a Tensor, so running out of memory says
// what was asked for: AllocationFailure).
Tensor<double> like(const Tensor<double>& t) {
    return t.order() == AxisOrder::plain ? Tensor<double>(t.shape()) : Tensor<double>(t.order(), t.dims());
}

Tensor<double> abs_of(const Tensor<double>& t) {
    Tensor<double> a = like(t);
    std::transform(t.values().begin(), t.values().end(), a.values().begin(), [](double v) { return std::fabs(v); });
    return a;
}

}  // namespace

double gamma(int64_t n, double u) {
    const double nu = double(n) * u;
    return nu >= 1.0 ? std::numeric_limits<double>::infinity() : nu / (1.0 - nu);
}

Tensor<double> derived_bound(const Expected& e, DType dtype) {
    Tensor<double> bound = e.abs_sum;
    const double g = gamma(e.accumulation_length, unit_roundoff(dtype)) +
                     gamma(e.accumulation_length, unit_roundoff(DType::f64));
    for (double& v : bound.values()) v *= g;
    return bound;
}

Expected expect_conv_forward(const ConvProblem& p, const Tensor<double>& x, const Tensor<double>& w,
                             const Tensor<double>* b) {
    progress::Task::parts(2);  // naive runs twice: the values, then sum|terms|
    Expected e{Tensor<double>(axis_order(p.layout), p.y_dims()), {}, p.ic * p.kh * p.kw + (b ? 1 : 0)};
    naive::conv_forward(p, x, w, b, e.value);
    e.abs_sum = like(e.value);
    const Tensor<double> abs_b = b ? abs_of(*b) : Tensor<double>();
    naive::conv_forward(p, abs_of(x), abs_of(w), b ? &abs_b : nullptr, e.abs_sum);
    return e;
}

Expected expect_conv_backward_data(const ConvProblem& p, const Tensor<double>& w,
                                   const Tensor<double>& dy) {
    progress::Task::parts(2);  // naive runs twice: the values, then sum|terms|
    Expected e{Tensor<double>(axis_order(p.layout), p.x_dims()), {}, p.oc * p.kh * p.kw};
    naive::conv_backward_data(p, w, dy, e.value);
    e.abs_sum = like(e.value);
    naive::conv_backward_data(p, abs_of(w), abs_of(dy), e.abs_sum);
    return e;
}

WeightsGradients expect_conv_backward_weights(const ConvProblem& p, const Tensor<double>& x,
                                              const Tensor<double>& dy, bool with_bias) {
    progress::Task::parts(2);  // naive runs twice: the values, then sum|terms|
    const int64_t n = p.mb * p.oh() * p.ow();
    WeightsGradients g{{Tensor<double>(axis_order(p.weights_layout), p.w_dims()), {}, n}, {}};
    if (with_bias) g.db = Expected{Tensor<double>({p.oc}), Tensor<double>({p.oc}), n};
    naive::conv_backward_weights(p, x, dy, g.dw.value, with_bias ? &g.db->value : nullptr);
    g.dw.abs_sum = like(g.dw.value);
    naive::conv_backward_weights(p, abs_of(x), abs_of(dy), g.dw.abs_sum,
                                 with_bias ? &g.db->abs_sum : nullptr);
    return g;
}

PoolForwardExpected expect_pool_forward(const PoolProblem& p, const Tensor<double>& x) {
    PoolForwardExpected e{{Tensor<double>(axis_order(p.layout), p.y_dims()), {}, 0},
                          Tensor<int64_t>(axis_order(p.layout), p.y_dims())};
    naive::pool_forward(p, x, e.y.value, e.argmax);
    return e;
}

Expected expect_pool_backward(const PoolProblem& p, const Tensor<double>& x, const Tensor<double>& dy) {
    progress::Task::parts(2);  // naive runs twice: the values, then sum|terms|
    // A point of x lies in at most one window per tap (i, j): at most kh*kw dy terms meet.
    Expected e{Tensor<double>(axis_order(p.layout), p.x_dims()), {}, p.kh * p.kw};
    naive::pool_backward(p, x, dy, e.value);
    e.abs_sum = like(e.value);
    naive::pool_backward(p, x, abs_of(dy), e.abs_sum);
    return e;
}

Expected expect_im2col(const WindowProblem& p, const Tensor<double>& x) {
    const auto cd = p.col_dims();
    Expected e{Tensor<double>({cd[0], cd[1]}), {}, 0};
    naive::im2col(p, x, e.value);
    return e;
}

Expected expect_col2im(const WindowProblem& p, const Tensor<double>& col) {
    progress::Task::parts(2);  // naive runs twice: the values, then sum|terms|
    Expected e{Tensor<double>(axis_order(p.layout), p.x_dims()), {}, p.kh * p.kw};
    naive::col2im(p, col, e.value);
    e.abs_sum = like(e.value);
    naive::col2im(p, abs_of(col), e.abs_sum);
    return e;
}

}  // namespace convconf
