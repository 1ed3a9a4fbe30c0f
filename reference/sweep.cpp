#include "reference/sweep.hpp"

#include <algorithm>
#include <numeric>

#include "reference/data.hpp"

namespace convconf {
namespace {

struct Axis {
    int64_t in, k, s, lo, hi, d;
};

Axis draw_axis(Random& r, bool pool) {
    Axis a{};
    a.k = r.integer(1, 5);
    a.d = r.integer(1, 2);
    a.s = r.integer(1, 3);
    const int64_t extent = a.d * (a.k - 1) + 1;
    a.lo = r.integer(0, extent - 1);
    a.hi = r.integer(0, extent - 1);
    int64_t least = std::max<int64_t>(1, extent - a.lo - a.hi);
    if (pool) least = std::max(least, a.d);
    a.in = r.integer(least, std::max<int64_t>(least, 12));
    return a;
}

// Check i's generator: it depends on (seed, i) only. Its first draw is the direction.
Random check_random(uint64_t seed, int64_t index) { return Random(role_seed(seed, "sweep") + uint64_t(index)); }

const Direction& draw_direction(Random& r) {
    const auto& directions = all_directions();
    return directions[size_t(r.integer(0, int64_t(directions.size()) - 1))];
}

}  // namespace

Op sweep_op(uint64_t seed, int64_t index) {
    Random r = check_random(seed, index);
    return draw_direction(r).op;
}

CheckSpec sweep_check(uint64_t seed, int64_t index) {
    Random r = check_random(seed, index);
    const Direction& d = draw_direction(r);
    const bool pool = d.geometry == Geometry::pool;
    CheckSpec s;
    s.op = d.op, s.pass = d.pass, s.bias = d.bias;
    s.dtype = r.integer(0, 1) ? DType::f64 : DType::f32;
    ConvProblem& p = s.problem;
    p.mb = r.integer(1, 3), p.ic = r.integer(1, 8), p.oc = r.integer(1, 8);
    const Axis h = draw_axis(r, pool), w = draw_axis(r, pool);
    p.ih = h.in, p.kh = h.k, p.sh = h.s, p.pt = h.lo, p.pb = h.hi, p.dh = h.d;
    p.iw = w.in, p.kw = w.k, p.sw = w.s, p.pl = w.lo, p.pr = w.hi, p.dw = w.d;
    p.layout = r.integer(0, 1) ? Layout::nhwc : Layout::nchw;
    p.weights_layout = r.integer(0, 1) ? WeightsLayout::hwio : WeightsLayout::oihw;
    static constexpr Fill kPoolFills[] = {Fill::ties, Fill::negative, Fill::floats, Fill::special};
    const bool max_pool = d.op == Op::maxpool2d;
    s.fill = max_pool ? kPoolFills[r.integer(0, 3)] : (r.integer(0, 1) ? Fill::floats : Fill::integers);
    s.seed = r.integer(1, 1000000);
    // Drawn last, so that the other draws keep their order: a pooling in ceil mode one time in
    // three, average pooling's divisor rule.
    if (pool) p.ceil_mode = r.integer(0, 2) == 0;
    if (d.op == Op::avgpool2d) p.alg = r.integer(0, 1) ? PoolAlg::avg_p : PoolAlg::avg_np;
    // Groups, one convolution in four each: as many as ic and oc have in common (ic/g and
    // oc/g differ where ic and oc do), or depthwise with a channel multiplier of 1 or 2.
    if (d.op == Op::conv2d) {
        const int64_t grouping = r.integer(0, 3);
        if (grouping == 2) p.g = std::gcd(p.ic, p.oc);
        if (grouping == 3) p.g = p.ic, p.oc = p.ic * r.integer(1, 2);
    }
    return s;
}

std::vector<CheckSpec> sweep_plan(uint64_t seed, int64_t count) {
    std::vector<CheckSpec> plan;
    for (int64_t i = 0; i < count; ++i) plan.push_back(sweep_check(seed, i));
    return plan;
}

}  // namespace convconf
