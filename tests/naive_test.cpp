// The naive reference pinned to values the notebooks in ../shared/seeds/ printed (cell
// named in each test), and to values computed by hand for what the notebooks never show
// (kh != kw, stride > 1, dilation, pads beyond the kernel, db), with the arithmetic in the
// comments; in every layout and both dtypes. None of these values came from convconf's code.
#include <gtest/gtest.h>

#include <limits>

#include "reference/registry.hpp"
#include "tests/test_util.hpp"

namespace convconf {
namespace {

using testing::arange;
using testing::both;
using testing::from_logical;
using testing::Layouts;
using testing::to_logical;

// Runs naive's entry points on values given in logical (NCHW / OIHW) order, in the layouts
// of the test's parameter, returning the outputs in logical order.
class NaiveFixture : public ::testing::TestWithParam<Layouts> {
protected:
    const Variant& naive = naive_variant();

    ConvProblem conv(int64_t mb, int64_t ic, int64_t ih, int64_t oc, int64_t k, int64_t pad = 0) const {
        ConvProblem p;
        p.mb = mb, p.ic = ic, p.ih = p.iw = ih, p.oc = oc, p.kh = p.kw = k;
        p.pt = p.pl = p.pb = p.pr = pad;
        return in_layouts(p);
    }
    ConvProblem in_layouts(ConvProblem p) const {
        p.layout = GetParam().act;
        p.weights_layout = GetParam().wei;
        p.validate();
        return p;
    }
    PoolProblem pool(int64_t mb, int64_t ic, int64_t ih, int64_t iw, int64_t k, int64_t s) const {
        PoolProblem p;
        p.mb = mb, p.ic = ic, p.ih = ih, p.iw = iw, p.kh = p.kw = k, p.sh = p.sw = s;
        return in_layout(p);
    }
    PoolProblem in_layout(PoolProblem p) const {
        p.layout = GetParam().act;
        p.validate();
        return p;
    }
    AxisOrder act() const { return axis_order(GetParam().act); }
    AxisOrder wei() const { return axis_order(GetParam().wei); }

    template <class T>
    std::vector<double> forward(const ConvProblem& p, const std::vector<double>& x,
                                const std::vector<double>& w, const std::vector<double>* b) const {
        auto xt = from_logical<T>(act(), p.x_dims(), x);
        auto wt = from_logical<T>(wei(), p.w_dims(), w);
        Tensor<T> bt({p.oc});
        if (b) for (int64_t k = 0; k < p.oc; ++k) bt[k] = T((*b)[k]);
        auto y = Tensor<T>::poisoned(act(), p.y_dims());
        calls::conv_forward(naive, p, xt, wt, b ? &bt : nullptr, y);
        return to_logical(y);
    }
    template <class T>
    std::vector<double> backward_data(const ConvProblem& p, const std::vector<double>& w,
                                      const std::vector<double>& dy) const {
        auto dx = Tensor<T>::poisoned(act(), p.x_dims());
        calls::conv_backward_data(naive, p, from_logical<T>(wei(), p.w_dims(), w), from_logical<T>(act(), p.y_dims(), dy), dx);
        return to_logical(dx);
    }
    // dw in logical order, then db.
    template <class T>
    std::pair<std::vector<double>, std::vector<double>> backward_weights(const ConvProblem& p,
                                                                         const std::vector<double>& x,
                                                                         const std::vector<double>& dy) const {
        auto dw = Tensor<T>::poisoned(wei(), p.w_dims());
        auto db = Tensor<T>::poisoned({p.oc});
        calls::conv_backward_weights(naive, p, from_logical<T>(act(), p.x_dims(), x), from_logical<T>(act(), p.y_dims(), dy),
                                    dw, &db);
        return {to_logical(dw), std::vector<double>(db.values().begin(), db.values().end())};
    }
    // y, then argmax, in logical order.
    template <class T>
    std::pair<std::vector<double>, std::vector<double>> pool_forward(const PoolProblem& p,
                                                                     const std::vector<double>& x) const {
        auto y = Tensor<T>::poisoned(act(), p.y_dims());
        auto argmax = Tensor<int64_t>::poisoned(act(), p.y_dims());
        calls::pool_forward(naive, p, from_logical<T>(act(), p.x_dims(), x), y, argmax);
        return {to_logical(y), to_logical(argmax)};
    }
    template <class T>
    std::vector<double> pool_backward(const PoolProblem& p, const std::vector<double>& x,
                                      const std::vector<double>& dy) const {
        auto dx = Tensor<T>::poisoned(act(), p.x_dims());
        calls::pool_backward(naive, p, from_logical<T>(act(), p.x_dims(), x), from_logical<T>(act(), p.y_dims(), dy), dx);
        return to_logical(dx);
    }
};

class NaiveNotebook : public NaiveFixture {};

// 000 In [3] and 001 In [1]: arange(16) as 1x1x4x4, a 2x2 kernel of ones, bias 3.
TEST_P(NaiveNotebook, ConvArange16OnesKernelBias3) {
    const ConvProblem p = conv(1, 1, 4, 1, 2);
    const std::vector<double> b{3};
    both([&](auto t) {
        EXPECT_EQ(forward<decltype(t)>(p, arange(16), std::vector<double>(4, 1), &b),
                  (std::vector<double>{13, 17, 21, 29, 33, 37, 45, 49, 53}));
    });
}

// 001 In [11]: arange(9) as 1x1x3x3, ones 2x2, bias 3.
TEST_P(NaiveNotebook, ConvArange9) {
    const ConvProblem p = conv(1, 1, 3, 1, 2);
    const std::vector<double> b{3};
    both([&](auto t) {
        EXPECT_EQ(forward<decltype(t)>(p, arange(9), std::vector<double>(4, 1), &b),
                  (std::vector<double>{11, 15, 23, 27}));
    });
}

// 001 In [13]: the same with pad=1.
TEST_P(NaiveNotebook, ConvPad1) {
    const ConvProblem p = conv(1, 1, 3, 1, 2, 1);
    const std::vector<double> b{3};
    both([&](auto t) {
        EXPECT_EQ(forward<decltype(t)>(p, arange(9), std::vector<double>(4, 1), &b),
                  (std::vector<double>{3, 4, 6, 5, 6, 11, 15, 10, 12, 23, 27, 16, 9, 16, 18, 11}));
    });
}

// 000 In [46]: arange(32) as 1x2x4x4, ones (1,2,2,2), bias 3.
TEST_P(NaiveNotebook, ConvTwoChannels) {
    const ConvProblem p = conv(1, 2, 4, 1, 2);
    const std::vector<double> b{3};
    both([&](auto t) {
        EXPECT_EQ(forward<decltype(t)>(p, arange(32), std::vector<double>(8, 1), &b),
                  (std::vector<double>{87, 95, 103, 119, 127, 135, 151, 159, 167}));
    });
}

// 000 In [51]: one channel, two filters (ones and twos), bias 3 broadcast to both.
TEST_P(NaiveNotebook, ConvTwoFilters) {
    const ConvProblem p = conv(1, 1, 4, 2, 2);
    const std::vector<double> b{3, 3};
    both([&](auto t) {
        EXPECT_EQ(forward<decltype(t)>(p, arange(16), {1, 1, 1, 1, 2, 2, 2, 2}, &b),
                  (std::vector<double>{13, 17, 21, 29, 33, 37, 45, 49, 53,  //
                                       23, 31, 39, 55, 63, 71, 87, 95, 103}));
    });
}

// 000 In [58]: arange(64) as 2x2x4x4, ones (3,2,2,2), no bias.
TEST_P(NaiveNotebook, ConvTwoImagesThreeFiltersNoBias) {
    const ConvProblem p = conv(2, 2, 4, 3, 2);
    std::vector<double> want;
    for (int f = 0; f < 3; ++f) for (double v : {84, 92, 100, 116, 124, 132, 148, 156, 164}) want.push_back(v);
    for (int f = 0; f < 3; ++f) for (double v : {340, 348, 356, 372, 380, 388, 404, 412, 420}) want.push_back(v);
    both([&](auto t) {
        EXPECT_EQ(forward<decltype(t)>(p, arange(64), std::vector<double>(24, 1), nullptr), want);
    });
}

// 000 In [93]: backward data of the arange(16) convolution: W ones 2x2, dout arange(1,10).
TEST_P(NaiveNotebook, ConvBackwardData) {
    const ConvProblem p = conv(1, 1, 4, 1, 2);
    both([&](auto t) {
        using T = decltype(t);
        auto w = from_logical<T>(wei(), p.w_dims(), std::vector<double>(4, 1));
        auto dy = from_logical<T>(act(), p.y_dims(), arange(9, 1));
        auto dx = Tensor<T>::poisoned(act(), p.x_dims());
        calls::conv_backward_data(naive, p, w, dy, dx);
        EXPECT_EQ(to_logical(dx), (std::vector<double>{1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9}));
    });
}

// 000 In [40]: im2col of arange(16), 2x2 kernel: the (9, 4) column matrix.
// 000 In [92] / 001 In [15]: col2im of that matrix back onto 4x4 sums overlapping taps.
TEST_P(NaiveNotebook, Im2colAndCol2im) {
    const ConvProblem p = conv(1, 1, 4, 1, 2);
    const std::vector<double> col_want{0, 1, 4, 5,  1, 2, 5, 6,  2, 3, 6, 7,  4, 5, 8, 9,  5, 6, 9, 10,
                                       6, 7, 10, 11,  8, 9, 12, 13,  9, 10, 13, 14,  10, 11, 14, 15};
    both([&](auto t) {
        using T = decltype(t);
        auto x = from_logical<T>(act(), p.x_dims(), arange(16));
        auto col = Tensor<T>::poisoned({9, 4});
        calls::im2col(naive, p, x, col);
        EXPECT_EQ(std::vector<double>(col.values().begin(), col.values().end()), col_want);
        auto back = Tensor<T>::poisoned(act(), p.x_dims());
        calls::col2im(naive, p, col, back);
        EXPECT_EQ(to_logical(back),
                  (std::vector<double>{0, 2, 4, 3, 8, 20, 24, 14, 16, 36, 40, 22, 12, 26, 28, 15}));
    });
}

// 001 In [5]: im2col of arange(18) as 1x2x3x3 with a 2x2 kernel: columns ordered (c, i, j).
TEST_P(NaiveNotebook, Im2colTwoChannelsColumnOrder) {
    const ConvProblem p = conv(1, 2, 3, 1, 2);
    both([&](auto t) {
        using T = decltype(t);
        auto x = from_logical<T>(act(), p.x_dims(), arange(18));
        auto col = Tensor<T>::poisoned({4, 8});
        calls::im2col(naive, p, x, col);
        EXPECT_EQ(std::vector<double>(col.values().begin(), col.values().end()),
                  (std::vector<double>{0, 1, 3, 4, 9, 10, 12, 13,  1, 2, 4, 5, 10, 11, 13, 14,
                                       3, 4, 6, 7, 12, 13, 15, 16,  4, 5, 7, 8, 13, 14, 16, 17}));
    });
}

// 001 In [18]-[24]: 2x2 max-pool, stride 2, on one 4x4 channel: y, arg_max, and dx for
// dout [[1,2],[3,4]].
TEST_P(NaiveNotebook, MaxPoolOneChannel) {
    const PoolProblem p = pool(1, 1, 4, 4, 2, 2);
    const std::vector<double> x{7, 11, 13, 15, 3, 4, 2, 3, 1, 2, 15, 9, 1, 8, 3, 10};
    both([&](auto t) {
        using T = decltype(t);
        auto xt = from_logical<T>(act(), p.x_dims(), x);
        auto y = Tensor<T>::poisoned(act(), p.y_dims());
        auto argmax = Tensor<int64_t>::poisoned(act(), p.y_dims());
        calls::pool_forward(naive, p, xt, y, argmax);
        EXPECT_EQ(to_logical(y), (std::vector<double>{11, 15, 8, 15}));
        EXPECT_EQ(to_logical(argmax), (std::vector<double>{1, 1, 3, 0}));
        auto dy = from_logical<T>(act(), p.y_dims(), {1, 2, 3, 4});
        auto dx = Tensor<T>::poisoned(act(), p.x_dims());
        calls::pool_backward(naive, p, xt, dy, dx);
        EXPECT_EQ(to_logical(dx), (std::vector<double>{0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 4, 0, 0, 3, 0, 0}));
    });
}

// 001 In [25]-[27]: two channels; the notebook's arg_max lists rows (oh, ow, c).
TEST_P(NaiveNotebook, MaxPoolTwoChannels) {
    const PoolProblem p = pool(1, 2, 4, 4, 2, 2);
    const std::vector<double> x{7, 11, 13, 15, 3, 4, 2, 3, 1, 2, 15, 9, 1, 8, 3, 10,
                                5, 8, 6, 7, 10, 4, 11, 13, 8, 3, 10, 4, 1, 2, 5, 15};
    both([&](auto t) {
        using T = decltype(t);
        auto xt = from_logical<T>(act(), p.x_dims(), x);
        auto y = Tensor<T>::poisoned(act(), p.y_dims());
        auto argmax = Tensor<int64_t>::poisoned(act(), p.y_dims());
        calls::pool_forward(naive, p, xt, y, argmax);
        EXPECT_EQ(to_logical(y), (std::vector<double>{11, 15, 8, 15, 10, 13, 8, 15}));
        // arg_max [1 2 1 3 3 0 0 3] in (oh, ow, c) order is, per channel in (oh, ow) order:
        EXPECT_EQ(to_logical(argmax), (std::vector<double>{1, 1, 3, 0, 2, 3, 0, 3}));
        auto dy = from_logical<T>(act(), p.y_dims(), {1, 1, 1, 1, 2, 2, 2, 2});
        auto dx = Tensor<T>::poisoned(act(), p.x_dims());
        calls::pool_backward(naive, p, xt, dy, dx);
        EXPECT_EQ(to_logical(dx), (std::vector<double>{0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0,
                                                       0, 0, 0, 0, 2, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 2}));
    });
}

// 002 In [3]-[12]: 2x3x4x4 integers in 0..9 with many ties; 2x2 windows, stride 2.
// max_index (rows (n, oh, ow, c)) shows ties going to the first maximum, e.g. the window
// [8, 8, 8, 7] chooses 0. dx for dy = ones is the notebook's col2im output.
TEST_P(NaiveNotebook, MaxPoolTiesGoToFirstMaximum) {
    const PoolProblem p = pool(2, 3, 4, 4, 2, 2);
    const std::vector<double> x{5, 8, 9, 5, 0, 0, 1, 7, 6, 9, 2, 4, 5, 2, 4, 2,
                                4, 7, 7, 9, 1, 7, 0, 6, 9, 9, 7, 6, 9, 1, 0, 1,
                                8, 8, 3, 9, 8, 7, 3, 6, 5, 1, 9, 3, 4, 8, 1, 4,
                                0, 3, 9, 2, 0, 4, 9, 2, 7, 7, 9, 8, 6, 9, 3, 7,
                                7, 4, 5, 9, 3, 6, 8, 0, 2, 7, 7, 9, 7, 3, 0, 8,
                                7, 7, 1, 1, 3, 0, 8, 6, 4, 5, 6, 2, 5, 7, 8, 4};
    // max_index [1 1 0 0 1 1 1 0 3 1 0 0 | 3 0 0 0 1 2 3 1 3 0 1 2], rows (n, oh, ow, c),
    // regrouped to (n, c, oh, ow):
    const std::vector<double> argmax_want{1, 0, 1, 1,  1, 1, 0, 0,  0, 1, 3, 0,
                                          3, 0, 3, 0,  0, 1, 1, 1,  0, 2, 3, 2};
    both([&](auto t) {
        using T = decltype(t);
        auto xt = from_logical<T>(act(), p.x_dims(), x);
        auto y = Tensor<T>::poisoned(act(), p.y_dims());
        auto argmax = Tensor<int64_t>::poisoned(act(), p.y_dims());
        calls::pool_forward(naive, p, xt, y, argmax);
        EXPECT_EQ(to_logical(y), (std::vector<double>{8, 9, 9, 4, 7, 9, 9, 7, 8, 9, 8, 9,
                                                      4, 9, 9, 9, 7, 9, 7, 9, 7, 8, 7, 8}));
        EXPECT_EQ(to_logical(argmax), argmax_want);
        auto dy = Tensor<T>(act(), p.y_dims(), T(1));
        auto dx = Tensor<T>::poisoned(act(), p.x_dims());
        calls::pool_backward(naive, p, xt, dy, dx);
        EXPECT_EQ(to_logical(dx),
                  (std::vector<double>{0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0,
                                       0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0,
                                       1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0,
                                       0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0,
                                       1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0,
                                       1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0}));
    });
}

// ---- By hand: what the notebooks never show ----------------------------------------
// Each case is one small problem with every direction's values worked out in its comment;
// the test runs each direction it pins in every layout, at both dtypes. An empty expected
// tensor is a direction the case does not pin.

ConvProblem conv_problem(int64_t oc, int64_t ih, int64_t iw, int64_t kh, int64_t kw) {
    ConvProblem p;
    p.mb = 1, p.ic = 1, p.oc = oc, p.ih = ih, p.iw = iw, p.kh = kh, p.kw = kw;
    return p;
}
// p with some fields set.
template <class P, class F>
P with(P p, F&& set) {
    set(p);
    return p;
}

struct ConvByHand {
    const char* name;
    ConvProblem problem;  // layouts are the test's
    std::vector<double> x, w, b, dy;  // b empty: no bias
    std::vector<double> y, dx, dw, db;
};

const ConvByHand kConvByHand[] = {
    // An asymmetric kernel, kh = 2, kw = 3, on x = arange(12) as 1x1x3x4 (x[r][c] = 4r + c):
    //   x = [[0 1 2 3] [4 5 6 7] [8 9 10 11]], w = [[1 2 3] [4 5 6]]; OH = 3-2+1 = 2, OW = 4-3+1 = 2.
    // forward, bias -5 (each step right adds sum(w) = 21, each step down 4*21 = 84):
    //   y[0][0] = 0*1+1*2+2*3 + 4*4+5*5+6*6 - 5 = 8+77 - 5 = 80
    //   y[0][1] = 1*1+2*2+3*3 + 5*4+6*5+7*6 - 5 = 14+92 - 5 = 101
    //   y[1][0] = 4*1+5*2+6*3 + 8*4+9*5+10*6 - 5 = 32+137 - 5 = 164
    //   y[1][1] = 5*1+6*2+7*3 + 9*4+10*5+11*6 - 5 = 38+152 - 5 = 185
    // backward_data, dy = [[1 2] [3 4]]: each dy[oh][ow] adds dy*w with w's corner at (oh, ow):
    //   1*w at rows 0-1, cols 0-2:  [1 2 3 0] [4 5 6 0]
    //   2*w at rows 0-1, cols 1-3:  [0 2 4 6] [0 8 10 12]
    //   3*w at rows 1-2, cols 0-2:            [3 6 9 0]  [12 15 18 0]
    //   4*w at rows 1-2, cols 1-3:            [0 4 8 12] [0 16 20 24]
    //   dx = [[1 4 7 6] [7 23 33 24] [12 31 38 24]]   (sum 210 = sum(dy) * sum(w) = 10 * 21)
    // backward_weights: dw[i][j] = sum dy[oh][ow] * x[oh+i][ow+j]
    //   = sum dy*(4oh + ow) + (4i + j)*sum(dy) = (1*0 + 2*1 + 3*4 + 4*5) + 10*(4i + j) = 34 + 10*(4i + j):
    //   dw = [[34 44 54] [74 84 94]], db = sum(dy) = 10.
    {"asymmetric_kernel", conv_problem(1, 3, 4, 2, 3), arange(12), arange(6, 1), {-5}, {1, 2, 3, 4},
     {80, 101, 164, 185}, {1, 4, 7, 6, 7, 23, 33, 24, 12, 31, 38, 24}, {34, 44, 54, 74, 84, 94}, {10}},

    // Strides sh = 2, sw = 3 (unequal, so swapping them shows), 2x2 kernel w = [[1 2] [3 4]],
    // x = arange(25) as 1x1x5x5 (x[r][c] = 5r + c). OH = (5-2)/2+1 = 2, OW = (5-2)/3+1 = 2:
    // windows start at rows 0, 2 and columns 0, 3.
    //   forward: y[oh][ow] = sum w[i][j] * (5*(2oh+i) + 3ow+j) = 10*(10oh + 3ow) + (1*0 + 2*1 + 3*5 + 4*6)
    //     = 100oh + 30ow + 41:  y = [[41 71] [141 171]]  (y[0][1]: 3*1+4*2+8*3+9*4 = 71)
    //   backward_data, dy = [[1 2] [3 4]]: dy*w placed at (2oh, 3ow), windows disjoint; row 4
    //     and column 2 are read by no window and get 0:
    //     dx = [[1 2 0 2 4] [3 4 0 6 8] [3 6 0 4 8] [9 12 0 12 16] [0 0 0 0 0]]   (sum 100 = 10*10)
    //   backward_weights: dw[i][j] = sum dy * x[2oh+i][3ow+j] = sum dy*(10oh + 3ow) + (5i + j)*sum(dy)
    //     = (1*0 + 2*3 + 3*10 + 4*13) + 10*(5i + j) = 88 + 10*(5i + j):  dw = [[88 98] [138 148]], db = 10.
    {"stride", with(conv_problem(1, 5, 5, 2, 2), [](ConvProblem& p) { p.sh = 2, p.sw = 3; }), arange(25),
     {1, 2, 3, 4}, {}, {1, 2, 3, 4}, {41, 71, 141, 171},
     {1, 2, 0, 2, 4, 3, 4, 0, 6, 8, 3, 6, 0, 4, 8, 9, 12, 0, 12, 16, 0, 0, 0, 0, 0}, {88, 98, 138, 148}, {10}},

    // Dilations dh = 2, dw = 3, 2x2 kernel w = [[1 2] [3 4]], x = arange(25) as 1x1x5x5: the
    // taps of window (oh, ow) are x[oh + 2i][ow + 3j]; the window spans 3 rows and 4 columns,
    // so OH = 5-3+1 = 3, OW = 5-4+1 = 2.
    //   forward: y = sum w[i][j] * (5*(oh+2i) + ow+3j) = 10*(5oh + ow) + (1*0 + 2*3 + 3*10 + 4*13)
    //     = 50oh + 10ow + 88:  y = [[88 98] [138 148] [188 198]]  (y[0][0]: x00, x03, x20, x23 = 0, 3, 10, 13)
    //   backward_data, dy = [[1 2] [3 4] [5 6]]: dy[oh][ow] adds 1, 2, 3, 4 times dy at
    //     (oh, ow), (oh, ow+3), (oh+2, ow), (oh+2, ow+3):
    //     row 0: dy00 at c0, c3; dy01 at c1, c4            -> [1 2 0 2 4]
    //     row 1: dy10 at c0, c3; dy11 at c1, c4            -> [3 4 0 6 8]
    //     row 2: 3*dy00 + 1*dy20 at c0 = 3+5, c1 = 6+6,
    //            4*dy00 + 2*dy20 at c3 = 4+10, c4 = 8+12  -> [8 12 0 14 20]
    //     row 3: 3*dy10, 3*dy11, 4*dy10, 4*dy11            -> [9 12 0 12 16]
    //     row 4: 3*dy20, 3*dy21, 4*dy20, 4*dy21            -> [15 18 0 20 24]   (sum 210 = 21*10)
    //   backward_weights: dw[i][j] = sum dy * x[oh+2i][ow+3j] = sum dy*(5oh + ow) + (10i + 3j)*sum(dy)
    //     = (0 + 2*1 + 3*5 + 4*6 + 5*10 + 6*11) + 21*(10i + 3j) = 157 + 21*(10i + 3j):
    //     dw = [[157 220] [367 430]]  (dw[1][1]: 13 + 2*14 + 3*18 + 4*19 + 5*23 + 6*24 = 430), db = 21.
    {"dilation", with(conv_problem(1, 5, 5, 2, 2), [](ConvProblem& p) { p.dh = 2, p.dw = 3; }), arange(25),
     {1, 2, 3, 4}, {}, {1, 2, 3, 4, 5, 6}, {88, 98, 138, 148, 188, 198},
     {1, 2, 0, 2, 4, 3, 4, 0, 6, 8, 8, 12, 0, 14, 20, 9, 12, 0, 12, 16, 15, 18, 0, 20, 24}, {157, 220, 367, 430},
     {21}},

    // backward_weights with db over two filters, with padding (only backward_weights pinned):
    // x = [[1 2] [3 4]] padded by 1 on every side (xp 4x4, x at rows and columns 1-2), 2x2
    // kernel, OH = OW = 3. dw[k][i][j] = sum dy[k][oh][ow] * xp[oh+i][ow+j]; only taps on x
    // count, so for tap (i, j) the outputs read x[r][c] at (oh, ow) = (r+1-i, c+1-j):
    //   dy0 = [[1 2 3] [4 5 6] [7 8 9]]:
    //     dw[0][0][0] = dy0[1][1]*1 + dy0[1][2]*2 + dy0[2][1]*3 + dy0[2][2]*4 = 5+12+24+36 = 77
    //     dw[0][0][1] = dy0[1][0]*1 + dy0[1][1]*2 + dy0[2][0]*3 + dy0[2][1]*4 = 4+10+21+32 = 67
    //     dw[0][1][0] = dy0[0][1]*1 + dy0[0][2]*2 + dy0[1][1]*3 + dy0[1][2]*4 = 2+6+15+24 = 47
    //     dw[0][1][1] = dy0[0][0]*1 + dy0[0][1]*2 + dy0[1][0]*3 + dy0[1][1]*4 = 1+4+12+20 = 37
    //     db[0] = 1+...+9 = 45 (every output position, the padded ones too)
    //   dy1 = [[-1 0 2] [0 3 0] [1 0 -2]]:
    //     dw[1][0][0] = 3*1 + 0*2 + 0*3 + (-2)*4 = -5
    //     dw[1][0][1] = 0*1 + 3*2 + 1*3 + 0*4 = 9
    //     dw[1][1][0] = 0*1 + 2*2 + 3*3 + 0*4 = 13
    //     dw[1][1][1] = (-1)*1 + 0*2 + 0*3 + 3*4 = 11
    //     db[1] = -1+2+3+1-2 = 3
    {"bias_gradient_two_filters_padded",
     with(conv_problem(2, 2, 2, 2, 2), [](ConvProblem& p) { p.pt = p.pl = p.pb = p.pr = 1; }), {1, 2, 3, 4}, {}, {},
     {1, 2, 3, 4, 5, 6, 7, 8, 9, -1, 0, 2, 0, 3, 0, 1, 0, -2}, {}, {}, {77, 67, 47, 37, -5, 9, 13, 11}, {45, 3}},

    // Pads wider than the kernel: x = [[1 2]] (1x1x1x2), a 1x1 kernel w = 3, bias 1, pad left
    // 1 and right 2 (kernel extent 1): OW = 2+1+2-1+1 = 5, windows at padded columns 0..4, of
    // which 1 and 2 hold x.
    //   forward: y = [1, 1+3*1, 1+3*2, 1, 1] = [1 4 7 1 1]   (windows of padding give the bias)
    //   backward_data, dy = [1 2 3 4 5]: dx[c] = 3 * dy[c+1] = [6 9]
    //   backward_weights: dw = dy[1]*x[0] + dy[2]*x[1] = 2*1 + 3*2 = 8; db = 1+2+3+4+5 = 15
    {"pads_beyond_the_kernel", with(conv_problem(1, 1, 2, 1, 1), [](ConvProblem& p) { p.pl = 1, p.pr = 2; }), {1, 2},
     {3}, {1}, {1, 2, 3, 4, 5}, {1, 4, 7, 1, 1}, {6, 9}, {8}, {15}},
};

class NaiveByHand : public NaiveFixture {};

TEST_P(NaiveByHand, Convolution) {
    for (const ConvByHand& c : kConvByHand) {
        SCOPED_TRACE(c.name);
        const ConvProblem p = in_layouts(c.problem);
        both([&](auto t) {
            using T = decltype(t);
            if (!c.y.empty()) EXPECT_EQ(forward<T>(p, c.x, c.w, c.b.empty() ? nullptr : &c.b), c.y);
            if (!c.dx.empty()) EXPECT_EQ(backward_data<T>(p, c.w, c.dy), c.dx);
            const auto [dw, db] = backward_weights<T>(p, c.x, c.dy);
            EXPECT_EQ(dw, c.dw);
            EXPECT_EQ(db, c.db);
        });
    }
}

PoolProblem pool_problem(int64_t ih, int64_t iw, int64_t kh, int64_t kw) {
    PoolProblem p;
    p.mb = 1, p.ic = 1, p.ih = ih, p.iw = iw, p.kh = kh, p.kw = kw, p.sh = p.sw = 1;
    return p;
}

struct PoolByHand {
    const char* name;
    PoolProblem problem;  // the layout is the test's
    std::vector<double> x, dy;
    std::vector<double> y, argmax, dx;
};

// x of the first two cases, 1x1x4x5 (the digits of pi):
//   [[3 1 4 1 5]
//    [9 2 6 5 3]
//    [5 8 9 7 9]
//    [3 2 3 8 4]]
const std::vector<double> kPi{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4};
constexpr double kInf = std::numeric_limits<double>::infinity();

const PoolByHand kPoolByHand[] = {
    // An asymmetric window kh = 2, kw = 3 with strides sh = 2, sw = 1: OH = (4-2)/2+1 = 2,
    // OW = (5-3)+1 = 3; windows overlap along the rows. Taps in window order (i*3 + j):
    //   (0,0) rows 0-1, cols 0-2: 3 1 4 / 9 2 6 -> 9 at tap 3 (x[1][0])
    //   (0,1) cols 1-3:           1 4 1 / 2 6 5 -> 6 at tap 4 (x[1][2])
    //   (0,2) cols 2-4:           4 1 5 / 6 5 3 -> 6 at tap 3 (x[1][2])
    //   (1,0) rows 2-3, cols 0-2: 5 8 9 / 3 2 3 -> 9 at tap 2 (x[2][2])
    //   (1,1) cols 1-3:           8 9 7 / 2 3 8 -> 9 at tap 1 (x[2][2])
    //   (1,2) cols 2-4:           9 7 9 / 3 8 4 -> 9 at taps 0 and 2: the first, tap 0 (x[2][2])
    // backward, dy = [[1 2 3] [4 5 6]]: x[1][0] gets 1, x[1][2] gets 2+3 = 5, x[2][2] gets 4+5+6 = 15.
    {"asymmetric_window_and_stride", with(pool_problem(4, 5, 2, 3), [](PoolProblem& p) { p.sh = 2; }), kPi,
     {1, 2, 3, 4, 5, 6}, {9, 6, 6, 9, 9, 9}, {3, 4, 3, 2, 1, 0},
     {0, 0, 0, 0, 0, 1, 0, 5, 0, 0, 0, 0, 15, 0, 0, 0, 0, 0, 0, 0}},

    // A dilated window: 2x2 taps, dh = dw = 2, stride 1: window (oh, ow) reads x[oh + 2i][ow + 2j],
    // spans 3x3, so OH = 4-3+1 = 2, OW = 5-3+1 = 3. Taps in order (0,0) (0,2) (2,0) (2,2):
    //   (0,0): 3 4 5 9 -> 9 at tap 3 (x[2][2])     (1,0): 9 6 3 3 -> 9 at tap 0 (x[1][0])
    //   (0,1): 1 1 8 7 -> 8 at tap 2 (x[2][1])     (1,1): 2 5 2 8 -> 8 at tap 3 (x[3][3])
    //   (0,2): 4 5 9 9 -> 9 at taps 2 and 3: tap 2 (x[2][2])
    //                                                (1,2): 6 3 3 4 -> 6 at tap 0 (x[1][2])
    // backward, dy = [[1 2 3] [4 5 6]]: x[2][2] gets 1+3 = 4, x[2][1] 2, x[1][0] 4, x[3][3] 5, x[1][2] 6.
    {"dilation", with(pool_problem(4, 5, 2, 2), [](PoolProblem& p) { p.dh = p.dw = 2; }), kPi, {1, 2, 3, 4, 5, 6},
     {9, 8, 9, 9, 8, 6}, {3, 2, 2, 0, 3, 0}, {0, 0, 0, 0, 0, 4, 0, 6, 0, 0, 0, 2, 4, 0, 0, 0, 0, 0, 5, 0}},

    // Windows of -inf, and a pad as wide as the window: x = [[-inf -inf 5 -inf -inf -inf -inf]]
    // (1x1x1x7), window 1x2, stride 3, pad left 1 and right 2. The padded row is 10 wide, so
    // OW = (7+1+2-2)/3+1 = 3, windows at x columns [-1 0], [2 3], [5 6], each covering x:
    //   [-1 0]: padding, -inf -> every element of x in it is -inf: its first, tap 1 (x[0]); y = -inf
    //   [2 3]:  5, -inf       -> 5 at tap 0
    //   [5 6]:  -inf, -inf    -> tap 0 (x[5]); y = -inf
    // backward, dy = [7 11 13]: dx = [7 0 11 0 0 13 0].
    {"windows_of_minus_infinity", with(pool_problem(1, 7, 1, 2), [](PoolProblem& p) { p.sw = 3, p.pl = 1, p.pr = 2; }),
     {-kInf, -kInf, 5, -kInf, -kInf, -kInf, -kInf}, {7, 11, 13}, {-kInf, 5, -kInf}, {1, 0, 0}, {7, 0, 11, 0, 0, 13, 0}},
};

TEST_P(NaiveByHand, MaxPooling) {
    for (const PoolByHand& c : kPoolByHand) {
        SCOPED_TRACE(c.name);
        const PoolProblem p = in_layout(c.problem);
        both([&](auto t) {
            using T = decltype(t);
            const auto [y, argmax] = pool_forward<T>(p, c.x);
            EXPECT_EQ(y, c.y);
            EXPECT_EQ(argmax, c.argmax);
            EXPECT_EQ(pool_backward<T>(p, c.x, c.dy), c.dx);
        });
    }
}

INSTANTIATE_TEST_SUITE_P(Layouts, NaiveNotebook, ::testing::ValuesIn(testing::kAllLayouts),
                         [](const auto& info) { return testing::layouts_name(info.param); });
INSTANTIATE_TEST_SUITE_P(Layouts, NaiveByHand, ::testing::ValuesIn(testing::kAllLayouts),
                         [](const auto& info) { return testing::layouts_name(info.param); });

}  // namespace
}  // namespace convconf
