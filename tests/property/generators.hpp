// rapidcheck generators for valid problems, built by construction: every draw depends on
// the ones before it so that the result is valid without retries (no suchThat), and
// shrinking stays inside the valid space. Ranges are issue 6's: N 1..4, C and K 1..16,
// H and W 1..20, kernel 1..7 (rectangular), stride 1..4 per axis, asymmetric pads,
// dilation 1..3, both layouts and weights layouts.
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <ostream>

#include "impl/core/descriptor.hpp"
#include "impl/core/problem.hpp"
#include "reference/conformance.hpp"

namespace convconf::property {

// One spatial axis: input extent, kernel, stride, pads, dilation.
struct Axis {
    int64_t in, k, s, pad_lo, pad_hi, d;
};

// Draws kernel, dilation and stride, then pads below the window's extent (a wider pad
// only adds windows of pure padding), then an input extent at least the padded window
// needs. For pooling the input is also at least the dilation, so that no window's taps
// can skip over the whole input: with pads below the extent, every window then covers
// an element of x.
inline rc::Gen<Axis> gen_axis(bool pool) {
    return rc::gen::mapcat(
        rc::gen::tuple(rc::gen::inRange<int64_t>(1, 8), rc::gen::inRange<int64_t>(1, 4),
                       rc::gen::inRange<int64_t>(1, 5)),
        [pool](const std::tuple<int64_t, int64_t, int64_t>& kds) {
            const auto [k, d, s] = kds;
            const int64_t extent = d * (k - 1) + 1;
            return rc::gen::mapcat(
                rc::gen::tuple(rc::gen::inRange<int64_t>(0, extent), rc::gen::inRange<int64_t>(0, extent)),
                [=](const std::tuple<int64_t, int64_t>& pads) {
                    const auto [lo, hi] = pads;
                    int64_t least = std::max<int64_t>(1, extent - lo - hi);
                    if (pool) least = std::max(least, d);
                    return rc::gen::map(rc::gen::inRange<int64_t>(least, 21),
                                        [=](int64_t in) { return Axis{in, k, s, lo, hi, d}; });
                });
        });
}

inline rc::Gen<ConvProblem> gen_conv_problem() {
    return rc::gen::map(
        rc::gen::tuple(rc::gen::inRange<int64_t>(1, 5), rc::gen::inRange<int64_t>(1, 17),
                       rc::gen::inRange<int64_t>(1, 17), gen_axis(false), gen_axis(false),
                       rc::gen::element(Layout::nchw, Layout::nhwc),
                       rc::gen::element(WeightsLayout::oihw, WeightsLayout::hwio)),
        [](const auto& t) {
            const auto& [mb, ic, oc, h, w, layout, wl] = t;
            ConvProblem p;
            p.mb = mb, p.ic = ic, p.oc = oc;
            p.ih = h.in, p.kh = h.k, p.sh = h.s, p.pt = h.pad_lo, p.pb = h.pad_hi, p.dh = h.d;
            p.iw = w.in, p.kw = w.k, p.sw = w.s, p.pl = w.pad_lo, p.pr = w.pad_hi, p.dw = w.d;
            p.layout = layout, p.weights_layout = wl;
            return p;
        });
}

inline rc::Gen<PoolProblem> gen_pool_problem() {
    return rc::gen::map(
        rc::gen::tuple(rc::gen::inRange<int64_t>(1, 5), rc::gen::inRange<int64_t>(1, 17),
                       gen_axis(true), gen_axis(true), rc::gen::element(Layout::nchw, Layout::nhwc)),
        [](const auto& t) {
            const auto& [mb, ic, h, w, layout] = t;
            PoolProblem p;
            p.mb = mb, p.ic = ic;
            p.ih = h.in, p.kh = h.k, p.sh = h.s, p.pt = h.pad_lo, p.pb = h.pad_hi, p.dh = h.d;
            p.iw = w.in, p.kw = w.k, p.sw = w.s, p.pl = w.pad_lo, p.pr = w.pad_hi, p.dw = w.d;
            p.layout = layout;
            return p;
        });
}

// A check of one op and pass on a generated problem, with a data seed drawn too so that
// shrinking can also look for simpler data.
inline rc::Gen<CheckSpec> gen_check(Op op, Pass pass, bool bias, DType dtype, Fill fill) {
    auto problem = op == Op::maxpool2d
                       ? rc::gen::map(gen_pool_problem(),
                                      [](const PoolProblem& pp) {
                                          ConvProblem p;
                                          static_cast<WindowProblem&>(p) = pp;
                                          return p;
                                      })
                       : gen_conv_problem();
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
