// The strided-slice family on what is particular to it: its memory (one tap's slice, never
// the column matrix), taps whose slice lies partly or wholly in the padding, and max-pooling's
// running choice across taps. Expected values are worked out by hand in the comments; none
// came from running convconf's code. A property then holds it against the naive reference on
// random problems, beyond the conformance plan's fixed table.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <limits>

#include "impl/core/descriptor.hpp"
#include "reference/registry.hpp"
#include "impl/strided/strided.hpp"
#include "reference/conformance.hpp"
#include "tests/test_util.hpp"

namespace convconf {
namespace {

using testing::arange;
using testing::both;
using testing::from_logical;
using testing::Layouts;
using testing::to_logical;

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

const Variant& strided_variant() {
    static const auto v = strided::make_variant();
    return *v;
}

// The conformance test and `convconf run` reach the variant through the registry.
TEST(Strided, IsRegistered) {
    const Variant* v = find_variant("strided");
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->name(), strided_variant().name());
}

// ---- Workspace -------------------------------------------------------------------------

// mb2 ic3 ih5 iw5 oc4, 3x3 kernel, pad 1, stride 1: OH = OW = (5 + 1 + 1 - 3)/1 + 1 = 5.
// The variant works on blocks of output positions of one image (impl/core/lowering.hpp,
// position_blocks: 48Ki / (ic + oc) positions, at least 96, at most one image's 25); these
// tests run on one thread, so one block is in flight:
//   one tap's slice of a block: ic*25 = 75 elements
//   the weights, copied tap by tap out of OIHW: 9*4*3 = 108 elements
//   forward, backward_data: (75 + 108) * 4 = 732 bytes in f32, 1464 in f64
//   backward_weights: a partial dW per image (group): 75 + 2*108 = 291 elements
//   im2col's block for comparison: every tap, [27 x 25] = 675 elements = 2700 bytes
//   maxpool, both passes: the running choice of one block of output rows of one task (an
//     image: its 5 rows, 3 channels), a value and a 32-bit tap per output, on each thread
//     running (one in this test binary): 5*5*3 * (4 + 4) = 600 bytes in f32
//   im2col, col2im: none (they run in their outputs)
ConvProblem workspace_problem() {
    ConvProblem p;
    p.mb = 2, p.ic = 3, p.ih = p.iw = 5, p.oc = 4, p.kh = p.kw = 3;
    p.pt = p.pl = p.pb = p.pr = 1;
    p.validate();
    return p;
}

TEST(StridedWorkspace, ConvIsOneTapSliceNotTheColumnMatrix) {
    const ConvProblem p = workspace_problem();
    for (Pass pass : {Pass::forward, Pass::backward_data}) {
        EXPECT_EQ(strided_variant().workspace_bytes(Call(direction_of(Op::conv2d, pass), DType::f32, p)), 732);
        EXPECT_EQ(strided_variant().workspace_bytes(Call(direction_of(Op::conv2d, pass), DType::f64, p)), 1464);
    }
    EXPECT_EQ(strided_variant().workspace_bytes(Call(direction_of(Op::conv2d, Pass::backward_weights), DType::f32, p)), 291 * 4);
    const int64_t column_block_bytes = 2700;
    EXPECT_LT(strided_variant().workspace_bytes(Call(direction_of(Op::conv2d, Pass::forward), DType::f32, p)), column_block_bytes);
}

TEST(StridedWorkspace, PoolingAndIm2col) {
    const ConvProblem p = workspace_problem();
    const Variant& v = strided_variant();
    EXPECT_EQ(v.workspace_bytes(Call(direction_of(Op::maxpool2d, Pass::backward), DType::f32, p)), 600);
    EXPECT_EQ(v.workspace_bytes(Call(direction_of(Op::maxpool2d, Pass::forward), DType::f32, p)), 600);
    EXPECT_EQ(v.workspace_bytes(Call(direction_of(Op::im2col, Pass::forward), DType::f64, p)), 0);
    EXPECT_EQ(v.workspace_bytes(Call(direction_of(Op::col2im, Pass::forward), DType::f64, p)), 0);
}

// The slice follows the output grid, not the kernel: with HWIO weights (each tap already a
// matrix, nothing copied) a 3x3 kernel with pad 1 and a 5x5 kernel with pad 2 have the same
// 5x5 output and the same 75-element slice, 300 bytes. A 1x1 kernel, stride 1, no padding
// slices x itself: nothing.
TEST(StridedWorkspace, DoesNotGrowWithTheKernel) {
    ConvProblem p = workspace_problem();
    p.weights_layout = WeightsLayout::hwio;
    EXPECT_EQ(strided_variant().workspace_bytes(Call(direction_of(Op::conv2d, Pass::forward), DType::f32, p)), 300);
    p.kh = p.kw = 5;
    p.pt = p.pl = p.pb = p.pr = 2;
    p.validate();
    EXPECT_EQ(strided_variant().workspace_bytes(Call(direction_of(Op::conv2d, Pass::forward), DType::f32, p)), 300);
    p.kh = p.kw = 1;
    p.pt = p.pl = p.pb = p.pr = 0;
    p.validate();
    EXPECT_EQ(strided_variant().workspace_bytes(Call(direction_of(Op::conv2d, Pass::forward), DType::f32, p)), 0);
}

// ---- Taps in the padding -------------------------------------------------------------

// x = arange(12) as 1x1x3x4, a 3x2 kernel, stride (2, 2), dilation (2, 3), pad top 0,
// bottom 4, left 0, right 2:
//   OH = (3 + 0 + 4 - (2*2 + 1))/2 + 1 = 2,  OW = (4 + 0 + 2 - (3*1 + 1))/2 + 1 = 2.
// Tap i reads row oh*2 + 2i, tap j column ow*2 + 3j:
//   i = 0: rows 0, 2
//   i = 1: rows 2, 4     oh = 1 is in the padding
//   i = 2: rows 4, 6     every output row is in the padding: an empty slice, and one that
//                        comes after taps that did read x (nothing of theirs may leak into it)
//   j = 0: cols 0, 2
//   j = 1: cols 3, 5     ow = 1 is in the padding
// x:  0  1  2  3        w (i rows, j columns):  1 2
//     4  5  6  7                                3 4
//     8  9 10 11                                5 6
class StridedPadding : public ::testing::TestWithParam<Layouts> {
protected:
    ConvProblem problem() const {
        ConvProblem p;
        p.mb = 1, p.ic = 1, p.oc = 1, p.ih = 3, p.iw = 4, p.kh = 3, p.kw = 2;
        p.sh = 2, p.sw = 2, p.dh = 2, p.dw = 3;
        p.pt = 0, p.pb = 4, p.pl = 0, p.pr = 2;
        p.layout = GetParam().act;
        p.weights_layout = GetParam().wei;
        p.validate();
        return p;
    }
    AxisOrder act() const { return axis_order(GetParam().act); }
    AxisOrder wei() const { return axis_order(GetParam().wei); }

    const std::vector<double> w_values{1, 2, 3, 4, 5, 6};
    const std::vector<double> dy_values{1, 2, 3, 4};
};

// y = 100 + sum of the taps that read x:
//   (0,0): w00*x[0][0] + w01*x[0][3] + w10*x[2][0] + w11*x[2][3] = 0 + 6 + 24 + 44 -> 174
//   (0,1): w00*x[0][2] + w10*x[2][2] = 2 + 30                                   -> 132
//   (1,0): w00*x[2][0] + w01*x[2][3] = 8 + 22                                   -> 130
//   (1,1): w00*x[2][2]               = 10                                       -> 110
TEST_P(StridedPadding, Forward) {
    const ConvProblem p = problem();
    both([&](auto t) {
        using T = decltype(t);
        auto x = from_logical<T>(act(), p.x_dims(), arange(12));
        auto w = from_logical<T>(wei(), p.w_dims(), w_values);
        Tensor<T> b({1}, T(100));
        auto y = Tensor<T>::poisoned(act(), p.y_dims());
        calls::conv_forward(strided_variant(), p, x, w, &b, y);
        EXPECT_EQ(to_logical(y), (std::vector<double>{174, 132, 130, 110}));
    });
}

// dy = [[1, 2], [3, 4]]; each (output, tap) that reads x adds dy*w there:
//   (0,0): x[0][0] += 1*1, x[0][3] += 1*2, x[2][0] += 1*3, x[2][3] += 1*4
//   (0,1): x[0][2] += 2*1, x[2][2] += 2*3
//   (1,0): x[2][0] += 3*1, x[2][3] += 3*2
//   (1,1): x[2][2] += 4*1
// dx = [[1, 0, 2, 2], [0, 0, 0, 0], [6, 0, 10, 10]]: row 1 and column 1 are read by no tap.
TEST_P(StridedPadding, BackwardData) {
    const ConvProblem p = problem();
    both([&](auto t) {
        using T = decltype(t);
        auto w = from_logical<T>(wei(), p.w_dims(), w_values);
        auto dy = from_logical<T>(act(), p.y_dims(), dy_values);
        auto dx = Tensor<T>::poisoned(act(), p.x_dims());
        calls::conv_backward_data(strided_variant(), p, w, dy, dx);
        EXPECT_EQ(to_logical(dx), (std::vector<double>{1, 0, 2, 2, 0, 0, 0, 0, 6, 0, 10, 10}));
    });
}

// dw[i][j] = sum of dy * the element tap (i, j) reads:
//   i = 0 (rows 0, 2):     j=0: 1*0 + 2*2 + 3*8 + 4*10 = 68;  j=1: 1*3 + 3*11 = 36
//   i = 1 (oh = 0, row 2): j=0: 1*8 + 2*10 = 28;              j=1: 1*11 = 11
//   i = 2: only padding                                          -> 0, 0
// db = 1 + 2 + 3 + 4 = 10. The empty tap's zeros must be written: dw arrives poisoned.
TEST_P(StridedPadding, BackwardWeights) {
    const ConvProblem p = problem();
    both([&](auto t) {
        using T = decltype(t);
        auto x = from_logical<T>(act(), p.x_dims(), arange(12));
        auto dy = from_logical<T>(act(), p.y_dims(), dy_values);
        auto dw = Tensor<T>::poisoned(wei(), p.w_dims());
        auto db = Tensor<T>::poisoned({1});
        calls::conv_backward_weights(strided_variant(), p, x, dy, dw, &db);
        EXPECT_EQ(to_logical(dw), (std::vector<double>{68, 36, 28, 11, 0, 0}));
        EXPECT_EQ(db[0], T(10));
    });
}

// Rows (oh, ow), columns (i, j) (one channel); padding reads 0:
//   (0,0): taps (0,0) x[0][0] = 0, (0,1) x[0][3] = 3, (1,0) x[2][0] = 8, (1,1) x[2][3] = 11
//   (0,1): (0,0) x[0][2] = 2, (1,0) x[2][2] = 10
//   (1,0): (0,0) x[2][0] = 8, (0,1) x[2][3] = 11
//   (1,1): (0,0) x[2][2] = 10
// col2im of a column matrix of ones counts the (output, tap) pairs that read each element:
// x[2][0], x[2][2], x[2][3] are read twice, x[0][0], x[0][2], x[0][3] once, the rest never.
TEST_P(StridedPadding, Im2colAndCol2im) {
    const ConvProblem p = problem();
    both([&](auto t) {
        using T = decltype(t);
        auto x = from_logical<T>(act(), p.x_dims(), arange(12));
        auto col = Tensor<T>::poisoned({4, 6});
        calls::im2col(strided_variant(), p, x, col);
        EXPECT_EQ(std::vector<double>(col.values().begin(), col.values().end()),
                  (std::vector<double>{0, 3, 8, 11, 0, 0,  2, 0, 10, 0, 0, 0,
                                       8, 11, 0, 0, 0, 0,  10, 0, 0, 0, 0, 0}));
        Tensor<T> ones({4, 6}, T(1));
        auto back = Tensor<T>::poisoned(act(), p.x_dims());
        calls::col2im(strided_variant(), p, ones, back);
        EXPECT_EQ(to_logical(back), (std::vector<double>{1, 0, 1, 1, 0, 0, 0, 0, 2, 0, 2, 2}));
    });
}

INSTANTIATE_TEST_SUITE_P(Layouts, StridedPadding, ::testing::ValuesIn(testing::kAllLayouts),
                         [](const auto& info) { return testing::layouts_name(info.param); });

// ---- Max-pooling's running choice across taps --------------------------------------------

// Equal element by element, NaN matching NaN (EXPECT_EQ would call NaN != NaN a mismatch).
::testing::AssertionResult same_values(const std::vector<double>& got, const std::vector<double>& want) {
    bool same = got.size() == want.size();
    for (size_t e = 0; same && e < got.size(); ++e)
        same = got[e] == want[e] || (std::isnan(got[e]) && std::isnan(want[e]));
    if (same) return ::testing::AssertionSuccess();
    auto out = ::testing::AssertionFailure() << "got";
    for (double v : got) out << " " << v;
    out << ", want";
    for (double v : want) out << " " << v;
    return out;
}

class StridedPool : public ::testing::TestWithParam<Layout> {
protected:
    PoolProblem problem(int64_t ic, int64_t ih, int64_t iw, int64_t pad_top_left) const {
        PoolProblem p;
        p.mb = 1, p.ic = ic, p.ih = ih, p.iw = iw, p.kh = p.kw = 2;
        p.pt = p.pl = pad_top_left;
        p.layout = GetParam();
        p.validate();
        return p;
    }
    AxisOrder act() const { return axis_order(GetParam()); }

    template <class T>
    void run(const PoolProblem& p, const std::vector<double>& x, const std::vector<double>& dy,
             const std::vector<double>& y_want, const std::vector<double>& argmax_want,
             const std::vector<double>& dx_want) const {
        auto xt = from_logical<T>(act(), p.x_dims(), x);
        auto y = Tensor<T>::poisoned(act(), p.y_dims());
        auto argmax = Tensor<int64_t>::poisoned(act(), p.y_dims());
        calls::pool_forward(strided_variant(), p, xt, y, argmax);
        EXPECT_TRUE(same_values(to_logical(y), y_want));
        EXPECT_EQ(to_logical(argmax), argmax_want);
        auto dyt = from_logical<T>(act(), p.y_dims(), dy);
        auto dx = Tensor<T>::poisoned(act(), p.x_dims());
        calls::pool_backward(strided_variant(), p, xt, dyt, dx);
        EXPECT_EQ(to_logical(dx), dx_want);
    }
};

// 2x2 windows, stride 1, on 2x3 channels: two windows, columns {0, 1} and {1, 2}; taps in
// window order (0,0) (0,1) (1,0) (1,1) are 0..3.
// Channel 0, ties:  [[1, 3, 3], [3, 2, 3]]
//   window 0: 1 3 3 2 -> the first 3, tap 1;  window 1: 3 3 2 3 -> the first 3, tap 0
// Channel 1, NaN:   [[1, 7, nan], [nan, 9, nan]]
//   window 0: 1 7 nan 9   -> nan, tap 2: a NaN beats 7 before it and 9 after it
//   window 1: 7 nan 9 nan -> nan, tap 1: the first NaN, not the later one
// Backward, dy = [1, 2] and [3, 4]: channel 0's windows both chose x[0][1]: 1 + 2 = 3 there;
// channel 1's chose x[1][0] (3) and x[0][2] (4).
TEST_P(StridedPool, TiesGoToFirstMaximumAndFirstNanWins) {
    const PoolProblem p = problem(2, 2, 3, 0);
    const std::vector<double> x{1, 3, 3, 3, 2, 3,  1, 7, kNan, kNan, 9, kNan};
    const std::vector<double> y{3, 3, kNan, kNan}, argmax{1, 0, 2, 1};
    const std::vector<double> dx{0, 3, 0, 0, 0, 0,  0, 0, 4, 3, 0, 0};
    run<float>(p, x, {1, 2, 3, 4}, y, argmax, dx);
    run<double>(p, x, {1, 2, 3, 4}, y, argmax, dx);
}

// 2x2 windows, stride 1, padding 1 top and left: OH = OW = (2 + 1 - 2)/1 + 1 = 2.
// x = [[-inf, -inf], [-inf, 5]]; padding is -inf too but is never chosen:
//   window (0,0): pad pad pad x[0][0]        -> -inf, tap 3
//   window (0,1): pad pad x[0][0] x[0][1]    -> -inf, tap 2 (the first of x's -infs)
//   window (1,0): pad x[0][0] pad x[1][0]    -> -inf, tap 1
//   window (1,1): x[0][0] x[0][1] x[1][0] 5  -> 5, tap 3
// Backward, dy = [[1, 2], [3, 4]]: three windows chose x[0][0] (1 + 2 + 3 = 6), one x[1][1] (4).
TEST_P(StridedPool, AllMinusInfinityWindowChoosesItsFirstElementOfX) {
    const PoolProblem p = problem(1, 2, 2, 1);
    const std::vector<double> x{-kInf, -kInf, -kInf, 5};
    const std::vector<double> y{-kInf, -kInf, -kInf, 5}, argmax{3, 2, 1, 3}, dx{6, 0, 0, 4};
    run<float>(p, x, {1, 2, 3, 4}, y, argmax, dx);
    run<double>(p, x, {1, 2, 3, 4}, y, argmax, dx);
}

INSTANTIATE_TEST_SUITE_P(Layouts, StridedPool, ::testing::Values(Layout::nchw, Layout::nhwc),
                         [](const auto& info) { return std::string(to_string(info.param)); });

// ---- Agreement with the reference on random problems -------------------------------------

// One axis of a random problem, drawn by construction so that it is valid: the dilated
// kernel fits the padded input; for pooling it fits x itself, the pads stay below its
// extent (every window overlaps x) and the dilation is at most x's extent (no window falls
// between elements of x), so every window meets an element of x.
struct Axis {
    int64_t in, kernel, stride, pad_before, pad_after, dilation;
};

rc::Gen<Axis> axis(bool pooling) {
    return rc::gen::exec([pooling] {
        Axis a{};
        a.in = *rc::gen::inRange<int64_t>(1, 9);
        a.stride = *rc::gen::inRange<int64_t>(1, 4);
        a.dilation = *rc::gen::inRange<int64_t>(1, (pooling ? std::min<int64_t>(a.in, 3) : 3) + 1);
        if (pooling) {
            a.kernel = *rc::gen::inRange<int64_t>(1, (a.in - 1) / a.dilation + 2);
            const int64_t extent = a.dilation * (a.kernel - 1) + 1;
            a.pad_before = *rc::gen::inRange<int64_t>(0, std::min<int64_t>(extent, 3));
            a.pad_after = *rc::gen::inRange<int64_t>(0, std::min<int64_t>(extent, 3));
        } else {
            a.pad_before = *rc::gen::inRange<int64_t>(0, 4);
            a.pad_after = *rc::gen::inRange<int64_t>(0, 4);
            a.kernel = *rc::gen::inRange<int64_t>(1, (a.in + a.pad_before + a.pad_after - 1) / a.dilation + 2);
        }
        return a;
    });
}

CheckSpec random_spec() {
    CheckSpec s;
    s.op = *rc::gen::element(Op::conv2d, Op::maxpool2d, Op::im2col, Op::col2im);
    const bool pooling = s.op == Op::maxpool2d;
    ConvProblem& p = s.problem;
    const Axis h = *axis(pooling), w = *axis(pooling);
    p.ih = h.in, p.kh = h.kernel, p.sh = h.stride, p.pt = h.pad_before, p.pb = h.pad_after, p.dh = h.dilation;
    p.iw = w.in, p.kw = w.kernel, p.sw = w.stride, p.pl = w.pad_before, p.pr = w.pad_after, p.dw = w.dilation;
    p.mb = *rc::gen::inRange<int64_t>(1, 3);
    p.ic = *rc::gen::inRange<int64_t>(1, 4);
    p.oc = *rc::gen::inRange<int64_t>(1, 4);
    p.layout = *rc::gen::element(Layout::nchw, Layout::nhwc);
    p.weights_layout = *rc::gen::element(WeightsLayout::oihw, WeightsLayout::hwio);
    if (s.op == Op::conv2d)
        s.pass = *rc::gen::element(Pass::forward, Pass::backward_data, Pass::backward_weights);
    else if (pooling)
        s.pass = *rc::gen::element(Pass::forward, Pass::backward);
    s.bias = *rc::gen::arbitrary<bool>();
    s.dtype = *rc::gen::element(DType::f32, DType::f64);
    s.fill = pooling ? *rc::gen::element(Fill::ties, Fill::floats, Fill::special)
                     : *rc::gen::element(Fill::integers, Fill::floats);
    s.seed = *rc::gen::inRange<uint64_t>(1, 1000);
    return s;
}

RC_GTEST_PROP(StridedProperty, AgreesWithNaiveOnRandomProblems, ()) {
    const CheckSpec s = random_spec();
    const CheckResult r = run_check(strided_variant(), s);
    if (r.status != Status::passed) RC_FAIL(repro_command(s, "strided") + "\n" + r.detail);
}

}  // namespace
}  // namespace convconf
