// The properties every variant must have (issue 6), as functions of the variant so that
// the registered variants are tested with them and the test-only broken variants are shown
// to fail them.
#include "tests/property/properties.hpp"

#include <rapidcheck.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "reference/registry.hpp"
#include "reference/expected.hpp"
#include "tests/property/generators.hpp"

namespace convconf::property {
namespace {


// Integer data with exact sums: plain integers for arithmetic, tie-heavy ones for pooling.
Fill integer_fill(Op op) { return op == Op::maxpool2d ? Fill::ties : Fill::integers; }

// Whether the variant runs op and pass at t at all: it takes the default problem in one of
// the four layout pairs. unsupported() sees the problem, and a plugin's or a worker's may
// decline by layout (a notebook's NHWC-only layer), so one layout is not enough to ask.
bool can(const Variant& v, Op op, Pass pass, DType t, bool nan_data = false) {
    for (Layout l : {Layout::nchw, Layout::nhwc})
        for (WeightsLayout wl : {WeightsLayout::oihw, WeightsLayout::hwio}) {
            ConvProblem p;
            p.layout = l;
            p.weights_layout = wl;
            if (op == Op::avgpool2d) p.alg = PoolAlg::avg_np;  // a valid problem of the op
            if (!v.unsupported(Call(direction_of(op, pass), t, p, nan_data))) return true;
        }
    return false;
}

// A generated problem the variant declines for this call is discarded, not run: the
// properties call variants directly, where run_check would have skipped it.
void require_taken(const Variant& v, Op op, Pass pass, DType t, const ConvProblem& p, bool nan_data = false) {
    if (auto why = v.unsupported(Call(direction_of(op, pass), t, p, nan_data))) RC_DISCARD(*why);
}

// Every (direction, dtype) the variant declares it can run with this kind of data.
std::vector<std::pair<Direction, DType>> runnable(const Variant& v, std::initializer_list<DType> dtypes,
                                                  bool nan_data = false) {
    std::vector<std::pair<Direction, DType>> out;
    for (const Direction& d : all_directions())
        for (DType t : dtypes)
            if (can(v, d.op, d.pass, t, nan_data)) out.push_back({d, t});
    return out;
}

rc::Gen<CheckSpec> gen_runnable_check(const std::vector<std::pair<Direction, DType>>& choices,
                                      bool integers) {
    return rc::gen::mapcat(rc::gen::elementOf(choices), [integers](const std::pair<Direction, DType>& c) {
        const Direction& d = c.first;
        return gen_check(d.op, d.pass, d.bias, c.second, integers ? integer_fill(d.op) : Fill::floats);
    });
}


// a. Equal to naive exactly on integer data whose sums are exact.
PropertyOutcome exact_on_integer_data(const Variant& variant) {
    PropertyRun run("exact_on_integer_data");
    const auto choices = runnable(variant, {DType::f32, DType::f64});
    if (choices.empty()) return {false, variant.name() + " declares it can run nothing", {}, {}, true, {}};
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

// Floats in [-1, 1) or, with `positive`, their magnitudes. Zero-mean data leave an inner
// product of random sign and size, at times below its rounding bound, so that a gradient
// lost or scaled could pass; with every term positive nothing cancels, and the inner product
// is thousands of times its bound. Zero-mean data still catch what positive data cannot (a
// sign dropped inside a sum).
template <class T>
Tensor<T> float_data(AxisOrder order, const Dims4& dims, uint64_t seed, bool positive) {
    Tensor<T> t = filled<T>(order, dims, seed);
    if (positive)
        for (T& v : t.values()) v = std::fabs(v);
    return t;
}
template <class T>
Tensor<T> float_data(const std::array<int64_t, 2>& shape, uint64_t seed, bool positive) {
    Tensor<T> t({shape[0], shape[1]});
    fill(t, Fill::floats, seed);
    if (positive)
        for (T& v : t.values()) v = std::fabs(v);
    return t;
}

// c. Adjoint identities, to rounding: <conv(x,w), dy> = <x, backward_data(dy,w)> =
//    <w, backward_weights(x,dy)>, <im2col(x), c> = <x, col2im(c)>, and
//    <avg(x), dy> = <x, avg_backward(dy)> (with sum dx = sum dy where it holds, adjoint_avg).
//    In exact arithmetic each pair is one number. A computed side <t, o> (t an input, o the
//    variant's output) is off by the error of o, each element within its derived bound B_e
//    (what WithinBoundOnFloatData holds it to), times |t_e|, plus the error of the inner
//    product itself, accumulated in double: gamma_m(u_f64) * sum|t_e o_e| over its m
//    terms. Two sides differ by at most the sum of their errors.
// <t, out>, with `out` held to the derived bound of `e`; a copy (no `e`) has no error.
template <class T>
Side side_t(const Tensor<T>& t, const Tensor<T>& out, const Expected* e) {
    const Tensor<double> bound = e ? derived_bound(*e, dtype_of<T>::value) : Tensor<double>();
    Side s;
    double abs_terms = 0;
    for (int64_t i = 0; i < t.size(); ++i) {
        // Layouts agree, so elements pair up in storage order.
        const double a = double(t[i]), b = double(out[i]);
        s.value += a * b;
        abs_terms += std::fabs(a * b);
        if (e) s.error += bound[i] * std::fabs(a);
    }
    s.error += gamma(t.size(), unit_roundoff(DType::f64)) * abs_terms;
    return s;
}

template <class T>
ConvAdjoint conv_adjoint_t(const Variant& v, const ConvProblem& p, uint64_t seed, bool positive) {
    const AxisOrder act = axis_order(p.layout), wei = axis_order(p.weights_layout);
    const auto x = float_data<T>(act, p.x_dims(), seed, positive), w = float_data<T>(wei, p.w_dims(), seed + 1, positive);
    const auto dy = float_data<T>(act, p.y_dims(), seed + 2, positive);
    Tensor<T> y(act, p.y_dims()), dx(act, p.x_dims()), dw(wei, p.w_dims());
    calls::conv_forward(v, p, x, w, nullptr, y);
    calls::conv_backward_data(v, p, w, dy, dx);
    calls::conv_backward_weights(v, p, x, dy, dw, nullptr);
    ConvAdjoint r{{}, {}, {}, x.template cast<double>(), w.template cast<double>(), dy.template cast<double>()};
    const Expected ey = expect_conv_forward(p, r.x, r.w, nullptr);
    const Expected edx = expect_conv_backward_data(p, r.w, r.dy);
    const Expected edw = expect_conv_backward_weights(p, r.x, r.dy, false).dw;
    r.forward = side_t(dy, y, &ey);
    r.data = side_t(x, dx, &edx);
    r.weights = side_t(w, dw, &edw);
    return r;
}

std::string show(const char* what, const Side& s) {
    std::ostringstream o;
    o << what << " = " << s.value << " (error at most " << s.error << ")";
    return o.str();
}

// Fails the case unless the three sides agree pairwise. The pass whose side disagrees with
// both others, while they agree, is the one noted (its case saved); when no single pass
// stands out, the forward pass is.
template <class T>
void require_adjoint(const ConvAdjoint& a, const ConvProblem& p, uint64_t seed, const std::string& variant) {
    const bool fd = agree(a.forward, a.data), fw = agree(a.forward, a.weights), dw = agree(a.data, a.weights);
    if (fd && fw && dw) return;
    CheckSpec s{Op::conv2d, Pass::forward, dtype_of<T>::value, false, p, Fill::floats, seed};
    Inputs<double> in{{"x", a.x}, {"w", a.w}};
    std::string odd = "no single pass disagrees with both others";
    if (!fd && !dw && fw) {
        s.pass = Pass::backward_data, in = {{"w", a.w}, {"dy", a.dy}};
        odd = "backward_data disagrees with forward and backward_weights, which agree";
    } else if (!fw && !dw && fd) {
        s.pass = Pass::backward_weights, in = {{"x", a.x}, {"dy", a.dy}};
        odd = "backward_weights disagrees with forward and backward_data, which agree";
    } else if (!fd && !fw && dw) {
        odd = "forward disagrees with backward_data and backward_weights, which agree";
    }
    note_case(s, variant, std::move(in));
    RC_FAIL("adjoint identities fail: " + show("<conv(x,w), dy>", a.forward) + ", " +
            show("<x, backward_data(dy,w)>", a.data) + ", " + show("<w, backward_weights(x,dy)>", a.weights) +
            "; " + odd);
}

template <class T>
void adjoint_im2col(const Variant& v, const WindowProblem& p, uint64_t seed, bool positive) {
    const auto cd = p.col_dims();
    const auto x = float_data<T>(axis_order(p.layout), p.x_dims(), seed, positive);
    const auto c = float_data<T>(cd, seed + 1, positive);
    Tensor<T> col({cd[0], cd[1]}), back(axis_order(p.layout), p.x_dims());
    calls::im2col(v, p, x, col);
    calls::col2im(v, p, c, back);
    const Tensor<double> c_d = c.template cast<double>();
    const Expected eback = expect_col2im(p, c_d);
    const Side lowered = side_t(c, col, nullptr), raised = side_t(x, back, &eback);
    if (agree(lowered, raised)) return;
    // im2col is a copy: col2im, which accumulates, is the likelier culprit, and its case is
    // the one saved; if that case passes, im2col is the one that is wrong.
    note_case({Op::col2im, Pass::forward, dtype_of<T>::value, false, as_conv_problem(p), Fill::floats, seed}, v.name(),
              {{"col", c_d}});
    RC_FAIL("adjoint identity fails: " + show("<im2col(x), c>", lowered) + ", " + show("<x, col2im(c)>", raised));
}

// Average pooling: <avg(x), dy> = <x, avg_backward(dy)>, and each window's shares sum to its
// dy wherever its divisor counts only taps inside x (avg_np always, avg_p where no window
// has a tap in the padding): then sum dx = sum dy. With avg_p a window's padding taps keep
// their shares, so the sum is smaller there; it is not asserted.
template <class T>
void adjoint_avg(const Variant& v, const PoolProblem& p, uint64_t seed, bool positive) {
    const AxisOrder act = axis_order(p.layout);
    const auto x = float_data<T>(act, p.x_dims(), seed, positive), dy = float_data<T>(act, p.y_dims(), seed + 1, positive);
    Tensor<T> y(act, p.y_dims()), dx(act, p.x_dims());
    calls::avg_forward(v, p, x, y);
    calls::avg_backward(v, p, dy, dx);
    const Tensor<double> x_d = x.template cast<double>(), dy_d = dy.template cast<double>();
    const Expected ey = expect_avg_forward(p, x_d), edx = expect_avg_backward(p, dy_d);
    const Side forward = side_t(dy, y, &ey), backward = side_t(x, dx, &edx);
    // The case saved is the pass that is off: forward if its y leaves naive's bound, else backward.
    const Tensor<double> y_bound = derived_bound(ey, dtype_of<T>::value);
    bool forward_off = false;
    for (int64_t e = 0; e < y.size(); ++e)
        forward_off = forward_off || std::fabs(double(y[e]) - ey.value[e]) > y_bound[e];
    if (forward_off)
        note_case({Op::avgpool2d, Pass::forward, dtype_of<T>::value, false, as_conv_problem(p), Fill::floats, seed},
                  v.name(), {{"x", x_d}});
    else
        note_case({Op::avgpool2d, Pass::backward, dtype_of<T>::value, false, as_conv_problem(p), Fill::floats, seed},
                  v.name(), {{"dy", dy_d}});
    if (!agree(forward, backward))
        RC_FAIL("adjoint identity fails: " + show("<avg(x), dy>", forward) + ", " + show("<x, avg_backward(dy)>", backward));
    PoolProblem np = p;
    np.alg = PoolAlg::avg_np;
    for (int64_t oh = 0; oh < p.oh(); ++oh)
        for (int64_t ow = 0; ow < p.ow(); ++ow)
            if (pool_divisor(p, oh, ow) != pool_divisor(np, oh, ow)) return;  // a tap in the padding counts
    Tensor<T> ones_x(act, p.x_dims()), ones_y(act, p.y_dims());
    ones_x.fill(T(1)), ones_y.fill(T(1));
    const Side sum_dx = side_t(ones_x, dx, &edx), sum_dy = side_t(ones_y, dy, nullptr);
    if (!agree(sum_dx, sum_dy))
        RC_FAIL("the shares of dy do not add up: " + show("sum dx", sum_dx) + ", " + show("sum dy", sum_dy) +
                " (every divisor counts only taps inside x)");
}

}  // namespace

bool agree(const Side& a, const Side& b) { return std::fabs(a.value - b.value) <= a.error + b.error; }

ConvAdjoint conv_adjoint(const Variant& v, const ConvProblem& p, uint64_t seed, DType dtype, bool positive) {
    return dtype == DType::f32 ? conv_adjoint_t<float>(v, p, seed, positive) : conv_adjoint_t<double>(v, p, seed, positive);
}

template <class T>
Side side(const Tensor<T>& t, const Tensor<T>& out, const Expected* e) {
    return side_t(t, out, e);
}
template Side side(const Tensor<float>&, const Tensor<float>&, const Expected*);
template Side side(const Tensor<double>&, const Tensor<double>&, const Expected*);

namespace {

PropertyOutcome adjoint_identities(const Variant& variant) {
    PropertyRun run("adjoint_identities");
    for (DType t : {DType::f32, DType::f64}) {
        const bool conv = can(variant, Op::conv2d, Pass::forward, t) && can(variant, Op::conv2d, Pass::backward_data, t) &&
                          can(variant, Op::conv2d, Pass::backward_weights, t);
        const bool lowering = can(variant, Op::im2col, Pass::forward, t) && can(variant, Op::col2im, Pass::forward, t);
        const bool average = can(variant, Op::avgpool2d, Pass::forward, t) && can(variant, Op::avgpool2d, Pass::backward, t);
        if (average)
            run.check([&] {
                const PoolProblem p = *gen_pool_problem(*rc::gen::element(PoolAlg::avg_p, PoolAlg::avg_np));
                for (Pass pass : {Pass::forward, Pass::backward})
                    require_taken(variant, Op::avgpool2d, pass, t, as_conv_problem(p));
                const uint64_t seed = *rc::gen::inRange<uint64_t>(1, 1000);
                const bool positive = *rc::gen::arbitrary<bool>();
                t == DType::f32 ? adjoint_avg<float>(variant, p, seed, positive)
                                : adjoint_avg<double>(variant, p, seed, positive);
            });
        if (conv)
            run.check([&] {
                const ConvProblem p = *gen_conv_problem();
                for (Pass pass : {Pass::forward, Pass::backward_data, Pass::backward_weights})
                    require_taken(variant, Op::conv2d, pass, t, p);
                const uint64_t seed = *rc::gen::inRange<uint64_t>(1, 1000);
                const bool positive = *rc::gen::arbitrary<bool>();
                const ConvAdjoint a = conv_adjoint(variant, p, seed, t, positive);
                t == DType::f32 ? require_adjoint<float>(a, p, seed, variant.name())
                                : require_adjoint<double>(a, p, seed, variant.name());
            });
        if (lowering)
            run.check([&] {
                const ConvProblem p = *gen_conv_problem();
                require_taken(variant, Op::im2col, Pass::forward, t, p);
                require_taken(variant, Op::col2im, Pass::forward, t, p);
                const uint64_t seed = *rc::gen::inRange<uint64_t>(1, 1000);
                const bool positive = *rc::gen::arbitrary<bool>();
                t == DType::f32 ? adjoint_im2col<float>(variant, p, seed, positive)
                                : adjoint_im2col<double>(variant, p, seed, positive);
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
            for (Pass pass : {Pass::forward, Pass::backward_data, Pass::backward_weights})
                require_taken(variant, Op::conv2d, pass, DType::f64, p);
            const uint64_t seed = *rc::gen::inRange<uint64_t>(1, 1000);
            const AxisOrder act = axis_order(p.layout), wei = axis_order(p.weights_layout);
            auto x = filled<double>(act, p.x_dims(), seed), w = filled<double>(wei, p.w_dims(), seed + 1);
            const auto dy = filled<double>(act, p.y_dims(), seed + 2);
            Tensor<double> dx(act, p.x_dims()), dw(wei, p.w_dims()), y(act, p.y_dims());
            calls::conv_backward_data(variant, p, w, dy, dx);
            calls::conv_backward_weights(variant, p, x, dy, dw, nullptr);
            const double h = 0.25;
            auto loss = [&] {
                calls::conv_forward(variant, p, x, w, nullptr, y);
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
            struct Gradient {
                Tensor<double>* of;
                const Tensor<double>* is;
                Pass pass;
                Inputs<double> inputs;  // of the pass that computed it, for noting the case
            };
            for (const Gradient& g : {Gradient{&x, &dx, Pass::backward_data, {{"w", w}, {"dy", dy}}},
                                      Gradient{&w, &dw, Pass::backward_weights, {{"x", x}, {"dy", dy}}}}) {
                note_case({Op::conv2d, g.pass, DType::f64, false, p, Fill::floats, seed}, variant.name(), g.inputs);
                const int64_t e = *rc::gen::inRange<int64_t>(0, g.of->size());
                const double keep = (*g.of)[e];
                (*g.of)[e] = keep + h;
                const double up = loss();
                (*g.of)[e] = keep - h;
                const double down = loss();
                (*g.of)[e] = keep;
                RC_ASSERT(std::fabs((up - down) / (2 * h) - (*g.is)[e]) <= tol);
            }
        });
    if (can(variant, Op::maxpool2d, Pass::forward, DType::f64) && can(variant, Op::maxpool2d, Pass::backward, DType::f64))
        run.check([&] {
            const PoolProblem p = *gen_pool_problem();
            for (Pass pass : {Pass::forward, Pass::backward})
                require_taken(variant, Op::maxpool2d, pass, DType::f64, as_conv_problem(p));
            const uint64_t seed = *rc::gen::inRange<uint64_t>(1, 1000);
            const AxisOrder act = axis_order(p.layout);
            auto x = filled<double>(act, p.x_dims(), seed, Fill::distinct);
            const auto dy = filled<double>(act, p.y_dims(), seed + 1, Fill::integers);
            Tensor<double> dx(act, p.x_dims()), y(act, p.y_dims());
            Tensor<int64_t> argmax(act, p.y_dims());
            calls::pool_backward(variant, p, x, dy, dx);
            auto loss = [&] {
                calls::pool_forward(variant, p, x, y, argmax);
                return dot(y, dy);
            };
            note_case({Op::maxpool2d, Pass::backward, DType::f64, false, as_conv_problem(p), Fill::distinct, seed}, variant.name(),
                      {{"x", x}, {"dy", dy}});
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

// Distinct nonzero integers (a shuffle of -n/2..-1, 1..n-n/2): a gradient sent to the
// wrong element or window, or dropped, changes a sum visibly, as it could not where dy = 0.
template <class T>
Tensor<T> distinct_nonzero(AxisOrder order, const Dims4& dims, uint64_t seed) {
    Tensor<T> t(order, dims);
    fill(t, Fill::distinct, seed);
    for (T& v : t.values())
        if (v >= 0) v += 1;
    return t;
}

// Tie-heavy x with -inf in every element of the even channels and in half of the others'
// (where the tie value is 0 or 1): windows of -inf only, at the edges and inside, and -inf
// beside finite values.
template <class T>
Tensor<T> with_minus_infinity(Tensor<T> x) {
    const Dims4 d = x.dims();
    for (int64_t n = 0; n < d[0]; ++n)
        for (int64_t c = 0; c < d[1]; ++c)
            for (int64_t h = 0; h < d[2]; ++h)
                for (int64_t w = 0; w < d[3]; ++w)
                    if (c % 2 == 0 || x.at(n, c, h, w) < 2) x.at(n, c, h, w) = -std::numeric_limits<T>::infinity();
    return x;
}

// Where tap `tap` (i*kw + j) of window (oh, ow) falls in x, and whether it is inside x.
struct Tap {
    int64_t h, w;
    bool inside;
};
Tap tap_of(const PoolProblem& p, int64_t oh, int64_t ow, int64_t tap) {
    const int64_t h = oh * p.sh - p.pt + tap / p.kw * p.dh, w = ow * p.sw - p.pl + tap % p.kw * p.dw;
    return {h, w, h >= 0 && h < p.ih && w >= 0 && w < p.iw};
}

// e. Max-pooling facts, checked against x itself rather than against naive: the chosen
//    element is in the window and never padding, nothing in the window is larger, nothing
//    before it is as large (ties go to the first maximum), a window of -inf chooses its
//    first element of x, and dx receives each dy at the chosen element and nowhere else,
//    so sum(dx) = sum(dy).
template <class T>
void pool_facts_case(const Variant& v, const CheckSpec& forward, const Tensor<T>& x) {
    const PoolProblem p = pool_problem(forward.problem);
    CheckSpec backward = forward;
    backward.pass = Pass::backward;
    const AxisOrder act = axis_order(p.layout);
    const auto dy = distinct_nonzero<T>(act, p.y_dims(), role_seed(forward.seed, "dy"));
    Tensor<T> y(act, p.y_dims()), dx(act, p.x_dims());
    Tensor<int64_t> argmax(act, p.y_dims());
    const Tensor<double> x_d = x.template cast<double>();
    note_case(forward, v.name(), {{"x", x_d}});
    calls::pool_forward(v, p, x, y, argmax);
    Tensor<double> received(act, p.x_dims());
    for (int64_t n = 0; n < p.mb; ++n)
        for (int64_t c = 0; c < p.ic; ++c)
            for (int64_t oh = 0; oh < p.oh(); ++oh)
                for (int64_t ow = 0; ow < p.ow(); ++ow) {
                    const int64_t a = argmax.at(n, c, oh, ow);
                    const T chosen = y.at(n, c, oh, ow);
                    RC_ASSERT(a >= 0 && a < p.kh * p.kw);
                    const Tap at = tap_of(p, oh, ow, a);
                    RC_ASSERT(at.inside);  // never padding
                    RC_ASSERT(chosen == x.at(n, c, at.h, at.w));
                    int64_t first_in_x = -1;
                    for (int64_t tap = 0; tap < p.kh * p.kw && first_in_x < 0; ++tap)
                        if (tap_of(p, oh, ow, tap).inside) first_in_x = tap;
                    // A window of -inf chooses its first element of x.
                    if (chosen == -std::numeric_limits<T>::infinity()) RC_ASSERT(a == first_in_x);
                    for (int64_t tap = 0; tap < p.kh * p.kw; ++tap) {
                        const Tap t = tap_of(p, oh, ow, tap);
                        if (!t.inside) continue;
                        RC_ASSERT(x.at(n, c, t.h, t.w) <= chosen);
                        if (tap < a) RC_ASSERT(x.at(n, c, t.h, t.w) < chosen);
                    }
                    received.at(n, c, at.h, at.w) += double(dy.at(n, c, oh, ow));
                }
    note_case(backward, v.name(), {{"x", x_d}, {"dy", dy.template cast<double>()}});
    calls::pool_backward(v, p, x, dy, dx);
    // |dy| <= n (y's size), at most kh*kw windows per element: every sum is exact.
    const Tensor<double> dx_d = dx.template cast<double>();
    RC_ASSERT(std::equal(dx_d.values().begin(), dx_d.values().end(), received.values().begin()));
    RC_ASSERT(std::accumulate(dx.values().begin(), dx.values().end(), 0.0) ==
              std::accumulate(dy.values().begin(), dy.values().end(), 0.0));
}

template <class T>
void pool_nan_case(const Variant& v, const CheckSpec& s) {
    const PoolProblem p = pool_problem(s.problem);
    const AxisOrder act = axis_order(p.layout);
    const auto x = pool_input<T>(s, p.x_dims(), "x");
    Tensor<T> y(act, p.y_dims());
    Tensor<int64_t> argmax(act, p.y_dims());
    note_case(s, v.name());
    calls::pool_forward(v, p, x, y, argmax);
    for (int64_t n = 0; n < p.mb; ++n)
        for (int64_t c = 0; c < p.ic; ++c)
            for (int64_t oh = 0; oh < p.oh(); ++oh)
                for (int64_t ow = 0; ow < p.ow(); ++ow) {
                    int64_t first_nan = -1;
                    for (int64_t tap = 0; tap < p.kh * p.kw && first_nan < 0; ++tap) {
                        const Tap t = tap_of(p, oh, ow, tap);
                        if (t.inside && std::isnan(x.at(n, c, t.h, t.w))) first_nan = tap;
                    }
                    if (first_nan < 0) continue;
                    RC_ASSERT(std::isnan(y.at(n, c, oh, ow)));
                    RC_ASSERT(argmax.at(n, c, oh, ow) == first_nan);
                }
}

PropertyOutcome max_pool_facts(const Variant& variant) {
    PropertyRun run("max_pool_facts");
    auto facts = [&](DType t, bool minus_infinity) {
        run.check([&, t, minus_infinity] {
            const CheckSpec s = *gen_check(Op::maxpool2d, Pass::forward, false, t, Fill::ties);
            for (Pass pass : {Pass::forward, Pass::backward})
                require_taken(variant, Op::maxpool2d, pass, t, s.problem, minus_infinity);
            const PoolProblem p = pool_problem(s.problem);
            if (t == DType::f32) {
                const auto x = pool_input<float>(s, p.x_dims(), "x");
                pool_facts_case<float>(variant, s, minus_infinity ? with_minus_infinity(x) : x);
            } else {
                const auto x = pool_input<double>(s, p.x_dims(), "x");
                pool_facts_case<double>(variant, s, minus_infinity ? with_minus_infinity(x) : x);
            }
        });
    };
    auto runs = [&](DType t, bool nan_data) {
        return can(variant, Op::maxpool2d, Pass::forward, t, nan_data) &&
               can(variant, Op::maxpool2d, Pass::backward, t, nan_data);
    };
    for (DType t : {DType::f32, DType::f64})
        if (runs(t, false)) facts(t, false);
    // The same facts where x holds -inf: windows of -inf choose their first element of x.
    for (DType t : {DType::f32, DType::f64})
        if (runs(t, true)) facts(t, true);
    // A NaN in a window makes the output NaN, and the first NaN is chosen.
    for (DType t : {DType::f32, DType::f64}) {
        if (!can(variant, Op::maxpool2d, Pass::forward, t, true)) continue;
        run.check([&] {
            const CheckSpec s = *gen_check(Op::maxpool2d, Pass::forward, false, t, Fill::special);
            require_taken(variant, Op::maxpool2d, Pass::forward, t, s.problem, true);
            t == DType::f32 ? pool_nan_case<float>(variant, s) : pool_nan_case<double>(variant, s);
        });
    }
    return run.result();
}

// f. Every entry point rejects an invalid problem naming the field, and a tensor whose
//    extents or axis order disagree with the problem naming the tensor, before computing.

// A spoilt problem: `field` is what the entry point must name. pool: the problem is
// invalid for pooling only (a window that covers no element of x); conv: for conv2d only.
// not_pool: for every op but the poolings; max, avg: for that pooling only.
struct Spoil {
    const char* field;
    const char* how;
    enum { every_op, pool, conv, not_pool, max, avg } applies;
    void (*apply)(ConvProblem&);
    bool applies_to(Op op) const {
        const bool pooling = op == Op::maxpool2d || op == Op::avgpool2d;
        switch (applies) {
            case every_op: return true;
            case pool: return pooling;
            case conv: return op == Op::conv2d;
            case not_pool: return !pooling;
            case max: return op == Op::maxpool2d;
            case avg: return op == Op::avgpool2d;
        }
        return false;
    }
};
const Spoil kSpoils[] = {
    {"mb", "mb = 0", Spoil::every_op, [](ConvProblem& p) { p.mb = 0; }},
    {"ic", "ic = 0", Spoil::every_op, [](ConvProblem& p) { p.ic = 0; }},
    {"ih", "ih = 0", Spoil::every_op, [](ConvProblem& p) { p.ih = 0; }},
    {"sh", "sh = 0", Spoil::every_op, [](ConvProblem& p) { p.sh = 0; }},
    {"sw", "sw = -1", Spoil::every_op, [](ConvProblem& p) { p.sw = -1; }},
    {"dh", "dh = 0", Spoil::every_op, [](ConvProblem& p) { p.dh = 0; }},
    {"dw", "dw = 0", Spoil::every_op, [](ConvProblem& p) { p.dw = 0; }},
    {"pt", "pt = -1", Spoil::every_op, [](ConvProblem& p) { p.pt = -1; }},
    {"pr", "pr = -2", Spoil::every_op, [](ConvProblem& p) { p.pr = -2; }},
    {"kh", "kh one past the padded input", Spoil::every_op, [](ConvProblem& p) { p.kh = p.ih + p.pt + p.pb + 1; }},
    {"kw", "kw one past the padded input", Spoil::every_op, [](ConvProblem& p) { p.kw = p.iw + p.pl + p.pr + 1; }},
    {"oc", "oc = 0", Spoil::conv, [](ConvProblem& p) { p.oc = 0; }},
    // Groups (contract 1.1): below 1, not dividing ic (ic + 1 never does). The other ops'
    // problems (PoolProblem, WindowProblem) have no groups to spoil; a Call refuses them
    // (validate_problem, CallTest.GroupsAreConvolutionsAlone).
    {"g", "g = 0", Spoil::conv, [](ConvProblem& p) { p.g = 0; }},
    {"g", "g = ic + 1", Spoil::conv, [](ConvProblem& p) { p.g = p.ic + 1; }},

    {"pt", "pt = the window's extent (the first window all padding)", Spoil::pool,
     [](ConvProblem& p) { p.pt = p.kh_extent(); }},
    {"pb", "pb one past the last that leaves the last window in x", Spoil::pool,
     [](ConvProblem& p) { p.pb = max_pool_pad_hi(p.ih, p.kh_extent(), p.sh, p.pt) + 1; }},
    {"pl", "pl = the window's extent (the first window all padding)", Spoil::pool,
     [](ConvProblem& p) { p.pl = p.kw_extent(); }},
    {"pr", "pr one past the last that leaves the last window in x", Spoil::pool,
     [](ConvProblem& p) { p.pr = max_pool_pad_hi(p.iw, p.kw_extent(), p.sw, p.pl) + 1; }},
    // Version 1.1's pooling fields, on the ops they do not belong to.
    {"ceil_mode", "ceil mode", Spoil::not_pool, [](ConvProblem& p) { p.ceil_mode = true; }},
    {"alg", "an average pooling's alg", Spoil::not_pool, [](ConvProblem& p) { p.alg = PoolAlg::avg_p; }},
    {"alg", "alg avg_np", Spoil::max, [](ConvProblem& p) { p.alg = PoolAlg::avg_np; }},
    {"alg", "alg max", Spoil::avg, [](ConvProblem& p) { p.alg = PoolAlg::max; }},
};

// The tensors of every entry point, shaped for one problem whose oc is ic (so that conv's
// and pooling's y and dy are one shape).
template <class T>
struct Arguments {
    explicit Arguments(const ConvProblem& p) : argmax(axis_order(p.layout), p.y_dims()) {
        const AxisOrder act = axis_order(p.layout), wei = axis_order(p.weights_layout);
        const auto cd = p.col_dims();
        for (const char* name : {"x", "dx"}) tensors.emplace(name, Tensor<T>(act, p.x_dims()));
        for (const char* name : {"y", "dy"}) tensors.emplace(name, Tensor<T>(act, p.y_dims()));
        for (const char* name : {"w", "dw"}) tensors.emplace(name, Tensor<T>(wei, p.w_dims()));
        for (const char* name : {"b", "db"}) tensors.emplace(name, Tensor<T>({p.oc}));
        tensors.emplace("col", Tensor<T>({cd[0], cd[1]}));
    }
    Tensor<T>& operator[](const char* name) { return tensors.at(name); }
    std::map<std::string, Tensor<T>, std::less<>> tensors;
    Tensor<int64_t> argmax;
};

// The names of the tensors a direction's entry point takes (argmax among them for pooling).
std::vector<std::string> tensors_of(const Direction& d) {
    const Signature& sig = signature(d.op, d.pass);
    std::vector<std::string> names(sig.inputs.begin(), sig.inputs.end());
    names.insert(names.end(), sig.outputs.begin(), sig.outputs.end());
    if (d.bias) names.push_back(d.pass == Pass::forward ? "b" : "db");
    if (d.op == Op::maxpool2d && d.pass == Pass::forward) names.push_back("argmax");
    return names;
}

// Calls the entry point of `d` with problem q and the arguments a.
template <class T>
void call(const Variant& v, const Direction& d, const ConvProblem& q, Arguments<T>& a) {
    switch (d.op) {
        case Op::conv2d:
            if (d.pass == Pass::forward) return calls::conv_forward(v, q, a["x"], a["w"], d.bias ? &a["b"] : nullptr, a["y"]);
            if (d.pass == Pass::backward_data) return calls::conv_backward_data(v, q, a["w"], a["dy"], a["dx"]);
            return calls::conv_backward_weights(v, q, a["x"], a["dy"], a["dw"], d.bias ? &a["db"] : nullptr);
        case Op::maxpool2d:
            if (d.pass == Pass::forward) return calls::pool_forward(v, pool_problem(q), a["x"], a["y"], a.argmax);
            return calls::pool_backward(v, pool_problem(q), a["x"], a["dy"], a["dx"]);
        case Op::avgpool2d:
            if (d.pass == Pass::forward) return calls::avg_forward(v, pool_problem(q), a["x"], a["y"]);
            return calls::avg_backward(v, pool_problem(q), a["dy"], a["dx"]);
        case Op::im2col: return calls::im2col(v, q, a["x"], a["col"]);
        case Op::col2im: return calls::col2im(v, q, a["col"], a["x"]);
    }
}

// The field the entry point's error names, or "(accepted)".
template <class T>
std::string named_by(const Variant& v, const Direction& d, const ConvProblem& q, Arguments<T>& a) {
    try {
        call(v, d, q, a);
    } catch (const ProblemError& e) {
        return e.field();
    }
    return "(accepted)";
}

// A tensor like t with one more element along its last axis, or in the other axis order
// of its kind (NCHW and NHWC, OIHW and HWIO); shape() and dims() name both the same.
template <class T>
Tensor<T> wider(const Tensor<T>& t) {
    std::vector<int64_t> shape = t.shape();
    shape.back() += 1;
    if (t.order() == AxisOrder::plain) return Tensor<T>(shape);
    Dims4 dims = t.dims();
    dims[3] += 1;
    return Tensor<T>(t.order(), dims);
}
template <class T>
Tensor<T> reordered(const Tensor<T>& t) {
    const AxisOrder other = t.order() == AxisOrder::nchw   ? AxisOrder::nhwc
                            : t.order() == AxisOrder::nhwc ? AxisOrder::nchw
                            : t.order() == AxisOrder::oihw ? AxisOrder::hwio
                                                           : AxisOrder::oihw;
    return Tensor<T>(other, t.dims());
}

template <class T>
void rejects_everything_invalid(const Variant& v, const ConvProblem& good) {
    const auto fail = [](const Direction& d, const std::string& what, const std::string& field,
                         const std::string& named) {
        RC_FAIL(std::string(to_string(d.op)) + " " + d.name + " given " + what + ": " +
                (named == "(accepted)" ? "accepted it" : "named " + named) + ", expected an error naming " + field);
    };
    Arguments<T> args(good);
    for (const Direction& d : all_directions()) {
        if (!can(v, d.op, d.pass, dtype_of<T>::value)) continue;
        // avgpool2d's good problem is an average pooling (the tensors are the same).
        ConvProblem good_d = good;
        if (d.op == Op::avgpool2d) good_d.alg = PoolAlg::avg_np;
        // Tensors shaped for the good problem: the problem itself must be what is rejected.
        for (const Spoil& s : kSpoils) {
            if (!s.applies_to(d.op)) continue;
            ConvProblem bad = good_d;
            s.apply(bad);
            const std::string named = named_by(v, d, bad, args);
            if (named != s.field) fail(d, s.how, s.field, named);
        }
        // The good problem, one tensor wrong.
        for (const std::string& name : tensors_of(d)) {
            if (name == "argmax") {
                const Tensor<int64_t> keep = args.argmax;
                for (Tensor<int64_t> bad : {wider(keep), reordered(keep)}) {
                    args.argmax = std::move(bad);
                    const std::string named = named_by(v, d, good_d, args);
                    args.argmax = keep;
                    if (named != name) fail(d, "a wrong argmax", name, named);
                }
                continue;
            }
            Tensor<T>& slot = args.tensors.at(name);
            const Tensor<T> keep = slot;
            std::vector<std::pair<std::string, Tensor<T>>> bad{{"one more element per row", wider(keep)}};
            if (keep.order() != AxisOrder::plain) bad.push_back({"the other axis order", reordered(keep)});
            for (auto& [how, t] : bad) {
                slot = std::move(t);
                const std::string named = named_by(v, d, good_d, args);
                slot = keep;
                if (named != name) fail(d, name + " with " + how, name, named);
            }
        }
    }
}

PropertyOutcome rejects_invalid_problems_naming_the_field(const Variant& variant) {
    PropertyRun run("rejects_invalid_problems_naming_the_field");
    run.check([&] {
        const ConvProblem good = *gen_problem_for_every_op();
        rejects_everything_invalid<float>(variant, good);
        rejects_everything_invalid<double>(variant, good);
    }, 25);  // each case tries every entry point with every spoilt problem and tensor
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
