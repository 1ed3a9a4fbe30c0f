// The checker pinned by hand: for every op and pass, the accumulation length n, the sum of
// |terms| S_e behind chosen elements, the bound (gamma_n(u) + gamma_n(u_f64)) * S_e there,
// and an error just inside it passing while one just outside fails; then which comparison
// mode an output gets (exact or bound) and the integer magnitudes that keep data exact.
//
// Every expected number below is worked out by hand in the comments, from inputs built by
// formula so that the sums can be read off; none comes from running the code under test.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "reference/compare.hpp"
#include "reference/conformance.hpp"
#include "reference/data.hpp"
#include "reference/expected.hpp"
#include "tests/test_util.hpp"

namespace convconf {
namespace {

using testing::kAllLayouts;
using testing::Layouts;

// gamma_n = n*u / (1 - n*u), written from its definition (Higham, Accuracy and Stability of
// Numerical Algorithms, 3.1), not taken from expected.cpp.
double gamma_by_definition(int64_t n, double u) { return double(n) * u / (1.0 - double(n) * u); }
constexpr double kU32 = 0x1p-24, kU64 = 0x1p-53;

// ---- The problems and their inputs ------------------------------------------------------
//
// One convolution for every conv2d row, its fields all different so that a length built
// from the wrong field, or combined with + instead of *, changes the number:
//   mb2 ic3 oc4 ih4 iw4 kh2 kw3, pad top 1 (bottom, left, right 0), stride 1, dilation 1
//   oh = (4 + 1 - 2)/1 + 1 = 4, ow = (4 - 3)/1 + 1 = 2
//   forward ic*kh*kw = 3*2*3 = 18 (19 with bias), backward_data oc*kh*kw = 4*2*3 = 24,
//   backward_weights mb*oh*ow = 2*4*2 = 16 for dw and db.
// Wrong combinations give other numbers: oc*kh*kw 24, ic*kh*kh 12, ic*kw*kw 27, ic+kh*kw 9,
// ic*kh+kw 9; ic*kh*kw 18, oc*kh*kh 16, oc*kw*kw 36, oc+kh*kw 10, oc*kh+kw 11; mb*ow*ow 8,
// mb*oh+ow 10, mb+oh*ow 10, mb*oh*oh 32, ic*oh*ow 24, oc*oh*ow 32, mb*ih*iw 32.
//
// Inputs, with signs chosen so that sum|terms| differs from |sum of terms| at the probes:
//   x[n,c,h,w]   = (n+1) * a[c],       a = (1, -2, -1)      sum a = -2, sum |a| = 4
//   w[k,c,i,j]   = (k+1) * (-1)^j                           over j = 0..2: sum of signs 1
//   b[k]         = (-1)^k * (k+1)   = (1, -2, 3, -4)
//   dy[n,k,oh,ow] = (n+1) * d[k],      d = (1, -1, 1, -1)   sum d*(k+1) = 1-2+3-4 = -2,
//                                                           sum |d|*(k+1) = 10
ConvProblem conv_problem(Layouts l) {
    ConvProblem p;
    p.mb = 2, p.ic = 3, p.oc = 4, p.ih = 4, p.iw = 4, p.kh = 2, p.kw = 3, p.pt = 1;
    p.layout = l.act, p.weights_layout = l.wei;
    p.validate();
    return p;
}

// One window problem for im2col and col2im: the convolution's geometry without oc.
WindowProblem window_problem(Layouts l) {
    WindowProblem p = conv_problem(l);
    p.validate();
    return p;
}

// One pooling: mb2 ic3 ih4 iw6 kh2 kw3, stride 1 (windows overlap), no padding:
//   oh = 4 - 2 + 1 = 3, ow = 6 - 3 + 1 = 4; pool backward's length kh*kw = 6 (kh*kh 4,
//   kw*kw 9, kh+kw 5, mb*kh*kw 12, ic*kh*kw 18, oh*ow 12).
//   x[n,c,h,w]    = -(|h-1| + |w-2|): one peak, 0 at (1,2), falling off by 1 per step
//   dy[n,c,oh,ow] = (n+1) * (c+1) * (-1)^(oh+ow)
// Window (oh, ow) covers rows oh..oh+1, columns ow..ow+2. Its unique maximum is
//   (1,2)  for oh in {0,1}, ow in {0,1,2} (6 windows: kh*kw, the most any element meets)
//   (1,3)  for oh in {0,1}, ow = 3: x = -1 against -2 and below
//   (2,2)  for oh = 2, ow in {0,1,2}: x = -1
//   (2,3)  for oh = 2, ow = 3: x = -2 against (3,3) = -3, (2,4) = -3
// 6 + 2 + 3 + 1 = 12 = oh*ow windows.
PoolProblem pool_problem_2x3(Layouts l) {
    PoolProblem p;
    p.mb = 2, p.ic = 3, p.ih = 4, p.iw = 6, p.kh = 2, p.kw = 3;
    p.layout = l.act;
    p.validate();
    return p;
}

template <class F>
Tensor<double> make(AxisOrder order, const Dims4& d, F f) {
    Tensor<double> t(order, d);
    for (int64_t a = 0; a < d[0]; ++a)
        for (int64_t b = 0; b < d[1]; ++b)
            for (int64_t c = 0; c < d[2]; ++c)
                for (int64_t e = 0; e < d[3]; ++e) t.at(a, b, c, e) = f(a, b, c, e);
    return t;
}

double sign(int64_t k) { return k % 2 == 0 ? 1.0 : -1.0; }

struct ConvInputs {
    Tensor<double> x, w, b, dy;
    explicit ConvInputs(const ConvProblem& p) {
        const double a[] = {1, -2, -1}, d[] = {1, -1, 1, -1};
        const AxisOrder act = axis_order(p.layout);
        x = make(act, p.x_dims(), [&](int64_t n, int64_t c, int64_t, int64_t) { return (n + 1) * a[c]; });
        w = make(axis_order(p.weights_layout), p.w_dims(),
                 [](int64_t k, int64_t, int64_t, int64_t j) { return (k + 1) * sign(j); });
        b = Tensor<double>({p.oc});
        for (int64_t k = 0; k < p.oc; ++k) b[k] = sign(k) * double(k + 1);
        dy = make(act, p.y_dims(), [&](int64_t n, int64_t k, int64_t, int64_t) { return (n + 1) * d[k]; });
    }
};

// ---- The table: one row per op, pass and output -----------------------------------------

struct Probe {
    std::vector<int64_t> at;  // logical index: (n,c,h,w), (o,i,h,w), (k) or (row,col)
    double value;
    double abs_sum;  // S_e; unused where the output is compared exactly
};

struct Row {
    const char* name;
    Op op;
    Pass pass;
    bool bias;
    const char* output;
    int64_t length;  // n of gamma_n; 0 for outputs compared exactly (copies, selections)
    std::vector<Probe> probes;
};

const std::vector<Row>& rows() {
    static const std::vector<Row> table{
        // y = b[k] + sum_c sum_{i: 0 <= oh-1+i <= 3} sum_{j} x*w   (every j is inside: ow+j <= 3)
        //   = b[k] + (n+1)(k+1) * (sum a) * R * (sum_j (-1)^j) = b[k] - 2(n+1)(k+1)R
        //   S = |b[k]| + (n+1)(k+1) * (sum |a|) * R * 3          = |b[k]| + 12(n+1)(k+1)R
        // R = rows of the kernel inside x: 1 at oh = 0 (row -1 is padding), else 2.
        {"conv2d_forward",
         Op::conv2d, Pass::forward, false, "y", 18,
         {{{1, 3, 0, 1}, -2.0 * 2 * 4 * 1, 12.0 * 2 * 4 * 1},     // -16, 96
          {{0, 2, 3, 0}, -2.0 * 1 * 3 * 2, 12.0 * 1 * 3 * 2},     // -12, 72
          {{1, 0, 2, 1}, -2.0 * 2 * 1 * 2, 12.0 * 2 * 1 * 2}}},   //  -8, 48
        {"conv2d_forward_bias",
         Op::conv2d, Pass::forward, true, "y", 19,
         {{{1, 3, 0, 1}, -4 - 16.0, 4 + 96.0},    // b[3] = -4
          {{0, 2, 3, 0}, 3 - 12.0, 3 + 72.0},     // b[2] = 3
          {{1, 0, 2, 1}, 1 - 8.0, 1 + 48.0}}},    // b[0] = 1
        // dx = sum_k sum_{i: 0 <= ih+1-i <= 3} sum_{j: 0 <= iw-j <= 1} dy*w
        //    = (n+1) * (sum d*(k+1)) * Vi * (sum over valid j of (-1)^j) = -2(n+1) Vi sj
        //    S = (n+1) * 10 * Vi * Vj
        // Vi by ih: 2, 2, 2, 1 (ih = 3: tap 0 would need oh = 4). Valid j by iw: {0}, {0,1},
        // {1,2}, {2}, so Vj = 1, 2, 2, 1 and sj = 1, 0, 0, 1.
        {"conv2d_backward_data",
         Op::conv2d, Pass::backward_data, false, "dx", 24,
         {{{1, 2, 3, 3}, -2.0 * 2 * 1 * 1, 2.0 * 10 * 1 * 1},    // -4, 20
          {{0, 0, 1, 1}, 0.0, 1.0 * 10 * 2 * 2},                 //  0, 40
          {{1, 1, 0, 0}, -2.0 * 2 * 2 * 1, 2.0 * 10 * 2 * 1}}},  // -8, 40
        // dw[k,c,i,j] = sum_n sum_{oh: 0 <= oh-1+i <= 3} sum_{ow} dy*x
        //   = (sum_n (n+1)^2) * d[k] a[c] * Ni * Nj = 5 * d[k] a[c] * Ni * 2,  S = 10 |d||a| Ni
        // Ni = 3 for i = 0 (oh = 0 reads row -1), 4 for i = 1; Nj = 2 for every j.
        {"conv2d_backward_weights",
         Op::conv2d, Pass::backward_weights, false, "dw", 16,
         {{{3, 1, 0, 2}, 10.0 * -1 * -2 * 3, 10.0 * 1 * 2 * 3},   //  60, 60
          {{2, 1, 1, 0}, 10.0 * 1 * -2 * 4, 10.0 * 1 * 2 * 4},    // -80, 80
          {{1, 0, 1, 1}, 10.0 * -1 * 1 * 4, 10.0 * 1 * 1 * 4},    // -40, 40
          {{0, 2, 0, 0}, 10.0 * 1 * -1 * 3, 10.0 * 1 * 1 * 3}}},  // -30, 30
        {"conv2d_backward_weights_bias_dw",
         Op::conv2d, Pass::backward_weights, true, "dw", 16,
         {{{3, 1, 0, 2}, 60, 60}, {{2, 1, 1, 0}, -80, 80}}},
        // db[k] = sum_n sum_oh sum_ow dy = (1 + 2) * d[k] * 4*2 = 24 d[k],  S = 24
        {"conv2d_backward_weights_bias_db",
         Op::conv2d, Pass::backward_weights, true, "db", 16,
         {{{3}, -24, 24}, {{0}, 24, 24}, {{1}, -24, 24}}},
        // y = the peak of each window (see pool_problem_2x3); argmax = i*kw + j of it.
        {"maxpool2d_forward_y",
         Op::maxpool2d, Pass::forward, false, "y", 0,
         {{{1, 2, 0, 0}, 0, 0}, {{0, 1, 0, 3}, -1, 0}, {{1, 0, 2, 1}, -1, 0}, {{0, 2, 2, 3}, -2, 0}}},
        {"maxpool2d_forward_argmax",
         Op::maxpool2d, Pass::forward, false, "argmax", 0,
         {{{1, 2, 0, 0}, 1 * 3 + 2, 0},    // (1,2) is tap (1,2) of window (0,0)
          {{0, 1, 0, 3}, 1 * 3 + 0, 0},    // (1,3) is tap (1,0) of window (0,3)
          {{1, 0, 2, 1}, 0 * 3 + 1, 0},    // (2,2) is tap (0,1) of window (2,1)
          {{0, 2, 2, 3}, 0, 0}}},          // (2,3) is tap (0,0) of window (2,3)
        // dx at (h,w) = sum of dy over the windows choosing it; m = (n+1)(c+1).
        //   (1,2): 6 windows, signs + - + / - + -: value 0, S 6m.  (1,3): - +: 0, 2m.
        //   (2,2): + - +: m, 3m.  (2,3): -: -m, m.  Every other element: 0, 0.
        {"maxpool2d_backward",
         Op::maxpool2d, Pass::backward, false, "dx", 6,
         {{{1, 2, 1, 2}, 0, 6.0 * 6},     // m = 2*3
          {{0, 1, 1, 3}, 0, 2.0 * 2},     // m = 1*2
          {{1, 0, 2, 2}, 2, 3.0 * 2},     // m = 2*1
          {{0, 2, 2, 3}, -3, 1.0 * 3},    // m = 1*3
          {{1, 1, 0, 0}, 0, 0}}},
        // col[row, q], row = (n*4 + oh)*2 + ow, q = (c*2 + i)*3 + j, reading x at
        // (oh-1+i, ow+j); x = -(1000n + 100c + 10h + w + 1): never 0 (the padding), and
        // negative, so that reading |x| instead of x shows.
        {"im2col",
         Op::im2col, Pass::forward, false, "col", 0,
         {{{9, 13}, 0, 0},        // n1 oh0 ow1, c2 i0 j1: row -1 is padding
          {{9, 16}, -1203, 0},     // n1 oh0 ow1, c2 i1 j1: x(1,2,0,2)
          {{6, 11}, -133, 0},      // n0 oh3 ow0, c1 i1 j2: x(0,1,3,2)
          {{13, 0}, -1012, 0}}},   // n1 oh2 ow1, c0 i0 j0: x(1,0,1,1)
        // col[row, q] = (n+1)(c+1)(-1)^j; x[n,c,ih,iw] sums the same valid (i,j) as
        // backward_data: value (n+1)(c+1) Vi sj, S = (n+1)(c+1) Vi Vj; length kh*kw = 6.
        {"col2im",
         Op::col2im, Pass::forward, false, "x", 6,
         {{{1, 2, 3, 3}, 6, 6},       // m 6, Vi 1, Vj 1, sj 1
          {{0, 1, 1, 1}, 0, 8},       // m 2, Vi 2, Vj 2, sj 0
          {{1, 0, 0, 2}, 0, 8},       // m 2, Vi 2, Vj 2, sj 0
          {{0, 0, 2, 0}, 2, 2}}},     // m 1, Vi 2, Vj 1, sj 1
    };
    return table;
}

// The Expected of the row's output, from the expect_* function under test.
Expected expected_of(const Row& r, Layouts l) {
    switch (r.op) {
        case Op::conv2d: {
            const ConvProblem p = conv_problem(l);
            const ConvInputs in(p);
            if (r.pass == Pass::forward) return expect_conv_forward(p, in.x, in.w, r.bias ? &in.b : nullptr);
            if (r.pass == Pass::backward_data) return expect_conv_backward_data(p, in.w, in.dy);
            WeightsGradients g = expect_conv_backward_weights(p, in.x, in.dy, r.bias);
            EXPECT_EQ(g.db.has_value(), r.bias) << "db exactly when asked for";
            if (std::string(r.output) == "db") return std::move(g.db.value());
            return std::move(g.dw);
        }
        case Op::maxpool2d: {
            const PoolProblem p = pool_problem_2x3(l);
            const AxisOrder act = axis_order(p.layout);
            const Tensor<double> x = make(act, p.x_dims(), [](int64_t, int64_t, int64_t h, int64_t w) {
                return -double(std::abs(h - 1) + std::abs(w - 2));
            });
            if (r.pass == Pass::backward) {
                const auto dy_at = [](int64_t n, int64_t c, int64_t oh, int64_t ow) {
                    return double((n + 1) * (c + 1)) * sign(oh + ow);
                };
                const Tensor<double> dy = make(act, p.y_dims(), dy_at);
                return expect_pool_backward(p, x, dy);
            }
            PoolForwardExpected f = expect_pool_forward(p, x);
            if (std::string(r.output) == "argmax") return Expected{f.argmax.cast<double>(), {}, 0};
            return std::move(f.y);
        }
        case Op::im2col: {
            const WindowProblem p = window_problem(l);
            const auto x_at = [](int64_t n, int64_t c, int64_t h, int64_t w) {
                return -double(1000 * n + 100 * c + 10 * h + w + 1);
            };
            return expect_im2col(p, make(axis_order(p.layout), p.x_dims(), x_at));
        }
        case Op::col2im: {
            const WindowProblem p = window_problem(l);
            const auto cd = p.col_dims();
            Tensor<double> col({cd[0], cd[1]});
            const int64_t positions = p.oh() * p.ow(), taps = p.kh * p.kw;
            for (int64_t row = 0; row < cd[0]; ++row)
                for (int64_t q = 0; q < cd[1]; ++q)
                    col[row * cd[1] + q] = double((row / positions + 1) * (q / taps + 1)) * sign(q % p.kw);
            return expect_col2im(p, col);
        }
        case Op::avgpool2d: break;  // pinned by hand in Bound.AveragePoolingSumsItsTapsAndDividesOnce
    }
    throw std::logic_error("expected_of: unknown op");
}

// Flat offset of a logical index in t (4-D: by axis order; 1-D and 2-D: row-major).
int64_t flat(const Tensor<double>& t, const std::vector<int64_t>& at) {
    if (at.size() == 4) return t.offset(at[0], at[1], at[2], at[3]);
    int64_t f = 0;
    for (size_t i = 0; i < at.size(); ++i) f = f * t.shape().at(i) + at[i];
    return f;
}

std::string index_text(const std::vector<int64_t>& at) {
    std::string s;
    for (int64_t v : at) s += (s.empty() ? "" : ",") + std::to_string(v);
    return "(" + s + ")";
}

// The bound at an element with S = abs_sum, in dtype dt, from the definition.
double hand_bound(int64_t n, double abs_sum, DType dt) {
    return (gamma_by_definition(n, dt == DType::f32 ? kU32 : kU64) + gamma_by_definition(n, kU64)) * abs_sum;
}

ReportContext context(const Row& r, DType dt) {
    ReportContext c;
    c.op = r.op, c.pass = r.pass, c.dtype = dt, c.output = r.output;
    c.variant = "hand_perturbed";
    return c;
}

class DerivedBound : public ::testing::TestWithParam<std::tuple<Row, Layouts>> {
protected:
    const Row& row() const { return std::get<0>(GetParam()); }
    Expected expected() const { return expected_of(row(), std::get<1>(GetParam())); }
};

TEST_P(DerivedBound, AccumulationLengthIsTheHandCount) {
    EXPECT_EQ(expected().accumulation_length, row().length);
}

TEST_P(DerivedBound, ValueAndSumOfTermsAtProbes) {
    const Expected e = expected();
    for (const Probe& pr : row().probes) {
        SCOPED_TRACE(index_text(pr.at));
        EXPECT_EQ(e.value[flat(e.value, pr.at)], pr.value);
        if (row().length > 0) {
            EXPECT_EQ(e.abs_sum[flat(e.abs_sum, pr.at)], pr.abs_sum);
        }
    }
    if (row().length == 0) EXPECT_TRUE(e.abs_sum.empty()) << "a copy or selection has no sum|terms|";
    else EXPECT_EQ(e.abs_sum.shape(), e.value.shape());
}

TEST_P(DerivedBound, BoundAtProbesIsGammaOfBothDtypesTimesSum) {
    const Expected e = expected();
    for (DType dt : {DType::f32, DType::f64}) {
        const Tensor<double> bound = derived_bound(e, dt);
        if (row().length == 0) {
            EXPECT_TRUE(bound.empty());
            continue;
        }
        ASSERT_EQ(bound.shape(), e.value.shape());
        for (const Probe& pr : row().probes) {
            SCOPED_TRACE(std::string(to_string(dt)) + " " + index_text(pr.at));
            EXPECT_DOUBLE_EQ(bound[flat(bound, pr.at)], hand_bound(row().length, pr.abs_sum, dt));
        }
    }
}

// At each probe: the expected value moved by the hand bound times (1 - eps) passes, by
// (1 + eps) fails, above and below the value. eps must exceed the rounding of want + delta
// relative to the bound: at most ulp(want)/2 / bound <= 2^-53 |want| / (2n 2^-53 S) <= 1/(2n)
// for f64 (n >= 6 here: 1/12 < 1/8), and far less for f32's bound on double data.
TEST_P(DerivedBound, JustInsideBoundPassesJustOutsideFails) {
    const Expected e = expected();
    for (DType dt : {DType::f32, DType::f64}) {
        const double eps = dt == DType::f32 ? 0x1p-20 : 0x1p-3;
        const Tensor<double> derived = derived_bound(e, dt);
        const Tensor<double>* bound = row().length > 0 ? &derived : nullptr;  // nullptr: exact
        for (const Probe& pr : row().probes) {
            const int64_t at = flat(e.value, pr.at);
            const double want = e.value[at];
            // A bound of zero (exact outputs, elements no term reaches): the nearest double fails.
            const double b = row().length > 0 ? hand_bound(row().length, pr.abs_sum, dt) : 0.0;
            for (double side : {1.0, -1.0}) {
                SCOPED_TRACE(std::string(to_string(dt)) + " " + index_text(pr.at) +
                             (side > 0 ? " above" : " below"));
                Tensor<double> got = e.value;
                if (b > 0) {
                    got[at] = want + side * b * (1 - eps);
                    ASSERT_LT(std::fabs(got[at] - want), b);
                    const Comparison in = compare(got, e.value, bound, context(row(), dt));
                    EXPECT_TRUE(in.ok) << in.report;
                    got[at] = want + side * b * (1 + eps);
                    ASSERT_GT(std::fabs(got[at] - want), b);
                } else {
                    got[at] = std::nextafter(want, side * INFINITY);
                }
                const Comparison out = compare(got, e.value, bound, context(row(), dt));
                EXPECT_FALSE(out.ok);
                EXPECT_EQ(out.bad, 1);
                EXPECT_NE(out.report.find(e.value.index_string(at)), std::string::npos) << out.report;
            }
        }
    }
}

std::string row_name(const ::testing::TestParamInfo<std::tuple<Row, Layouts>>& info) {
    return std::string(std::get<0>(info.param).name) + "_" + testing::layouts_name(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(EveryOpAndPass, DerivedBound,
                         ::testing::Combine(::testing::ValuesIn(rows()), ::testing::ValuesIn(kAllLayouts)),
                         row_name);

// ---- Which mode an output is compared in (conformance.cpp's allowed_error) -------------
//
// Exact when the output is a copy or selection (no sum|terms|), or when the data are
// integers and every element's sum|terms| is at most 2^p (then every partial sum is an
// exact integer); a golden case's tolerance replaces both; otherwise the derived bound.

// One output "y" of two elements whose got differs from want by 0.5 at element 0: inside
// the derived bound there (n = 1, S = 2^24: bound = (2^-24/(1-2^-24) + ~2^-53) * 2^24 > 1),
// so only exact mode rejects it.
CheckResult judge(double abs_sum0, bool integer_data, DType dt) {
    Expected e{Tensor<double>({2}), Tensor<double>({2}), 1};
    e.value[0] = 0x1p24, e.value[1] = 3;
    e.abs_sum[0] = abs_sum0, e.abs_sum[1] = 3;
    Outputs<double> out;
    out.tensors["y"] = e.value;
    out.tensors["y"][0] += 0.5;
    Expectations want;
    want.emplace("y", std::move(e));
    ReportContext ctx;
    ctx.dtype = dt;
    CheckResult r;
    compare_outputs(out, want, Allowance{integer_data, std::nullopt}, ctx, r);
    return r;
}

TEST(ComparisonMode, IntegerDataWithEverySumAtMostTwoToThePIsExact) {
    struct Case {
        const char* what;
        double abs_sum0;
        bool integer_data;
        DType dtype;
        bool exact;
    } cases[] = {
        {"f32, S = 2^24: every partial sum is an exact integer", 0x1p24, true, DType::f32, true},
        {"f32, S = 2^24 + 2: above 2^24, the bound applies", 0x1p24 + 2, true, DType::f32, false},
        {"f64, S = 2^24 + 2: far below 2^53", 0x1p24 + 2, true, DType::f64, true},
        {"f64, S = 2^53: still exact", 0x1p53, true, DType::f64, true},
        {"f64, S = 2^53 + 2: the bound applies", 0x1p53 + 2, true, DType::f64, false},
        {"float data: the bound, however small the sums", 0x1p24, false, DType::f32, false},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        const CheckResult r = judge(c.abs_sum0, c.integer_data, c.dtype);
        if (c.exact) {
            EXPECT_EQ(r.status, Status::failed);
            EXPECT_NE(r.detail.find("1 of 2 elements wrong (exact mode)"), std::string::npos) << r.detail;
        } else {
            EXPECT_EQ(r.status, Status::passed) << r.detail;
        }
        EXPECT_EQ(r.max_abs_error, 0.5);
    }
}

TEST(ComparisonMode, CopiesAndSelectionsAreExactEvenOnFloatData) {
    // No sum|terms| (im2col, max-pool y, argmax): the smallest difference fails.
    Expected e{Tensor<double>({1}, 0.75), {}, 0};
    Outputs<double> out;
    out.tensors["col"] = Tensor<double>({1}, std::nextafter(0.75, 1.0));
    Expectations want;
    want.emplace("col", std::move(e));
    CheckResult r;
    compare_outputs(out, want, Allowance{false, std::nullopt}, ReportContext{}, r);
    EXPECT_EQ(r.status, Status::failed);
    EXPECT_NE(r.detail.find("(exact mode)"), std::string::npos) << r.detail;
}

TEST(ComparisonMode, ToleranceReplacesBoundAndExactness) {
    // abs 0.5 + rel 0.25 * |want|: want 2 and -2 allow 1, want 0 allows 0.5. Each got sits
    // exactly on its allowance (all sums exact in binary), then just past it.
    const Tolerance tol{0.5, 0.25};
    for (double past : {0.0, 0x1p-40}) {
        SCOPED_TRACE(past == 0 ? "on the allowance" : "just past it");
        Expected e{Tensor<double>({3}), {}, 0};  // no sum|terms|: exact without the tolerance
        e.value[0] = 2, e.value[1] = -2, e.value[2] = 0;
        Outputs<double> out;
        Tensor<double> got({3});
        got[0] = 3 + past, got[1] = -3 - past, got[2] = -0.5 - past;
        out.tensors["x"] = got;
        Expectations want;
        want.emplace("x", std::move(e));
        CheckResult r;
        compare_outputs(out, want, Allowance{true, tol}, ReportContext{}, r);
        if (past == 0) {
            EXPECT_EQ(r.status, Status::passed) << r.detail;
        } else {
            EXPECT_EQ(r.status, Status::failed);
            EXPECT_NE(r.detail.find("3 of 3 elements wrong (bound mode"), std::string::npos) << r.detail;
        }
    }
}

// ---- The integer magnitude that keeps generated data exact (data.cpp) -------------------
//
// The largest r <= 8 with n*r*r + r <= 2^p, at least 1.
TEST(ExactMagnitude, LargestRWhoseSumsStayWithinTwoToTheP) {
    // f32, 2^24 = 16777216. r = 8: n*64 + 8 <= 2^24 iff n <= 262143 (262143*64 + 8 = 16777160;
    // 262144*64 + 8 = 16777224). r = 7 at n = 262144: 262144*49 + 7 = 12845063.
    EXPECT_EQ(exact_magnitude(1, DType::f32), 8);
    EXPECT_EQ(exact_magnitude(262143, DType::f32), 8);
    EXPECT_EQ(exact_magnitude(262144, DType::f32), 7);
    // r = 1 is the floor: n = 2^24 fits no r (2^24 + 1 > 2^24), 1 is returned anyway.
    EXPECT_EQ(exact_magnitude(int64_t{1} << 24, DType::f32), 1);
    // r = 2 at n = 2^21: 2^21*4 + 2 = 2^23 + 2 fits; r = 3: 2^21*9 + 3 = 18874371 does not.
    EXPECT_EQ(exact_magnitude(int64_t{1} << 21, DType::f32), 2);
    // f64, 2^53: 2^47*64 + 8 = 2^53 + 8 does not fit, (2^47 - 1)*64 + 8 = 2^53 - 56 does.
    EXPECT_EQ(exact_magnitude(262144, DType::f64), 8);
    EXPECT_EQ(exact_magnitude((int64_t{1} << 47) - 1, DType::f64), 8);
    EXPECT_EQ(exact_magnitude(int64_t{1} << 47, DType::f64), 7);
}

// Integer fills must be integers within [-r, r], reaching both ends, or "integer data" would
// send rounding data to exact mode (or leave the exactness margin unused).
TEST(ExactMagnitude, IntegerFillStaysWithinMagnitudeAndReachesBothEnds) {
    for (int64_t r : {1, 3, 8}) {
        SCOPED_TRACE(r);
        Tensor<double> t({1000});
        fill(t, Fill::integers, 7, r);
        double lo = 0, hi = 0;
        for (double v : t.values()) {
            ASSERT_EQ(v, std::trunc(v));
            lo = std::min(lo, v), hi = std::max(hi, v);
        }
        EXPECT_EQ(lo, double(-r));
        EXPECT_EQ(hi, double(r));
    }
}

}  // namespace
}  // namespace convconf

namespace convconf {
namespace {

// Average pooling's bound, by hand: x = 1..9 (3x3), a 2x2 window moving by 2, padded by 1
// on every side (OH = OW = 2). Window (0,1) covers x 2 and 3 and two padding taps: avg_p
// divides by 4 (1.25), avg_np by 2 (2.5). Each sums at most 4 taps and divides: n = 4 + 2.
// The divisors are 4 everywhere (avg_p) and 1, 2, 2, 4 (avg_np): powers of two, so integer
// data compare exactly; a 3x3 window moving by 1 over the same x has avg_np divisors 4 and 6,
// and never does.
TEST(Bound, AveragePoolingSumsItsTapsAndDividesOnce) {
    PoolProblem p;
    p.mb = 1, p.ic = 1, p.ih = p.iw = 3, p.kh = p.kw = 2, p.sh = p.sw = 2;
    p.pt = p.pl = p.pb = p.pr = 1;
    Tensor<double> x(AxisOrder::nchw, {1, 1, 3, 3});
    for (int64_t e = 0; e < 9; ++e) x[e] = double(e + 1);
    const double u = unit_roundoff(DType::f32), u64 = unit_roundoff(DType::f64);
    for (const auto& [alg, y01] : {std::pair{PoolAlg::avg_p, 1.25}, {PoolAlg::avg_np, 2.5}}) {
        p.alg = alg;
        const Expected e = expect_avg_forward(p, x);
        EXPECT_EQ(e.accumulation_length, 6);
        EXPECT_EQ(e.exact_divisor, 4);
        EXPECT_EQ(e.value.at(0, 0, 0, 1), y01);
        EXPECT_EQ(e.value.at(0, 0, 1, 1), 7.0);  // (5 + 6 + 8 + 9) / 4
        EXPECT_EQ(e.abs_sum.at(0, 0, 0, 1), y01);  // positive data: sum|x| / divisor
        const Tensor<double> b = derived_bound(e, DType::f32);
        EXPECT_DOUBLE_EQ(b.at(0, 0, 0, 1), (6 * u / (1 - 6 * u) + 6 * u64 / (1 - 6 * u64)) * y01);
        // Backward: dy = 1 everywhere; x(0,1) is reached by window (0,1) alone: 1/4 or 1/2.
        Tensor<double> dy(AxisOrder::nchw, {1, 1, 2, 2}, 1.0);
        const Expected g = expect_avg_backward(p, dy);
        EXPECT_EQ(g.accumulation_length, 6);
        EXPECT_EQ(g.value.at(0, 0, 0, 1), alg == PoolAlg::avg_p ? 0.25 : 0.5);
    }
    p.kh = p.kw = 3, p.sh = p.sw = 1, p.alg = PoolAlg::avg_np;
    EXPECT_EQ(expect_avg_forward(p, x).exact_divisor, 0);
}

}  // namespace
}  // namespace convconf
