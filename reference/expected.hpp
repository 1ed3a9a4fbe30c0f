// The expected result of each op, and the data its error bound is derived from.
//
// The naive reference runs in double on the inputs converted to double (exactly: every
// f32 is a double), so `value` is the exact-arithmetic result up to double rounding. The
// same naive functions run on |inputs| give, per output element, sum|terms| of the
// accumulation that produced it: the quantity the forward error bound scales with.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include "impl/core/call.hpp"
#include "impl/core/problem.hpp"
#include "impl/core/tensor.hpp"

namespace convconf {

struct Expected {
    Tensor<double> value;
    // Sum of |terms| per element; empty when the output is compared exactly (it is a
    // copy or a selection: im2col, max-pool y and argmax).
    Tensor<double> abs_sum;
    // n of gamma_n: the most terms any element accumulates.
    int64_t accumulation_length = 0;
    // Integer data keeps a sum exact, but a quotient only where the divisor is a power of
    // two. Average pooling: the largest divisor when every one is a power of two (the values
    // then have at most that many fractional bits), else 0 (never exact). 1 for the others.
    int64_t exact_divisor = 1;
};

// Tensors by their contract name (golden-format.md): inputs x, w, b, dy, col; outputs y,
// argmax, dx, dw, db, col, x. Activations are in problem.layout, weights in
// problem.weights_layout, b and db 1-D [oc], col 2-D [mb*oh*ow, ic*kh*kw].
template <class T>
using Inputs = std::map<std::string, Tensor<T>, std::less<>>;
using Expectations = std::map<std::string, Expected, std::less<>>;
// The tensor of `role` in `in`; std::logic_error naming it when there is none.
template <class T>
const Tensor<T>& tensor_of(const Inputs<T>& in, Role role) {
    const auto it = in.find(to_string(role));
    if (it == in.end()) throw std::logic_error("no input \"" + std::string(to_string(role)) + "\"");
    return it->second;
}

// Every output of the direction as the naive reference computes it in double from `in`
// (the direction's inputs by name; others are ignored), each with the sum|terms| of its
// elements unless it is a copy or a selection: naive again on the inputs' magnitudes
// (an input that selects, maxpool2d's x, as it is). The accumulation length is the
// direction's terms(). argmax comes as doubles.
Expectations expect(const Direction&, const ConvProblem&, const Inputs<double>& in);

// The same for one direction each, for tests that hold the tensors.
Expected expect_conv_forward(const ConvProblem&, const Tensor<double>& x, const Tensor<double>& w,
                             const Tensor<double>* b);
Expected expect_conv_backward_data(const ConvProblem&, const Tensor<double>& w,
                                   const Tensor<double>& dy);
struct WeightsGradients {
    Expected dw;
    std::optional<Expected> db;
};
WeightsGradients expect_conv_backward_weights(const ConvProblem&, const Tensor<double>& x,
                                              const Tensor<double>& dy, bool with_bias);
struct PoolForwardExpected {
    Expected y;
    Tensor<int64_t> argmax;
};
PoolForwardExpected expect_pool_forward(const PoolProblem&, const Tensor<double>& x);
Expected expect_pool_backward(const PoolProblem&, const Tensor<double>& x, const Tensor<double>& dy);
Expected expect_avg_forward(const PoolProblem&, const Tensor<double>& x);
Expected expect_avg_backward(const PoolProblem&, const Tensor<double>& dy);
Expected expect_im2col(const WindowProblem&, const Tensor<double>& x);
Expected expect_col2im(const WindowProblem&, const Tensor<double>& col);

// The allowed error of each element: (gamma_n(u) + gamma_n(u_f64)) * sum|terms|, the
// forward error bound of an n-term accumulation in the dtype under test (u its unit
// roundoff) plus that of the double reference itself. gamma_n = n*u / (1 - n*u); where
// n*u >= 1 no bound exists and the element's bound is infinite.
Tensor<double> derived_bound(const Expected&, DType);
double gamma(int64_t n, double u);

}  // namespace convconf
