// The properties every variant must have (issue 6), as functions of the variant so that
// the registered variants are tested with them and the test-only broken variants are shown
// to fail them.
#include "tests/property/properties.hpp"

#include <rapidcheck.h>

#include <cmath>
#include <numeric>

#include "impl/core/registry.hpp"
#include "reference/expected.hpp"
#include "tests/property/generators.hpp"

namespace convconf::property {
namespace {


// Integer data with exact sums: plain integers for arithmetic, tie-heavy ones for pooling.
Fill integer_fill(Op op) { return op == Op::maxpool2d ? Fill::ties : Fill::integers; }

// Every (direction, dtype) the variant declares it can run with this kind of data.
std::vector<std::pair<Direction, DType>> runnable(const Variant& v, std::initializer_list<DType> dtypes,
                                                  bool nan_data = false) {
    std::vector<std::pair<Direction, DType>> out;
    for (const Direction& d : all_directions())
        for (DType t : dtypes)
            if (!v.unsupported({d.op, d.pass, t, nan_data})) out.push_back({d, t});
    return out;
}

rc::Gen<CheckSpec> gen_runnable_check(const std::vector<std::pair<Direction, DType>>& choices,
                                      bool integers) {
    return rc::gen::mapcat(rc::gen::elementOf(choices), [integers](const std::pair<Direction, DType>& c) {
        const Direction& d = c.first;
        return gen_check(d.op, d.pass, d.bias, c.second, integers ? integer_fill(d.op) : Fill::floats);
    });
}

bool can(const Variant& v, Op op, Pass pass, DType t) { return !v.unsupported({op, pass, t, false}); }

// a. Equal to naive exactly on integer data whose sums are exact.
PropertyOutcome exact_on_integer_data(const Variant& variant) {
    PropertyRun run("exact_on_integer_data");
    const auto choices = runnable(variant, {DType::f32, DType::f64});
    if (choices.empty()) return {false, variant.name() + " declares it can run nothing", {}, {}};
    run.check([&] {
        const CheckSpec s = *gen_runnable_check(choices, true);
        require_passed(run_check(variant, s), s, variant.name());
    }, 100);
    return run.result();
}

// b. Within the derived error bound of naive on float data, f32 and f64.
PropertyOutcome within_bound_on_float_data(const Variant& variant) {
    PropertyRun run("within_bound_on_float_data");
    const auto choices = runnable(variant, {DType::f32, DType::f64});
    run.check([&] {
        const CheckSpec s = *gen_runnable_check(choices, false);
        require_passed(run_check(variant, s), s, variant.name());
    }, 100);
    return run.result();
}

template <class T>
double dot(const Tensor<T>& a, const Tensor<T>& b) {
    // Logical order does not matter for a sum of products, but layouts must agree.
    double acc = 0;
    for (int64_t e = 0; e < a.size(); ++e) acc += double(a[e]) * double(b[e]);
    return acc;
}

template <class T>
Tensor<T> filled(AxisOrder order, const Dims4& dims, uint64_t seed, Fill f = Fill::floats) {
    Tensor<T> t(order, dims);
    fill(t, f, seed);
    return t;
}

// c. Adjoint identities, to rounding: <conv(x,w), dy> = <x, backward_data(dy,w)> =
//    <w, backward_weights(x,dy)>, and <im2col(x), c> = <x, col2im(c)>.
//    Each inner product is a sum of the same triple products x*w*dy; with S their
//    absolute sum and n the longest accumulation, each is within gamma_n(u)*S of the
//    exact value, so two of them differ by at most 2*gamma_n(u)*S.
template <class T>
void adjoint_conv(const Variant& v, const ConvProblem& p, uint64_t seed) {
    const AxisOrder act = axis_order(p.layout), wei = axis_order(p.weights_layout);
    auto x = filled<T>(act, p.x_dims(), seed), w = filled<T>(wei, p.w_dims(), seed + 1);
    auto dy = filled<T>(act, p.y_dims(), seed + 2);
    Tensor<T> y(act, p.y_dims()), dx(act, p.x_dims()), dw(wei, p.w_dims());
    v.conv_forward(p, x, w, nullptr, y);
    v.conv_backward_data(p, w, dy, dx);
    v.conv_backward_weights(p, x, dy, dw, nullptr);
    const Expected abs_y = expect_conv_forward(p, x.template cast<double>(), w.template cast<double>(), nullptr);
    double S = 0;
    for (int64_t e = 0; e < dy.size(); ++e) S += abs_y.abs_sum[e] * std::fabs(double(dy[e]));
    const int64_t n = p.ic * p.kh * p.kw + std::max(p.oc * p.kh * p.kw, p.mb * p.oh() * p.ow()) +
                      std::max({x.size(), w.size(), dy.size()});
    const double tol = 2 * gamma(n, unit_roundoff(dtype_of<T>::value)) * S;
    const double a = dot(y, dy), b = dot(x, dx), c = dot(w, dw);
    RC_ASSERT(std::fabs(a - b) <= tol);
    RC_ASSERT(std::fabs(a - c) <= tol);
}

template <class T>
void adjoint_im2col(const Variant& v, const WindowProblem& p, uint64_t seed) {
    const auto cd = p.col_dims();
    auto x = filled<T>(axis_order(p.layout), p.x_dims(), seed);
    Tensor<T> c({cd[0], cd[1]});
    fill(c, Fill::floats, seed + 1);
    Tensor<T> col({cd[0], cd[1]}), back(axis_order(p.layout), p.x_dims());
    v.im2col(p, x, col);
    v.col2im(p, c, back);
    double S = 0;  // every product x*c appears once on each side
    for (int64_t e = 0; e < c.size(); ++e) S += std::fabs(double(col[e]) * double(c[e]));
    const double tol = 2 * gamma(p.kh * p.kw + c.size(), unit_roundoff(dtype_of<T>::value)) * S;
    RC_ASSERT(std::fabs(dot(col, c) - dot(x, back)) <= tol);
}

PropertyOutcome adjoint_identities(const Variant& variant) {
    PropertyRun run("adjoint_identities");
    for (DType t : {DType::f32, DType::f64}) {
        const bool conv = can(variant, Op::conv2d, Pass::forward, t) && can(variant, Op::conv2d, Pass::backward_data, t) &&
                          can(variant, Op::conv2d, Pass::backward_weights, t);
        const bool lowering = can(variant, Op::im2col, Pass::forward, t) && can(variant, Op::col2im, Pass::forward, t);
        if (conv)
            run.check([&] {
                const ConvProblem p = *gen_conv_problem();
                const uint64_t seed = *rc::gen::inRange<uint64_t>(1, 1000);
                t == DType::f32 ? adjoint_conv<float>(variant, p, seed) : adjoint_conv<double>(variant, p, seed);
            });
        if (lowering)
            run.check([&] {
                const ConvProblem p = *gen_conv_problem();
                const uint64_t seed = *rc::gen::inRange<uint64_t>(1, 1000);
                t == DType::f32 ? adjoint_im2col<float>(variant, p, seed) : adjoint_im2col<double>(variant, p, seed);
            });
    }
    return run.result();
}

// d. Central differences in f64. L(x) = <conv(x, w), dy> is linear in x (and in w), so
//    (L(x + h e) - L(x - h e)) / 2h equals the gradient up to rounding; max-pooling is
//    linear too as long as no choice changes: with distinct integer data, h = 1/4 moves no
//    element past another.
PropertyOutcome central_differences(const Variant& variant) {
    PropertyRun run("central_differences");
    if (can(variant, Op::conv2d, Pass::forward, DType::f64) && can(variant, Op::conv2d, Pass::backward_data, DType::f64) &&
        can(variant, Op::conv2d, Pass::backward_weights, DType::f64))
        run.check([&] {
            const ConvProblem p = *gen_conv_problem();
            const uint64_t seed = *rc::gen::inRange<uint64_t>(1, 1000);
            const AxisOrder act = axis_order(p.layout), wei = axis_order(p.weights_layout);
            auto x = filled<double>(act, p.x_dims(), seed), w = filled<double>(wei, p.w_dims(), seed + 1);
            const auto dy = filled<double>(act, p.y_dims(), seed + 2);
            Tensor<double> dx(act, p.x_dims()), dw(wei, p.w_dims()), y(act, p.y_dims());
            variant.conv_backward_data(p, w, dy, dx);
            variant.conv_backward_weights(p, x, dy, dw, nullptr);
            const double h = 0.25;
            auto loss = [&] {
                variant.conv_forward(p, x, w, nullptr, y);
                return dot(y, dy);
            };
            // S bounds sum|x w dy| with x or w moved by h: the rounding error of each loss.
            Tensor<double> xs = x, ws = w;
            for (double& e : xs.values()) e = std::fabs(e) + h;
            for (double& e : ws.values()) e = std::fabs(e) + h;
            const Expected ab = expect_conv_forward(p, xs, ws, nullptr);
            double S = 0;
            for (int64_t e = 0; e < dy.size(); ++e) S += ab.abs_sum[e] * std::fabs(dy[e]);
            const int64_t n = p.ic * p.kh * p.kw + dy.size();
            const double tol = 2 * gamma(n, unit_roundoff(DType::f64)) * S / (2 * h) +
                               gamma(std::max(p.oc * p.kh * p.kw, p.mb * p.oh() * p.ow()), unit_roundoff(DType::f64)) * S;
            for (auto [t, g] : {std::pair{&x, &dx}, std::pair{&w, &dw}}) {
                const int64_t e = *rc::gen::inRange<int64_t>(0, t->size());
                const double keep = (*t)[e];
                (*t)[e] = keep + h;
                const double up = loss();
                (*t)[e] = keep - h;
                const double down = loss();
                (*t)[e] = keep;
                RC_ASSERT(std::fabs((up - down) / (2 * h) - (*g)[e]) <= tol);
            }
        });
    if (can(variant, Op::maxpool2d, Pass::forward, DType::f64) && can(variant, Op::maxpool2d, Pass::backward, DType::f64))
        run.check([&] {
            const PoolProblem p = *gen_pool_problem();
            const uint64_t seed = *rc::gen::inRange<uint64_t>(1, 1000);
            const AxisOrder act = axis_order(p.layout);
            auto x = filled<double>(act, p.x_dims(), seed, Fill::distinct);
            const auto dy = filled<double>(act, p.y_dims(), seed + 1, Fill::integers);
            Tensor<double> dx(act, p.x_dims()), y(act, p.y_dims());
            Tensor<int64_t> argmax(act, p.y_dims());
            variant.pool_backward(p, x, dy, dx);
            auto loss = [&] {
                variant.pool_forward(p, x, y, argmax);
                return dot(y, dy);
            };
            // Distinct integers, h = 1/4 and small integer dy: every loss is exact.
            const int64_t e = *rc::gen::inRange<int64_t>(0, x.size());
            const double keep = x[e];
            x[e] = keep + 0.25;
            const double up = loss();
            x[e] = keep - 0.25;
            const double down = loss();
            RC_ASSERT((up - down) / 0.5 == dx[e]);
        });
    return run.result();
}

// The inputs run_check builds for a maxpool2d spec, so that a property case noted as that
// spec reruns as `convconf check` with the very same data.
template <class T>
Tensor<T> pool_input(const CheckSpec& s, const Dims4& dims, const char* role) {
    Tensor<T> t(axis_order(s.problem.layout), dims);
    fill(t, s.fill, role_seed(s.seed, role), 4);
    return t;
}

// e. Max-pooling facts, checked against x itself rather than against naive: the chosen
//    element is in the window and never padding, nothing in the window is larger, nothing
//    before it is as large (ties go to the first maximum), and dx receives each dy at the
//    chosen element and nowhere else, so sum(dx) = sum(dy).
template <class T>
void pool_facts_case(const Variant& v, const CheckSpec& forward) {
    PoolProblem p;
    static_cast<WindowProblem&>(p) = forward.problem;
    CheckSpec backward = forward;
    backward.pass = Pass::backward;
    const AxisOrder act = axis_order(p.layout);
    const auto x = pool_input<T>(forward, p.x_dims(), "x");
    const auto dy = pool_input<T>(backward, p.y_dims(), "dy");
    Tensor<T> y(act, p.y_dims()), dx(act, p.x_dims());
    Tensor<int64_t> argmax(act, p.y_dims());
    note_case(forward, v.name());
    v.pool_forward(p, x, y, argmax);
    Tensor<double> received(act, p.x_dims());
    for (int64_t n = 0; n < p.mb; ++n)
        for (int64_t c = 0; c < p.ic; ++c)
            for (int64_t oh = 0; oh < p.oh(); ++oh)
                for (int64_t ow = 0; ow < p.ow(); ++ow) {
                    const int64_t a = argmax.at(n, c, oh, ow);
                    RC_ASSERT(a >= 0 && a < p.kh * p.kw);
                    const int64_t ih = oh * p.sh - p.pt + a / p.kw * p.dh, iw = ow * p.sw - p.pl + a % p.kw * p.dw;
                    RC_ASSERT(ih >= 0 && ih < p.ih && iw >= 0 && iw < p.iw);  // never padding
                    RC_ASSERT(y.at(n, c, oh, ow) == x.at(n, c, ih, iw));
                    for (int64_t tap = 0; tap < p.kh * p.kw; ++tap) {
                        const int64_t r = oh * p.sh - p.pt + tap / p.kw * p.dh;
                        const int64_t q = ow * p.sw - p.pl + tap % p.kw * p.dw;
                        if (r < 0 || r >= p.ih || q < 0 || q >= p.iw) continue;
                        RC_ASSERT(x.at(n, c, r, q) <= y.at(n, c, oh, ow));
                        if (tap < a) RC_ASSERT(x.at(n, c, r, q) < y.at(n, c, oh, ow));
                    }
                    received.at(n, c, ih, iw) += double(dy.at(n, c, oh, ow));
                }
    note_case(backward, v.name());
    v.pool_backward(p, x, dy, dx);
    // Integer dy below 4, at most kh*kw windows per element: every sum is exact.
    const Tensor<double> dx_d = dx.template cast<double>();
    RC_ASSERT(std::equal(dx_d.values().begin(), dx_d.values().end(), received.values().begin()));
    RC_ASSERT(std::accumulate(dx.values().begin(), dx.values().end(), 0.0) ==
              std::accumulate(dy.values().begin(), dy.values().end(), 0.0));
}

template <class T>
void pool_nan_case(const Variant& v, const CheckSpec& s) {
    PoolProblem p;
    static_cast<WindowProblem&>(p) = s.problem;
    const AxisOrder act = axis_order(p.layout);
    const auto x = pool_input<T>(s, p.x_dims(), "x");
    Tensor<T> y(act, p.y_dims());
    Tensor<int64_t> argmax(act, p.y_dims());
    note_case(s, v.name());
    v.pool_forward(p, x, y, argmax);
    for (int64_t n = 0; n < p.mb; ++n)
        for (int64_t c = 0; c < p.ic; ++c)
            for (int64_t oh = 0; oh < p.oh(); ++oh)
                for (int64_t ow = 0; ow < p.ow(); ++ow) {
                    int64_t first_nan = -1;
                    for (int64_t tap = 0; tap < p.kh * p.kw && first_nan < 0; ++tap) {
                        const int64_t r = oh * p.sh - p.pt + tap / p.kw * p.dh;
                        const int64_t q = ow * p.sw - p.pl + tap % p.kw * p.dw;
                        if (r >= 0 && r < p.ih && q >= 0 && q < p.iw && std::isnan(x.at(n, c, r, q)))
                            first_nan = tap;
                    }
                    if (first_nan < 0) continue;
                    RC_ASSERT(std::isnan(y.at(n, c, oh, ow)));
                    RC_ASSERT(argmax.at(n, c, oh, ow) == first_nan);
                }
}

PropertyOutcome max_pool_facts(const Variant& variant) {
    PropertyRun run("max_pool_facts");
    for (DType t : {DType::f32, DType::f64}) {
        if (!can(variant, Op::maxpool2d, Pass::forward, t) || !can(variant, Op::maxpool2d, Pass::backward, t)) continue;
        run.check([&] {
            const CheckSpec s = *gen_check(Op::maxpool2d, Pass::forward, false, t, Fill::ties);
            t == DType::f32 ? pool_facts_case<float>(variant, s) : pool_facts_case<double>(variant, s);
        });
    }
    // A NaN in a window makes the output NaN, and the first NaN is chosen.
    for (DType t : {DType::f32, DType::f64}) {
        if (variant.unsupported({Op::maxpool2d, Pass::forward, t, true})) continue;
        run.check([&] {
            const CheckSpec s = *gen_check(Op::maxpool2d, Pass::forward, false, t, Fill::special);
            t == DType::f32 ? pool_nan_case<float>(variant, s) : pool_nan_case<double>(variant, s);
        });
    }
    return run.result();
}

// f. Every variant rejects an invalid problem, naming the same field.
PropertyOutcome rejects_invalid_problems_naming_the_field(const Variant& variant) {
    PropertyRun run("rejects_invalid_problems_naming_the_field");
    run.check([&] {
        const ConvProblem good = *gen_conv_problem();
        struct Spoil {
            const char* field;
            void (*apply)(ConvProblem&);
        };
        static constexpr Spoil kSpoils[] = {
            {"sh", [](ConvProblem& p) { p.sh = 0; }},  {"sw", [](ConvProblem& p) { p.sw = -1; }},
            {"dh", [](ConvProblem& p) { p.dh = 0; }},  {"dw", [](ConvProblem& p) { p.dw = 0; }},
            {"pt", [](ConvProblem& p) { p.pt = -1; }}, {"pr", [](ConvProblem& p) { p.pr = -2; }},
            {"kh", [](ConvProblem& p) { p.kh = p.ih + p.pt + p.pb + 1; }},
            {"ic", [](ConvProblem& p) { p.ic = 0; }},
        };
        const Spoil& s = *rc::gen::elementOf(std::vector<Spoil>(std::begin(kSpoils), std::end(kSpoils)));
        ConvProblem bad = good;
        s.apply(bad);
        // Tensors shaped for the good problem: the problem itself must be what is rejected.
        Tensor<double> x(axis_order(good.layout), good.x_dims()), w(axis_order(good.weights_layout), good.w_dims());
        Tensor<double> y(axis_order(good.layout), good.y_dims());
        std::string named = "(accepted)";
        try {
            variant.conv_forward(bad, x, w, nullptr, y);
        } catch (const ProblemError& e) {
            named = e.field();
        }
        RC_ASSERT(named == std::string(s.field));
    }, 50);
    return run.result();
}

}  // namespace

const std::vector<NamedProperty>& variant_properties() {
    static const std::vector<NamedProperty> all{
        {"ExactOnIntegerData", exact_on_integer_data},
        {"WithinBoundOnFloatData", within_bound_on_float_data},
        {"AdjointIdentities", adjoint_identities},
        {"CentralDifferences", central_differences},
        {"MaxPoolFacts", max_pool_facts},
        {"RejectsInvalidProblems", rejects_invalid_problems_naming_the_field},
    };
    return all;
}

}  // namespace convconf::property
