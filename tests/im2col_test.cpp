// What is special to the im2col family: the column matrix it allocates (its workspace),
// (c, i, j) columns whatever the layout, col2im as im2col's adjoint, max-pooling over a
// column matrix padded with -infinity, and gradients through GEMM and col2im in every
// layout. Every expected value is worked out by hand in the comment above it.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "impl/im2col/im2col.hpp"
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

// Element-wise equality in which NaN equals NaN, for max-pooling's NaN rules.
void expect_same(const std::vector<double>& got, const std::vector<double>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t e = 0; e < got.size(); ++e)
        EXPECT_TRUE(std::isnan(want[e]) ? std::isnan(got[e]) : got[e] == want[e])
            << "element " << e << ": got " << got[e] << " want " << want[e];
}

ConvProblem conv(int64_t mb, int64_t ic, int64_t ih, int64_t iw, int64_t oc, int64_t k) {
    ConvProblem p;
    p.mb = mb, p.ic = ic, p.ih = ih, p.iw = iw, p.oc = oc, p.kh = p.kw = k;
    return p;
}

Call kind(Op op, Pass pass, DType dtype, const ConvProblem& p) { return Call(direction_of(op, pass), dtype, p); }

// The column matrix is lowered one block of output positions of one image at a time
// (impl/core/lowering.hpp, position_blocks: 48Ki elements / (ic*kh*kw) positions, at least
// 96, at most one image's). These tests run on one thread: one block in flight.
// mb2 ic3 5x5, 3x3 kernel, pad 1, stride 1: oh = ow = (5 + 2 - 3)/1 + 1 = 5, so one image's
// block is [3*3*3 x 5*5] = [27 x 25] = 675 elements: 2700 bytes in f32, 5400 in f64.
// Backward-weights sums each image (group, at most 8) into a partial dW of 4*27 = 108
// elements, the first in dw itself. Backward-data multiplies by W^T, copied plain (the
// GEMM runs faster on it), 108 elements. HWIO weights with NCHW add an OIHW copy of w, 108.
// Max-pooling lowers one tile at a time per task (an image here), on each thread running:
// the image's 25 rows of the column matrix, 25*27 = 675 elements, 2700 bytes in f32.
TEST(Im2colWorkspace, IsOneBlockOfTheColumnMatrixPlusAnyWeightsReorder) {
    const auto v = im2col::make_variant();
    ConvProblem p = conv(2, 3, 5, 5, 4, 3);
    p.pt = p.pl = p.pb = p.pr = 1;
    p.validate();
    EXPECT_EQ(v->workspace_bytes(kind(Op::conv2d, Pass::forward, DType::f32, p)), 2700);
    EXPECT_EQ(v->workspace_bytes(kind(Op::conv2d, Pass::forward, DType::f64, p)), 5400);
    EXPECT_EQ(v->workspace_bytes(kind(Op::conv2d, Pass::backward_data, DType::f32, p)), (675 + 108) * 4);
    EXPECT_EQ(v->workspace_bytes(kind(Op::conv2d, Pass::backward_data, DType::f64, p)), (675 + 108) * 8);
    EXPECT_EQ(v->workspace_bytes(kind(Op::conv2d, Pass::backward_weights, DType::f32, p)), (675 + 108) * 4);
    for (Pass pass : {Pass::forward, Pass::backward})
        EXPECT_EQ(v->workspace_bytes(kind(Op::maxpool2d, pass, DType::f32, p)), 2700);
    p.weights_layout = WeightsLayout::hwio;
    EXPECT_EQ(v->workspace_bytes(kind(Op::conv2d, Pass::forward, DType::f32, p)), (675 + 108) * 4);
    // NHWC pairs with HWIO: w is the GEMM's matrix already, stored transposed, so W^T is
    // plain as well.
    p.layout = Layout::nhwc;
    EXPECT_EQ(v->workspace_bytes(kind(Op::conv2d, Pass::forward, DType::f32, p)), 675 * 4);
    EXPECT_EQ(v->workspace_bytes(kind(Op::conv2d, Pass::backward_data, DType::f32, p)), 675 * 4);
    // The lowering writes straight into its output: no scratch at all.
    EXPECT_EQ(v->workspace_bytes(kind(Op::im2col, Pass::forward, DType::f64, p)), 0);
    EXPECT_EQ(v->workspace_bytes(kind(Op::col2im, Pass::forward, DType::f64, p)), 0);
}

// ic2 6x7, kernel 3x2, stride (2, 1), pad top 1 right 2, dilation (2, 1):
// oh = floor((6 + 1 + 0 - 2*2 - 1)/2) + 1 = 2, ow = floor((7 + 0 + 2 - 1*1 - 1)/1) + 1 = 8,
// so [1*2*8 x 2*3*2] = [16 x 12] = 192 elements, 1536 bytes in f64.
TEST(Im2colWorkspace, FollowsStridePadAndDilation) {
    ConvProblem p = conv(1, 2, 6, 7, 1, 0);
    p.kh = 3, p.kw = 2, p.sh = 2, p.pt = 1, p.pr = 2, p.dh = 2;
    p.validate();
    const auto v = im2col::make_variant();
    EXPECT_EQ(v->workspace_bytes(kind(Op::conv2d, Pass::forward, DType::f64, p)), 1536);
}

// 001 In [10]: my_im2col(np.random.randn(1,3,448,640), 5, 5).shape is (282384, 75):
// 444*636 = 282384 rows, 3*5*5 = 75 columns, 84715200 bytes in f32 if held whole. The
// variant holds one block of it: 49152 / 75 = 655 positions, 655*75*4 = 196500 bytes.
TEST(Im2colWorkspace, NotebookShapeIsTiled) {
    ConvProblem p = conv(1, 3, 448, 640, 1, 5);
    p.validate();
    const auto v = im2col::make_variant();
    EXPECT_EQ(v->workspace_bytes(kind(Op::conv2d, Pass::forward, DType::f32, p)), int64_t{655} * 75 * 4);
    EXPECT_LT(v->workspace_bytes(kind(Op::conv2d, Pass::forward, DType::f32, p)), int64_t{282384} * 75 * 4 / 400);
}

// A 1x1 kernel with stride 1 and no padding: x is its own column matrix, no block. Only
// backward-data's plain copy of W^T remains: 32*64 elements, 8192 bytes.
TEST(Im2colWorkspace, NoBlockWhenXIsTheColumnMatrix) {
    ConvProblem p = conv(2, 64, 14, 14, 32, 1);
    p.validate();
    const auto v = im2col::make_variant();
    EXPECT_EQ(v->workspace_bytes(kind(Op::conv2d, Pass::forward, DType::f32, p)), 0);
    EXPECT_EQ(v->workspace_bytes(kind(Op::conv2d, Pass::backward_data, DType::f32, p)), 8192);
}

class Im2colFamily : public ::testing::TestWithParam<Layouts> {
protected:
    const std::unique_ptr<Variant> variant = im2col::make_variant();

    AxisOrder act() const { return axis_order(GetParam().act); }
    AxisOrder wei() const { return axis_order(GetParam().wei); }
    template <class P>
    P in_layout(P p) const {
        p.layout = GetParam().act;
        p.validate();
        return p;
    }
    ConvProblem conv_in_layout(ConvProblem p) const {
        p.weights_layout = GetParam().wei;
        return in_layout(p);
    }
};

// x = arange(8) as 1x2x2x2 (channel 0 [[0,1],[2,3]], channel 1 [[4,5],[6,7]]), a 2x2
// kernel, one column of padding on the right only: oh = 1, ow = 2. Row ow=0 is the whole
// image, c then i then j: 0 1 2 3 | 4 5 6 7. Row ow=1 reads columns 1 and 2 (padding):
// 1 0 3 0 | 5 0 7 0. Whatever the layout, the columns are (c, i, j).
// col2im adds each entry back where it came from: the right column of x is copied twice,
// the left once, padding is dropped: [[0,2],[2,6]] and [[4,10],[6,14]].
TEST_P(Im2colFamily, ColumnsAreChannelThenTapAndCol2imIsTheAdjoint) {
    ConvProblem p = conv(1, 2, 2, 2, 1, 2);
    p.pr = 1;
    p = in_layout(p);
    both([&](auto t) {
        using T = decltype(t);
        auto x = from_logical<T>(act(), p.x_dims(), arange(8));
        auto col = Tensor<T>::poisoned({2, 8});
        calls::im2col(*variant, p, x, col);
        EXPECT_EQ(std::vector<double>(col.values().begin(), col.values().end()),
                  (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 1, 0, 3, 0, 5, 0, 7, 0}));
        auto back = Tensor<T>::poisoned(act(), p.x_dims());
        calls::col2im(*variant, p, col, back);
        EXPECT_EQ(to_logical(back), (std::vector<double>{0, 2, 2, 6, 4, 10, 6, 14}));
    });
}

// One 2x6 channel, 2x2 windows, stride 1: five windows, taps (x[0][ow], x[0][ow+1],
// x[1][ow], x[1][ow+1]).
//   x = [[1, nan, 5, 5, -inf, 2], [inf, 7, 5, 5, -inf, inf]]
//   ow 0: [1, nan, inf, 7]     the first NaN beats the later inf: y nan, argmax 1
//   ow 1: [nan, 5, 7, 5]       a NaN first stays chosen:           y nan, argmax 0
//   ow 2: [5, 5, 5, 5]         all tie, the first wins:            y 5,   argmax 0
//   ow 3: [5, -inf, 5, -inf]   tie again:                          y 5,   argmax 0
//   ow 4: [-inf, 2, -inf, inf] +inf is the maximum:                y inf, argmax 3
// Backward with dy = [1 2 3 4 5]: windows 0 and 1 both chose x[0][1] (1 + 2 = 3), window
// 2 x[0][2], window 3 x[0][3], window 4 x[1][5].
TEST_P(Im2colFamily, MaxPoolNanInfinityAndTiesOverTheColumnMatrix) {
    PoolProblem p;
    p.mb = 1, p.ic = 1, p.ih = 2, p.iw = 6, p.kh = p.kw = 2;
    p = in_layout(p);
    both([&](auto t) {
        using T = decltype(t);
        auto x = from_logical<T>(act(), p.x_dims(),
                                 {1, kNan, 5, 5, -kInf, 2, kInf, 7, 5, 5, -kInf, kInf});
        auto y = Tensor<T>::poisoned(act(), p.y_dims());
        auto argmax = Tensor<int64_t>::poisoned(act(), p.y_dims());
        calls::pool_forward(*variant, p, x, y, argmax);
        expect_same(to_logical(y), {kNan, kNan, 5, 5, kInf});
        EXPECT_EQ(to_logical(argmax), (std::vector<double>{1, 0, 0, 0, 3}));
        auto dy = from_logical<T>(act(), p.y_dims(), {1, 2, 3, 4, 5});
        auto dx = Tensor<T>::poisoned(act(), p.x_dims());
        calls::pool_backward(*variant, p, x, dy, dx);
        EXPECT_EQ(to_logical(dx), (std::vector<double>{0, 3, 3, 4, 0, 0, 0, 0, 0, 0, 0, 5}));
    });
}

// x is 2x2 of -inf, 3x3 windows, stride 1, pad 1: oh = ow = 2 and every window holds all
// four elements of x among padding, all of them -inf. The chosen tap is the first that
// reads x, never the padding before it: window (0,0) reads x from tap (1,1) = 4, window
// (0,1) from tap (1,0) = 3, window (1,0) from tap (0,1) = 1, window (1,1) from tap 0. Each
// of those taps is x[0][0], so backward with dy = [1 2 3 4] puts 1+2+3+4 = 10 there.
TEST_P(Im2colFamily, MaxPoolAllMinusInfinityChoosesXNotPadding) {
    PoolProblem p;
    p.mb = 1, p.ic = 1, p.ih = p.iw = 2, p.kh = p.kw = 3, p.sh = p.sw = 1;
    p.pt = p.pl = p.pb = p.pr = 1;
    p = in_layout(p);
    both([&](auto t) {
        using T = decltype(t);
        auto x = from_logical<T>(act(), p.x_dims(), std::vector<double>(4, -kInf));
        auto y = Tensor<T>::poisoned(act(), p.y_dims());
        auto argmax = Tensor<int64_t>::poisoned(act(), p.y_dims());
        calls::pool_forward(*variant, p, x, y, argmax);
        EXPECT_EQ(to_logical(y), std::vector<double>(4, -kInf));
        EXPECT_EQ(to_logical(argmax), (std::vector<double>{4, 3, 1, 0}));
        auto dy = from_logical<T>(act(), p.y_dims(), {1, 2, 3, 4});
        auto dx = Tensor<T>::poisoned(act(), p.x_dims());
        calls::pool_backward(*variant, p, x, dy, dx);
        EXPECT_EQ(to_logical(dx), (std::vector<double>{10, 0, 0, 0}));
    });
}

// 000 In [93]: x = arange(16) as 4x4, W = ones 2x2, dout = arange(1, 10) as 3x3.
// backward_data (the notebook's output): dx[h][w] sums dout over the windows covering
// (h, w), e.g. dx[1][1] = 1 + 2 + 4 + 5 = 12.
// backward_weights: dW[i][j] = sum dout[oh][ow] * x[oh+i][ow+j], with x[r][c] = 4r + c:
// dW[0][0] = 0 + 2 + 6 + 16 + 25 + 36 + 56 + 72 + 90 = 303; shifting the window adds
// sum(dout) = 45 per column and 4*45 = 180 per row: 348, 483, 528. db = sum(dout) = 45.
// The case runs as a batch of two identical images, so NCHW takes one GEMM block per
// image: dx repeats per image, and dW and db, summed over the blocks, double.
TEST_P(Im2colFamily, NotebookGradientsThroughGemmAndCol2im) {
    const ConvProblem p = conv_in_layout(conv(2, 1, 4, 4, 1, 2));
    const auto twice = [](std::vector<double> v) {
        v.insert(v.end(), v.begin(), v.end());
        return v;
    };
    both([&](auto t) {
        using T = decltype(t);
        auto w = from_logical<T>(wei(), p.w_dims(), std::vector<double>(4, 1));
        auto dy = from_logical<T>(act(), p.y_dims(), twice(arange(9, 1)));
        auto dx = Tensor<T>::poisoned(act(), p.x_dims());
        calls::conv_backward_data(*variant, p, w, dy, dx);
        EXPECT_EQ(to_logical(dx),
                  twice({1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9}));
        auto x = from_logical<T>(act(), p.x_dims(), twice(arange(16)));
        auto dw = Tensor<T>::poisoned(wei(), p.w_dims());
        auto db = Tensor<T>::poisoned({1});
        calls::conv_backward_weights(*variant, p, x, dy, dw, &db);
        EXPECT_EQ(to_logical(dw), (std::vector<double>{2 * 303, 2 * 348, 2 * 483, 2 * 528}));
        EXPECT_EQ(db[0], T(2 * 45));
    });
}

INSTANTIATE_TEST_SUITE_P(Layouts, Im2colFamily, ::testing::ValuesIn(testing::kAllLayouts),
                         [](const auto& info) { return testing::layouts_name(info.param); });

}  // namespace
}  // namespace convconf
