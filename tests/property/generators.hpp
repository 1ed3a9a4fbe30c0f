// rapidcheck generators for valid problems, built by construction: every draw depends on
// the ones before it so that the result is valid without retries (no suchThat), and
// shrinking stays inside the valid space. Ranges are issue 6's: N 1..4, C and K 1..16,
// H and W 1..20, kernel 1..7 (rectangular), stride 1..4 per axis, asymmetric pads (up to
// the window's extent and, for pooling, as far as every window still covers x), dilation
// 1..3, both layouts and weights layouts.
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <numeric>
#include <ostream>

#include "impl/core/descriptor.hpp"
#include "impl/core/problem.hpp"
#include "reference/conformance.hpp"

namespace convconf::property {

// One spatial axis: input extent, kernel, stride, pads, dilation.
struct Axis {
    int64_t in, k, s, pad_lo, pad_hi, d;
};

// The largest high pad a pooling axis can have with every window covering an element of x,
// given the rest of the axis. The last window starts at -lo + s*floor((in+lo+hi-extent)/s)
// and must start before `in` (a window starting inside x covers its first tap). With
// r = (in-1+lo) mod s that allows hi up to extent-1 + (s-1-r): a stride that leaves room
// takes the pad past the window's extent.
inline int64_t max_pool_pad_hi(int64_t in, int64_t extent, int64_t s, int64_t lo) {
    return extent - 1 + (s - 1 - (in - 1 + lo) % s);
}

// Draws kernel, dilation and stride, then the low pad, the input extent and the high pad,
// each from the range the draws before it leave valid, so no draw is retried:
// - convolution: pads 0..extent (a pad of the whole extent gives windows of pure padding,
//   which a convolution allows: they output the bias), the input 1..20, and the high pad
//   at least what the window needs to fit (extent - in - lo);
// - pooling: every window must cover an element of x. The first window covers -lo ..
//   -lo+extent-1, so lo < extent; the input is at least the dilation, so that no window's
//   taps can skip over it (a window reaching x from the low pad then has a tap in
//   0..d-1); the high pad is at most max_pool_pad_hi, so the last window starts inside x.
inline rc::Gen<Axis> gen_axis(bool pool) {
    return rc::gen::mapcat(
        rc::gen::tuple(rc::gen::inRange<int64_t>(1, 8), rc::gen::inRange<int64_t>(1, 4),
                       rc::gen::inRange<int64_t>(1, 5)),
        [pool](const std::tuple<int64_t, int64_t, int64_t>& kds) {
            const auto [k, d, s] = kds;
            const int64_t extent = d * (k - 1) + 1;
            const int64_t max_lo = pool ? extent - 1 : extent;
            return rc::gen::mapcat(
                rc::gen::tuple(rc::gen::inRange<int64_t>(0, max_lo + 1), rc::gen::inRange<int64_t>(pool ? d : 1, 21)),
                [=](const std::tuple<int64_t, int64_t>& lo_in) {
                    const auto [lo, in] = lo_in;
                    const int64_t least = std::max<int64_t>(0, extent - in - lo);
                    const int64_t most = pool ? max_pool_pad_hi(in, extent, s, lo) : extent;
                    return rc::gen::map(rc::gen::inRange<int64_t>(least, most + 1),
                                        [=](int64_t hi) { return Axis{in, k, s, lo, hi, d}; });
                });
        });
}

// Groups (contract 1.1) by construction, from the grouping draw: 0 and 1 none, 2 as many
// groups as ic and oc have in common (so ic/g and oc/g differ where ic and oc do), 3
// depthwise (g = ic) with oc = ic times a multiplier of 1 or 2. Shrinking goes toward no
// groups, so a counterexample keeps them only when it needs them.
inline rc::Gen<ConvProblem> gen_conv_problem() {
    return rc::gen::map(
        rc::gen::tuple(rc::gen::inRange<int64_t>(1, 5), rc::gen::inRange<int64_t>(1, 17),
                       rc::gen::inRange<int64_t>(1, 17), gen_axis(false), gen_axis(false),
                       rc::gen::element(Layout::nchw, Layout::nhwc),
                       rc::gen::element(WeightsLayout::oihw, WeightsLayout::hwio), rc::gen::inRange(0, 4)),
        [](const auto& t) {
            const auto& [mb, ic, oc, h, w, layout, wl, grouping] = t;
            ConvProblem p;
            p.mb = mb, p.ic = ic, p.oc = oc;
            if (grouping == 2) p.g = std::gcd(ic, oc);
            if (grouping == 3) p.g = ic, p.oc = ic * (1 + oc % 2);
            p.ih = h.in, p.kh = h.k, p.sh = h.s, p.pt = h.pad_lo, p.pb = h.pad_hi, p.dh = h.d;
            p.iw = w.in, p.kw = w.k, p.sw = w.s, p.pl = w.pad_lo, p.pr = w.pad_hi, p.dw = w.d;
            p.layout = layout, p.weights_layout = wl;
            return p;
        });
}

// A pooling problem of algorithm alg, in floor or ceil mode. Ceil mode keeps every axis
// gen_axis gives valid: its last window still starts inside x (its drop rule), and it only
// adds windows whose extra taps lie past the padded input.
inline rc::Gen<PoolProblem> gen_pool_problem(PoolAlg alg = PoolAlg::max) {
    return rc::gen::map(
        rc::gen::tuple(rc::gen::inRange<int64_t>(1, 5), rc::gen::inRange<int64_t>(1, 17),
                       gen_axis(true), gen_axis(true), rc::gen::element(Layout::nchw, Layout::nhwc),
                       rc::gen::inRange(0, 4)),
        [alg](const auto& t) {
            const auto& [mb, ic, h, w, layout, ceil_draw] = t;
            const bool ceil_mode = ceil_draw == 0;  // one in four: most implementations are floor mode's
            PoolProblem p;
            p.mb = mb, p.ic = ic;
            p.ih = h.in, p.kh = h.k, p.sh = h.s, p.pt = h.pad_lo, p.pb = h.pad_hi, p.dh = h.d;
            p.iw = w.in, p.kw = w.k, p.sw = w.s, p.pl = w.pad_lo, p.pr = w.pad_hi, p.dw = w.d;
            p.layout = layout;
            p.ceil_mode = ceil_mode;
            p.alg = alg;
            return p;
        });
}

// A problem valid for every op, conv2d, maxpool2d, im2col and col2im alike (pooling's
// rules are the strictest), with oc = ic so that conv's y has pooling's shape.
inline rc::Gen<ConvProblem> gen_problem_for_every_op() {
    return rc::gen::map(rc::gen::tuple(gen_pool_problem(), rc::gen::element(WeightsLayout::oihw, WeightsLayout::hwio)),
                        [](const std::tuple<PoolProblem, WeightsLayout>& t) {
                            ConvProblem p;
                            static_cast<WindowProblem&>(p) = std::get<0>(t);
                            p.ceil_mode = false;  // pooling's alone
                            p.oc = p.ic;
                            p.weights_layout = std::get<1>(t);
                            return p;
                        });
}

// A check of one op and pass on a generated problem, with a data seed drawn too so that
// shrinking can also look for simpler data.
inline rc::Gen<CheckSpec> gen_check(Op op, Pass pass, bool bias, DType dtype, Fill fill) {
    rc::Gen<ConvProblem> problem = gen_conv_problem();
    if (op == Op::im2col || op == Op::col2im)  // groups are conv2d's alone
        problem = rc::gen::map(gen_conv_problem(), [](ConvProblem p) {
            p.g = 1;
            return p;
        });
    if (op == Op::maxpool2d) problem = rc::gen::map(gen_pool_problem(), as_conv_problem);
    if (op == Op::avgpool2d)
        problem = rc::gen::mapcat(rc::gen::element(PoolAlg::avg_p, PoolAlg::avg_np),
                                  [](PoolAlg a) { return rc::gen::map(gen_pool_problem(a), as_conv_problem); });
    return rc::gen::map(rc::gen::tuple(problem, rc::gen::inRange<uint64_t>(1, 1000)),
                        [=](const std::tuple<ConvProblem, uint64_t>& t) {
                            return CheckSpec{op, pass, dtype, bias, std::get<0>(t), fill, std::get<1>(t)};
                        });
}

}  // namespace convconf::property

namespace convconf {
// Counterexamples read as problems: descriptor, layouts, op, dtype, data.
inline void showValue(const ConvProblem& p, std::ostream& os) {
    os << to_descriptor(p) << " " << to_string(p.layout) << "/" << to_string(p.weights_layout);
}
inline void showValue(const PoolProblem& p, std::ostream& os) {
    os << to_descriptor(p) << " " << to_string(p.layout);
}
inline void showValue(const CheckSpec& s, std::ostream& os) { os << check_name(s) << " seed " << s.seed; }
}  // namespace convconf
