// The comparison: exact mode, and bound mode failing when it should and passing when it
// should; the mismatch report naming everything a reader needs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "reference/registry.hpp"
#include "reference/compare.hpp"
#include "reference/data.hpp"
#include "reference/expected.hpp"

namespace convconf {
namespace {

ReportContext context() {
    ReportContext c;
    c.op = Op::conv2d;
    c.pass = Pass::forward;
    c.variant = "under_test";
    c.dtype = DType::f32;
    c.layout = "NHWC/HWIO";
    c.problem = "mb2ic3ih5oc4kh3ph1";
    c.output = "y";
    c.repro = "convconf check --variant under_test mb2ic3ih5oc4kh3ph1";
    return c;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A float-data convolution and its expected value: the setting bound mode exists for.
struct FloatConv {
    ConvProblem p;
    Tensor<float> x, w;
    Expected e;

    FloatConv() {
        p.mb = 2, p.ic = 16, p.ih = p.iw = 7, p.oc = 8, p.kh = p.kw = 3, p.pt = p.pl = p.pb = p.pr = 1;
        p.layout = Layout::nhwc, p.weights_layout = WeightsLayout::hwio;
        p.validate();
        x = Tensor<float>(AxisOrder::nhwc, p.x_dims());
        w = Tensor<float>(AxisOrder::hwio, p.w_dims());
        fill(x, Fill::floats, 11);
        fill(w, Fill::floats, 12);
        e = expect_conv_forward(p, x.cast<double>(), w.cast<double>(), nullptr);
    }
};

TEST(CompareExact, EqualPassesAndOneOffFailsWithIndex) {
    Tensor<double> want(AxisOrder::nchw, {1, 2, 2, 2});
    for (int64_t i = 0; i < want.size(); ++i) want[i] = double(i);
    Tensor<float> got = want.cast<float>();
    EXPECT_TRUE(compare(got, want, nullptr, context()).ok);

    got.at(0, 1, 1, 0) += 1;
    const Comparison c = compare(got, want, nullptr, context());
    EXPECT_FALSE(c.ok);
    EXPECT_EQ(c.bad, 1);
    EXPECT_TRUE(contains(c.report, "(n,c,h,w)=(0,1,1,0) got 7 want 6")) << c.report;
    EXPECT_TRUE(contains(c.report, "exact mode")) << c.report;
}

TEST(CompareBound, F32AccumulationInAnyOrderPasses) {
    FloatConv f;
    // An independent f32 implementation: accumulates in float, taps in reverse order.
    const ConvProblem& p = f.p;
    Tensor<float> y(AxisOrder::nhwc, p.y_dims());
    for (int64_t n = 0; n < p.mb; ++n)
        for (int64_t k = 0; k < p.oc; ++k)
            for (int64_t oh = 0; oh < p.oh(); ++oh)
                for (int64_t ow = 0; ow < p.ow(); ++ow) {
                    float acc = 0;
                    for (int64_t c = p.ic - 1; c >= 0; --c)
                        for (int64_t i = p.kh - 1; i >= 0; --i)
                            for (int64_t j = p.kw - 1; j >= 0; --j) {
                                const int64_t ih = oh - 1 + i, iw = ow - 1 + j;
                                if (ih < 0 || ih >= p.ih || iw < 0 || iw >= p.iw) continue;
                                acc += f.x.at(n, c, ih, iw) * f.w.at(k, c, i, j);
                            }
                    y.at(n, k, oh, ow) = acc;
                }
    const Tensor<double> bound = derived_bound(f.e, DType::f32);
    const Comparison c = compare(y, f.e.value, &bound, context());
    EXPECT_TRUE(c.ok) << c.report;
    EXPECT_GT(c.max_abs_error, 0.0) << "f32 accumulation should round somewhere";
}

TEST(CompareBound, ErrorJustInsideBoundPassesJustOutsideFails) {
    FloatConv f;
    const Tensor<double> bound = derived_bound(f.e, DType::f64);
    Tensor<double> got = f.e.value;
    const int64_t at = 5;
    ASSERT_GT(bound[at], 0.0);
    got[at] = f.e.value[at] + 0.5 * bound[at];
    EXPECT_TRUE(compare(got, f.e.value, &bound, context()).ok);
    got[at] = f.e.value[at] + 2.0 * bound[at];
    const Comparison c = compare(got, f.e.value, &bound, context());
    EXPECT_FALSE(c.ok);
    EXPECT_EQ(c.bad, 1);
    EXPECT_TRUE(contains(c.report, "bound")) << c.report;
}

TEST(CompareBound, BoundIsTightEnoughToCatchADroppedTerm) {
    // Dropping one x*w term (a wrong bounds check, say) must not hide inside the bound.
    FloatConv f;
    const Tensor<double> bound = derived_bound(f.e, DType::f32);
    Tensor<float> got = f.e.value.cast<float>();
    const float dropped = f.x.at(0, 0, 0, 0) * f.w.at(0, 0, 1, 1);  // y(0,0,0,0)'s centre tap
    got.at(0, 0, 0, 0) -= dropped;
    ASSERT_GT(std::fabs(dropped), 1e-3f);
    EXPECT_FALSE(compare(got, f.e.value, &bound, context()).ok);
}

TEST(CompareBound, GammaFollowsItsDefinition) {
    EXPECT_DOUBLE_EQ(gamma(10, 0x1p-24), 10 * 0x1p-24 / (1 - 10 * 0x1p-24));
    EXPECT_TRUE(std::isinf(gamma(int64_t{1} << 24, 0x1p-24)));  // n*u >= 1: no bound
}

TEST(CompareNonFinite, NaNAndInfinitiesFollowTheContract) {
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    Tensor<double> want({4});
    want[0] = nan, want[1] = inf, want[2] = -inf, want[3] = 1;
    Tensor<double> got = want;
    EXPECT_TRUE(compare(got, want, nullptr, context()).ok) << "NaN expected, NaN got";
    got[1] = -inf;
    EXPECT_FALSE(compare(got, want, nullptr, context()).ok);
    got = want;
    got[0] = 0;
    EXPECT_FALSE(compare(got, want, nullptr, context()).ok) << "a number where NaN was expected";
    got = want;
    got[3] = nan;  // an element left poisoned
    Tensor<double> huge({4}, std::numeric_limits<double>::max());
    const Comparison c = compare(got, want, &huge, context());
    EXPECT_FALSE(c.ok) << "NaN must fail whatever the bound";
    EXPECT_TRUE(contains(c.report, "unwritten")) << c.report;
}

TEST(CompareReport, NamesEverythingAndEndsWithRepro) {
    Tensor<double> want(AxisOrder::nhwc, {1, 3, 2, 2}, 1.0);
    Tensor<double> got = want;
    for (int64_t i = 0; i < got.size(); ++i) got[i] = 9;
    const Comparison c = compare(got, want, nullptr, context(), 3);
    for (const char* part : {"conv2d", "forward", "under_test", "f32", "NHWC/HWIO", "output y",
                             "mb2ic3ih5oc4kh3ph1", "12 of 12 elements wrong", "first 3",
                             "repro: convconf check --variant under_test"})
        EXPECT_TRUE(contains(c.report, part)) << "missing \"" << part << "\" in\n" << c.report;
    // NHWC storage, logical index in the report: flat 1 is (n,h,w,c) = (0,0,0,1).
    EXPECT_TRUE(contains(c.report, "(n,c,h,w)=(0,1,0,0)")) << c.report;
}

TEST(CompareShape, ShapeMismatchFails) {
    Tensor<double> want(AxisOrder::nchw, {1, 1, 2, 2});
    Tensor<double> got(AxisOrder::nchw, {1, 1, 2, 3});
    const Comparison c = compare(got, want, nullptr, context());
    EXPECT_FALSE(c.ok);
    EXPECT_TRUE(contains(c.report, "output shape")) << c.report;
}

// ---- Every figure of a mismatch report, on hand-placed errors ---------------------------
//
// Twelve elements of logical extents (n,c,h,w) = (2,2,1,3) stored NHWC, so storage element
// e is (n, c, 0, w) with e = (n*3 + w)*2 + c and the report's order (storage) differs from
// the logical one. Placed by hand:
//    e  (n,c,h,w)  want   got   bound  verdict        |got-want|  relative
//    0  (0,0,0,0)  4      4     0.5    ok             0           0
//    1  (0,1,0,0)  2      3     0.5    wrong 1        1           0.5
//    2  (0,0,0,1)  0.25   0     0.5    ok             0.25        1     <- largest relative
//    3  (0,1,0,1)  -8     -10   0.5    wrong 2        2           0.25
//    4  (0,0,0,2)  1      nan   0.5    wrong 3        (not finite: in no figure)
//    5  (0,1,0,2)  0      g5    0.5    wrong 4        g5          (want 0: no relative)
//    6  (1,0,0,0)  nan    nan   0.5    ok             (NaN expected, NaN got)
//    7  (1,1,0,0)  inf    inf   0.5    ok             (the same infinity)
//    8  (1,0,0,1)  inf    -inf  0.5    wrong 5        (the other infinity)
//    9  (1,1,0,1)  -inf   7     0.5    wrong 6        (a number where -inf was expected)
//   10  (1,0,0,2)  3      inf   0.5    wrong 7        (infinity where 3 was expected)
//   11  (1,1,0,2)  100    97    3      ok: |err| = bound, which passes   3  0.03  <- largest abs
// g5 = 1.5 + 2^-20 = 1.50000095367431640625 (exact in f32), printed with 9 significant
// digits: 1.50000095. Bound mode: 7 wrong; max abs error 3 (e11), max relative 1 (e2): both figures are over
// every finite pair, passing ones included, and of the error's size whatever its sign (both
// come from got < want). Exact mode adds e2 and e11: 9 wrong.
struct PlacedErrors {
    Tensor<double> want{AxisOrder::nhwc, {2, 2, 1, 3}}, got = want, bound = want;
    PlacedErrors() {
        const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
        const double w[12] = {4, 2, 0.25, -8, 1, 0, nan, inf, inf, -inf, 3, 100};
        const double g[12] = {4, 3, 0, -10, nan, 1.5 + 0x1p-20, nan, inf, -inf, 7, inf, 97};
        for (int64_t e = 0; e < 12; ++e) want[e] = w[e], got[e] = g[e], bound[e] = 0.5;
        bound[11] = 3;
    }
};

ReportContext placed_context() {
    ReportContext c = context();
    c.note = "data: fill float, seed 3";
    return c;
}

const std::string kPlacedHeader =
    "MISMATCH conv2d forward output y: variant under_test, f32, NHWC/HWIO\n"
    "  problem: mb2ic3ih5oc4kh3ph1\n"
    "  data: fill float, seed 3\n";
const std::string kPlacedRepro = "  repro: convconf check --variant under_test mb2ic3ih5oc4kh3ph1\n";
const std::string kBoundSummary =
    "  7 of 12 elements wrong (bound mode: |got-want| <= (gamma_n(u)+gamma_n(u_f64))*sum|terms|); ";
// The seven wrong elements' lines in bound mode, in storage order.
const std::string kBoundLines[7] = {
    "    (n,c,h,w)=(0,1,0,0) got 3 want 2 bound 0.5 |diff| 1\n",
    "    (n,c,h,w)=(0,1,0,1) got -10 want -8 bound 0.5 |diff| 2\n",
    "    (n,c,h,w)=(0,0,0,2) got nan want 1 bound 0.5 (NaN: unwritten or invalid)\n",
    "    (n,c,h,w)=(0,1,0,2) got 1.50000095 want 0 bound 0.5 |diff| 1.50000095\n",
    "    (n,c,h,w)=(1,0,0,1) got -inf want inf bound 0.5\n",
    "    (n,c,h,w)=(1,1,0,1) got 7 want -inf bound 0.5\n",
    "    (n,c,h,w)=(1,0,0,2) got inf want 3 bound 0.5\n",
};

template <class T>
void expect_placed_bound_report(const Tensor<T>& got, const PlacedErrors& p) {
    for (int shown : {0, 3, 5, 7, 10}) {
        SCOPED_TRACE("max_shown " + std::to_string(shown));
        const Comparison c = compare(got, p.want, &p.bound, placed_context(), shown);
        EXPECT_FALSE(c.ok);
        EXPECT_EQ(c.checked, 12);
        EXPECT_EQ(c.bad, 7);
        EXPECT_EQ(c.max_abs_error, 3.0);
        EXPECT_EQ(c.max_rel_error, 1.0);
        const int lines = std::min(shown, 7);
        std::string text = kPlacedHeader + kBoundSummary + "first " + std::to_string(lines) + ":\n";
        for (int i = 0; i < lines; ++i) text += kBoundLines[i];
        EXPECT_EQ(c.report, text + kPlacedRepro);
    }
    // The default shows five.
    EXPECT_EQ(compare(got, p.want, &p.bound, placed_context()).report,
              compare(got, p.want, &p.bound, placed_context(), 5).report);
}

TEST(CompareReport, EveryFigureOfBoundModeOnHandPlacedErrors) {
    const PlacedErrors p;
    expect_placed_bound_report(p.got, p);
    expect_placed_bound_report(p.got.cast<float>(), p);  // every value above is exact in f32
}

TEST(CompareReport, EveryFigureOfExactModeOnHandPlacedErrors) {
    const PlacedErrors p;
    const Comparison c = compare(p.got, p.want, nullptr, placed_context(), 3);
    EXPECT_FALSE(c.ok);
    EXPECT_EQ(c.checked, 12);
    EXPECT_EQ(c.bad, 9);  // e1 e2 e3 e4 e5 e8 e9 e10 e11
    EXPECT_EQ(c.max_abs_error, 3.0);
    EXPECT_EQ(c.max_rel_error, 1.0);
    EXPECT_EQ(c.report, kPlacedHeader +
                            "  9 of 12 elements wrong (exact mode); first 3:\n"
                            "    (n,c,h,w)=(0,1,0,0) got 3 want 2 |diff| 1\n"
                            "    (n,c,h,w)=(0,0,0,1) got 0 want 0.25 |diff| 0.25\n"
                            "    (n,c,h,w)=(0,1,0,1) got -10 want -8 |diff| 2\n" +
                            kPlacedRepro);
}

TEST(CompareReport, PassingComparisonHasFiguresAndNoReport) {
    // Errors all inside the bound: ok, no report, and the figures still measured.
    // |0.5 - 0.25| = 0.25, relative 1; |103 - 100| = 3, relative 0.03.
    Tensor<double> want({3}), got({3}), bound({3}, 3.0);
    want[0] = 0.25, want[1] = 100, want[2] = 0;
    got[0] = 0.5, got[1] = 103, got[2] = 0;
    const Comparison c = compare(got, want, &bound, context());
    EXPECT_TRUE(c.ok);
    EXPECT_EQ(c.bad, 0);
    EXPECT_EQ(c.checked, 3);
    EXPECT_EQ(c.max_abs_error, 3.0);
    EXPECT_EQ(c.max_rel_error, 1.0);
    EXPECT_EQ(c.max_bound_use, 1.0);  // 3 of the bound 3; 0.25 of 3 is less
    EXPECT_EQ(c.report, "");
}

// The share of its bound the worst element used: each error over its own bound, by hand.
// An element without a bound (0: a copy) or a NaN pair does not enter it; exact mode has none.
TEST(CompareReport, BoundUseIsTheWorstErrorOverItsOwnBound) {
    Tensor<double> want({5}), got({5}), bound({5});
    want[0] = 1, got[0] = 1.5, bound[0] = 2;      // 0.25
    want[1] = 10, got[1] = 9, bound[1] = 1.25;     // 0.8
    want[2] = 4, got[2] = 4, bound[2] = 0;         // no bound: not counted
    want[3] = -2, got[3] = -2.5, bound[3] = 4;     // 0.125
    want[4] = 7, got[4] = 7, bound[4] = 0.5;       // 0
    Comparison c = compare(got, want, &bound, context());
    EXPECT_TRUE(c.ok);
    EXPECT_EQ(c.max_bound_use, 0.8);
    got[1] = 12.5;  // 2.5 over 1.25: twice its bound, and a failure
    c = compare(got, want, &bound, context());
    EXPECT_FALSE(c.ok);
    EXPECT_EQ(c.max_bound_use, 2.0);
    EXPECT_EQ(compare(got, want, nullptr, context()).max_bound_use, 0.0);
}

TEST(CompareReport, ShapeOrOrderMismatchFailsEveryElementWithoutComparing) {
    // Same storage shape [1,2,2,2], other axis order: the data cannot be compared.
    Tensor<double> want(AxisOrder::nchw, {1, 2, 2, 2}), got(AxisOrder::nhwc, {1, 2, 2, 2});
    const Comparison c = compare(got, want, nullptr, context());
    EXPECT_FALSE(c.ok);
    EXPECT_EQ(c.bad, 8);
    EXPECT_EQ(c.checked, 0);
    EXPECT_TRUE(contains(c.report, "    output shape [1,2,2,2] NHWC, expected [1,2,2,2] NCHW\n")) << c.report;
}

TEST(CompareBound, ABoundOfAnotherShapeIsRefused) {
    // The bound must have want's shape; one that does not (an empty one: an output with no
    // sum|terms| sent to bound mode) would be read out of bounds.
    Tensor<double> want({2}, 1.0), bound({1}, 1.0);
    EXPECT_THROW(compare(want, want, &bound, context()), std::logic_error);
    const Tensor<double> empty;
    EXPECT_THROW(compare(want, want, &empty, context()), std::logic_error);
}

TEST(CompareShape, FiguresAndReportOfAShapeOnlyExpectation) {
    const Comparison same = compare_shape({2, 3}, {2, 3}, context());
    EXPECT_TRUE(same.ok);
    EXPECT_EQ(same.checked, 1);
    EXPECT_EQ(same.bad, 0);
    EXPECT_EQ(same.report, "");
    const Comparison other = compare_shape({2, 3}, {3, 2}, context());
    EXPECT_FALSE(other.ok);
    EXPECT_EQ(other.bad, 1);
    EXPECT_EQ(other.report,
              "MISMATCH conv2d forward output y: variant under_test, f32, NHWC/HWIO\n"
              "  problem: mb2ic3ih5oc4kh3ph1\n"
              "  shape-only expectation: the output's shape is wrong\n"
              "    output shape [2,3], expected [3,2]\n"
              "  repro: convconf check --variant under_test mb2ic3ih5oc4kh3ph1\n");
}

TEST(CompareBound, ErrorEqualToTheBoundPassesTheNextDoubleFails) {
    // |got - want| <= bound, not <, whatever the error's sign. want 0, so every difference
    // below is exact: 0.5 and -0.5 are on the bound, the next doubles outward are past it.
    Tensor<double> want({1}, 0.0), bound({1}, 0.5), got({1});
    for (double side : {1.0, -1.0}) {
        SCOPED_TRACE(side);
        got[0] = side * 0.5;
        EXPECT_TRUE(compare(got, want, &bound, context()).ok);
        got[0] = std::nextafter(side * 0.5, side);
        EXPECT_FALSE(compare(got, want, &bound, context()).ok);
    }
}

TEST(CompareBound, GammaBelowOneIsFinite) {
    // n*u just below 1: gamma = (1 - 2^-24) / 2^-24 = 2^24 - 1, finite.
    EXPECT_EQ(gamma((int64_t{1} << 24) - 1, 0x1p-24), 0x1p24 - 1);
    EXPECT_EQ(gamma(0, 0x1p-24), 0.0);
}

}  // namespace
}  // namespace convconf
