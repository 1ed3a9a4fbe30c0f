// The naive reference pinned to values the notebooks in ../shared/seeds/ printed (cell
// named in each test), in every layout and both dtypes. None of these values came from
// convconf's code.
#include <gtest/gtest.h>

#include "impl/core/registry.hpp"
#include "tests/test_util.hpp"

namespace convconf {
namespace {

using testing::arange;
using testing::for_each_dtype;
using testing::from_logical;
using testing::Layouts;
using testing::to_logical;

class NaiveNotebook : public ::testing::TestWithParam<Layouts> {
protected:
    const Variant& naive = naive_variant();

    ConvProblem conv(int64_t mb, int64_t ic, int64_t ih, int64_t oc, int64_t k, int64_t pad = 0) const {
        ConvProblem p;
        p.mb = mb, p.ic = ic, p.ih = p.iw = ih, p.oc = oc, p.kh = p.kw = k;
        p.pt = p.pl = p.pb = p.pr = pad;
        p.layout = GetParam().act;
        p.weights_layout = GetParam().wei;
        p.validate();
        return p;
    }
    PoolProblem pool(int64_t mb, int64_t ic, int64_t ih, int64_t iw, int64_t k, int64_t s) const {
        PoolProblem p;
        p.mb = mb, p.ic = ic, p.ih = ih, p.iw = iw, p.kh = p.kw = k, p.sh = p.sw = s;
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
        naive.conv_forward(p, xt, wt, b ? &bt : nullptr, y);
        return to_logical(y);
    }
};

// 000 In [3] and 001 In [1]: arange(16) as 1x1x4x4, a 2x2 kernel of ones, bias 3.
TEST_P(NaiveNotebook, ConvArange16OnesKernelBias3) {
    const ConvProblem p = conv(1, 1, 4, 1, 2);
    const std::vector<double> b{3};
    for_each_dtype([&](auto t) {
        EXPECT_EQ(forward<decltype(t)>(p, arange(16), std::vector<double>(4, 1), &b),
                  (std::vector<double>{13, 17, 21, 29, 33, 37, 45, 49, 53}));
    });
}

// 001 In [11]: arange(9) as 1x1x3x3, ones 2x2, bias 3.
TEST_P(NaiveNotebook, ConvArange9) {
    const ConvProblem p = conv(1, 1, 3, 1, 2);
    const std::vector<double> b{3};
    for_each_dtype([&](auto t) {
        EXPECT_EQ(forward<decltype(t)>(p, arange(9), std::vector<double>(4, 1), &b),
                  (std::vector<double>{11, 15, 23, 27}));
    });
}

// 001 In [13]: the same with pad=1.
TEST_P(NaiveNotebook, ConvPad1) {
    const ConvProblem p = conv(1, 1, 3, 1, 2, 1);
    const std::vector<double> b{3};
    for_each_dtype([&](auto t) {
        EXPECT_EQ(forward<decltype(t)>(p, arange(9), std::vector<double>(4, 1), &b),
                  (std::vector<double>{3, 4, 6, 5, 6, 11, 15, 10, 12, 23, 27, 16, 9, 16, 18, 11}));
    });
}

// 000 In [46]: arange(32) as 1x2x4x4, ones (1,2,2,2), bias 3.
TEST_P(NaiveNotebook, ConvTwoChannels) {
    const ConvProblem p = conv(1, 2, 4, 1, 2);
    const std::vector<double> b{3};
    for_each_dtype([&](auto t) {
        EXPECT_EQ(forward<decltype(t)>(p, arange(32), std::vector<double>(8, 1), &b),
                  (std::vector<double>{87, 95, 103, 119, 127, 135, 151, 159, 167}));
    });
}

// 000 In [51]: one channel, two filters (ones and twos), bias 3 broadcast to both.
TEST_P(NaiveNotebook, ConvTwoFilters) {
    const ConvProblem p = conv(1, 1, 4, 2, 2);
    const std::vector<double> b{3, 3};
    for_each_dtype([&](auto t) {
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
    for_each_dtype([&](auto t) {
        EXPECT_EQ(forward<decltype(t)>(p, arange(64), std::vector<double>(24, 1), nullptr), want);
    });
}

// 000 In [93]: backward data of the arange(16) convolution: W ones 2x2, dout arange(1,10).
TEST_P(NaiveNotebook, ConvBackwardData) {
    const ConvProblem p = conv(1, 1, 4, 1, 2);
    for_each_dtype([&](auto t) {
        using T = decltype(t);
        auto w = from_logical<T>(wei(), p.w_dims(), std::vector<double>(4, 1));
        auto dy = from_logical<T>(act(), p.y_dims(), arange(9, 1));
        auto dx = Tensor<T>::poisoned(act(), p.x_dims());
        naive.conv_backward_data(p, w, dy, dx);
        EXPECT_EQ(to_logical(dx), (std::vector<double>{1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9}));
    });
}

// 000 In [40]: im2col of arange(16), 2x2 kernel: the (9, 4) column matrix.
// 000 In [92] / 001 In [15]: col2im of that matrix back onto 4x4 sums overlapping taps.
TEST_P(NaiveNotebook, Im2colAndCol2im) {
    const ConvProblem p = conv(1, 1, 4, 1, 2);
    const std::vector<double> col_want{0, 1, 4, 5,  1, 2, 5, 6,  2, 3, 6, 7,  4, 5, 8, 9,  5, 6, 9, 10,
                                       6, 7, 10, 11,  8, 9, 12, 13,  9, 10, 13, 14,  10, 11, 14, 15};
    for_each_dtype([&](auto t) {
        using T = decltype(t);
        auto x = from_logical<T>(act(), p.x_dims(), arange(16));
        auto col = Tensor<T>::poisoned({9, 4});
        naive.im2col(p, x, col);
        EXPECT_EQ(std::vector<double>(col.values().begin(), col.values().end()), col_want);
        auto back = Tensor<T>::poisoned(act(), p.x_dims());
        naive.col2im(p, col, back);
        EXPECT_EQ(to_logical(back),
                  (std::vector<double>{0, 2, 4, 3, 8, 20, 24, 14, 16, 36, 40, 22, 12, 26, 28, 15}));
    });
}

// 001 In [5]: im2col of arange(18) as 1x2x3x3 with a 2x2 kernel: columns ordered (c, i, j).
TEST_P(NaiveNotebook, Im2colTwoChannelsColumnOrder) {
    const ConvProblem p = conv(1, 2, 3, 1, 2);
    for_each_dtype([&](auto t) {
        using T = decltype(t);
        auto x = from_logical<T>(act(), p.x_dims(), arange(18));
        auto col = Tensor<T>::poisoned({4, 8});
        naive.im2col(p, x, col);
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
    for_each_dtype([&](auto t) {
        using T = decltype(t);
        auto xt = from_logical<T>(act(), p.x_dims(), x);
        auto y = Tensor<T>::poisoned(act(), p.y_dims());
        auto argmax = Tensor<int64_t>::poisoned(act(), p.y_dims());
        naive.pool_forward(p, xt, y, argmax);
        EXPECT_EQ(to_logical(y), (std::vector<double>{11, 15, 8, 15}));
        EXPECT_EQ(to_logical(argmax), (std::vector<double>{1, 1, 3, 0}));
        auto dy = from_logical<T>(act(), p.y_dims(), {1, 2, 3, 4});
        auto dx = Tensor<T>::poisoned(act(), p.x_dims());
        naive.pool_backward(p, xt, dy, dx);
        EXPECT_EQ(to_logical(dx), (std::vector<double>{0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 4, 0, 0, 3, 0, 0}));
    });
}

// 001 In [25]-[27]: two channels; the notebook's arg_max lists rows (oh, ow, c).
TEST_P(NaiveNotebook, MaxPoolTwoChannels) {
    const PoolProblem p = pool(1, 2, 4, 4, 2, 2);
    const std::vector<double> x{7, 11, 13, 15, 3, 4, 2, 3, 1, 2, 15, 9, 1, 8, 3, 10,
                                5, 8, 6, 7, 10, 4, 11, 13, 8, 3, 10, 4, 1, 2, 5, 15};
    for_each_dtype([&](auto t) {
        using T = decltype(t);
        auto xt = from_logical<T>(act(), p.x_dims(), x);
        auto y = Tensor<T>::poisoned(act(), p.y_dims());
        auto argmax = Tensor<int64_t>::poisoned(act(), p.y_dims());
        naive.pool_forward(p, xt, y, argmax);
        EXPECT_EQ(to_logical(y), (std::vector<double>{11, 15, 8, 15, 10, 13, 8, 15}));
        // arg_max [1 2 1 3 3 0 0 3] in (oh, ow, c) order is, per channel in (oh, ow) order:
        EXPECT_EQ(to_logical(argmax), (std::vector<double>{1, 1, 3, 0, 2, 3, 0, 3}));
        auto dy = from_logical<T>(act(), p.y_dims(), {1, 1, 1, 1, 2, 2, 2, 2});
        auto dx = Tensor<T>::poisoned(act(), p.x_dims());
        naive.pool_backward(p, xt, dy, dx);
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
    for_each_dtype([&](auto t) {
        using T = decltype(t);
        auto xt = from_logical<T>(act(), p.x_dims(), x);
        auto y = Tensor<T>::poisoned(act(), p.y_dims());
        auto argmax = Tensor<int64_t>::poisoned(act(), p.y_dims());
        naive.pool_forward(p, xt, y, argmax);
        EXPECT_EQ(to_logical(y), (std::vector<double>{8, 9, 9, 4, 7, 9, 9, 7, 8, 9, 8, 9,
                                                      4, 9, 9, 9, 7, 9, 7, 9, 7, 8, 7, 8}));
        EXPECT_EQ(to_logical(argmax), argmax_want);
        auto dy = Tensor<T>(act(), p.y_dims(), T(1));
        auto dx = Tensor<T>::poisoned(act(), p.x_dims());
        naive.pool_backward(p, xt, dy, dx);
        EXPECT_EQ(to_logical(dx),
                  (std::vector<double>{0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0,
                                       0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0,
                                       1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0,
                                       0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0,
                                       1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0,
                                       1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0}));
    });
}

INSTANTIATE_TEST_SUITE_P(Layouts, NaiveNotebook, ::testing::ValuesIn(testing::all_layouts()),
                         [](const auto& info) { return testing::layouts_name(info.param); });

}  // namespace
}  // namespace convconf
