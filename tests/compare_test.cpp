// The comparison: exact mode, and bound mode failing when it should and passing when it
// should; the mismatch report naming everything a reader needs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "impl/core/registry.hpp"
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

}  // namespace
}  // namespace convconf
