#include "reference/expected.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "impl/core/progress.hpp"
#include "reference/registry.hpp"

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

// Expected::exact_divisor of average pooling p.
int64_t exact_divisor(const PoolProblem& p) {
    int64_t largest = 1;
    for (int64_t oh = 0; oh < p.oh(); ++oh)
        for (int64_t ow = 0; ow < p.ow(); ++ow) {
            const int64_t d = pool_divisor(p, oh, ow);
            if ((d & (d - 1)) != 0) return 0;
            largest = std::max(largest, d);
        }
    return largest;
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

Expectations expect(const Direction& d, const ConvProblem& p, const Inputs<double>& in) {
    const bool sums = std::any_of(d.outputs.begin(), d.outputs.end(), [](const Operand& o) { return !o.exact; });
    if (sums) progress::Task::parts(2);  // naive runs twice: the values, then sum|terms|
    // One run of naive on the inputs, or on their magnitudes, into fresh outputs.
    auto run = [&](bool magnitudes) {
        Call call(d, DType::f64, p);
        std::vector<Tensor<double>> magnitude;
        magnitude.reserve(d.inputs.size());
        for (const Operand& o : d.inputs) {
            const Tensor<double>& t = tensor_of(in, o.role);
            if (!magnitudes || o.selects) {
                call.bind(o.role, t);
            } else {
                call.bind(o.role, magnitude.emplace_back(abs_of(t)));
            }
        }
        Inputs<double> out;
        Tensor<int64_t> argmax;
        for (const Operand& o : d.outputs) {
            const TensorShape shape = shape_of(o.shape, p);
            if (o.role == Role::argmax)
                call.bind(o.role, argmax = make_tensor<int64_t>(shape));
            else
                call.bind(o.role, out[std::string(to_string(o.role))] = make_tensor<double>(shape));
        }
        naive_variant().run(call);
        if (!argmax.empty()) out["argmax"] = argmax.cast<double>();
        return out;
    };
    Inputs<double> values = run(false), abs_sums = sums ? run(true) : Inputs<double>();
    Expectations e;
    for (const Operand& o : d.outputs) {
        const std::string name(to_string(o.role));
        Expected x{std::move(values.at(name)), {}, 0};
        if (!o.exact) {
            x.abs_sum = std::move(abs_sums.at(name));
            x.accumulation_length = d.terms(p);
            if (d.divides) x.exact_divisor = exact_divisor(pool_problem(p));
        }
        e.emplace(name, std::move(x));
    }
    return e;
}

namespace {
Expected only(Expectations e, const char* name) { return std::move(e.at(name)); }
}  // namespace

Expected expect_conv_forward(const ConvProblem& p, const Tensor<double>& x, const Tensor<double>& w,
                             const Tensor<double>* b) {
    Inputs<double> in{{"x", x}, {"w", w}};
    if (b) in.emplace("b", *b);
    return only(expect(direction_of(Op::conv2d, Pass::forward, b != nullptr), p, in), "y");
}

Expected expect_conv_backward_data(const ConvProblem& p, const Tensor<double>& w, const Tensor<double>& dy) {
    return only(expect(direction_of(Op::conv2d, Pass::backward_data), p, {{"w", w}, {"dy", dy}}), "dx");
}

WeightsGradients expect_conv_backward_weights(const ConvProblem& p, const Tensor<double>& x,
                                              const Tensor<double>& dy, bool with_bias) {
    Expectations e = expect(direction_of(Op::conv2d, Pass::backward_weights, with_bias), p, {{"x", x}, {"dy", dy}});
    WeightsGradients g{std::move(e.at("dw")), {}};
    if (with_bias) g.db = std::move(e.at("db"));
    return g;
}

PoolForwardExpected expect_pool_forward(const PoolProblem& p, const Tensor<double>& x) {
    Expectations e = expect(direction_of(Op::maxpool2d, Pass::forward), as_conv_problem(p), {{"x", x}});
    const Tensor<double>& a = e.at("argmax").value;
    Tensor<int64_t> argmax(a.order(), a.dims());
    std::transform(a.values().begin(), a.values().end(), argmax.values().begin(), [](double v) { return int64_t(v); });
    return {std::move(e.at("y")), std::move(argmax)};
}

Expected expect_pool_backward(const PoolProblem& p, const Tensor<double>& x, const Tensor<double>& dy) {
    return only(expect(direction_of(Op::maxpool2d, Pass::backward), as_conv_problem(p), {{"x", x}, {"dy", dy}}), "dx");
}

Expected expect_avg_forward(const PoolProblem& p, const Tensor<double>& x) {
    return only(expect(direction_of(Op::avgpool2d, Pass::forward), as_conv_problem(p), {{"x", x}}), "y");
}

Expected expect_avg_backward(const PoolProblem& p, const Tensor<double>& dy) {
    return only(expect(direction_of(Op::avgpool2d, Pass::backward), as_conv_problem(p), {{"dy", dy}}), "dx");
}

Expected expect_im2col(const WindowProblem& p, const Tensor<double>& x) {
    return only(expect(direction_of(Op::im2col, Pass::forward), as_conv_problem(p), {{"x", x}}), "col");
}

Expected expect_col2im(const WindowProblem& p, const Tensor<double>& col) {
    return only(expect(direction_of(Op::col2im, Pass::forward), as_conv_problem(p), {{"col", col}}), "x");
}

}  // namespace convconf
