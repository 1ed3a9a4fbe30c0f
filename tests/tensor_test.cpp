// Tensor: logical indexing over physical layouts, and poisoned outputs.
#include <gtest/gtest.h>

#include <cmath>

#include "impl/core/tensor.hpp"

namespace convconf {
namespace {

TEST(Tensor, NhwcStoresChannelsInnermost) {
    Tensor<float> t(AxisOrder::nhwc, {2, 3, 4, 5});  // logical n, c, h, w
    EXPECT_EQ(t.shape(), (std::vector<int64_t>{2, 4, 5, 3}));
    // offset of (n,c,h,w) in NHWC storage: ((n*H + h)*W + w)*C + c
    EXPECT_EQ(t.offset(1, 2, 3, 4), ((1 * 4 + 3) * 5 + 4) * 3 + 2);
    EXPECT_EQ(t.dims(), (Dims4{2, 3, 4, 5}));
}

TEST(Tensor, HwioStoresOutputChannelsInnermost) {
    Tensor<double> t(AxisOrder::hwio, {4, 3, 2, 5});  // logical o, i, h, w
    EXPECT_EQ(t.shape(), (std::vector<int64_t>{2, 5, 3, 4}));
    // offset of (o,i,h,w) in HWIO storage: ((h*KW + w)*I + i)*O + o
    EXPECT_EQ(t.offset(3, 1, 1, 2), ((1 * 5 + 2) * 3 + 1) * 4 + 3);
}

TEST(Tensor, PoisonedOutputsHaveIntactGuardsUntilWrittenPast) {
    auto t = Tensor<float>::poisoned({2, 3});
    EXPECT_EQ(t.guard_damage(), "");
    EXPECT_EQ(t.unwritten().size(), 6u);
    t.fill(0.0f);
    EXPECT_TRUE(t.unwritten().empty());
    t.data()[6] = 1.0f;  // one past the end: inside the guard region
    EXPECT_EQ(t.guard_damage(), "1 element past the end (+0)");
    // A NaN the variant computed is not the poison value.
    t[0] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_TRUE(t.unwritten().empty());
}

TEST(Tensor, PoisonedOutputsAreNaNAndIndicesTheLowestInt64) {
    const auto t = Tensor<float>::poisoned(AxisOrder::nchw, {1, 2, 2, 2});
    for (float v : t.values()) EXPECT_TRUE(std::isnan(v));
    const auto a = Tensor<int64_t>::poisoned({3});
    for (int64_t v : a.values()) EXPECT_EQ(v, std::numeric_limits<int64_t>::min());
}

TEST(Tensor, EmptyOrNegativeExtentIsAnError) {
    EXPECT_THROW(Tensor<float>(AxisOrder::nchw, {1, 0, 2, 2}), std::invalid_argument);
    EXPECT_THROW(Tensor<float>({-1}), std::invalid_argument);
}

TEST(Tensor, IndexStringIsLogical) {
    Tensor<float> t(AxisOrder::nhwc, {1, 3, 2, 2});
    EXPECT_EQ(t.index_string(t.offset(0, 2, 1, 0)), "(n,c,h,w)=(0,2,1,0)");
    Tensor<float> col({4, 6});
    EXPECT_EQ(col.index_string(13), "(row,col)=(2,1)");
    // 1-D (b, db) names its index i; other plain ranks d.
    EXPECT_EQ(Tensor<float>({5}).index_string(3), "(i)=(3)");
    EXPECT_EQ(Tensor<float>({2, 3, 4}).index_string(23), "(d,d,d)=(1,2,3)");
    // Weights by (o,i,h,w) in either order; activations stored NCHW too.
    Tensor<float> hwio(AxisOrder::hwio, {4, 3, 2, 5});
    EXPECT_EQ(hwio.index_string(hwio.offset(3, 1, 0, 4)), "(o,i,h,w)=(3,1,0,4)");
    Tensor<float> oihw(AxisOrder::oihw, {4, 3, 2, 5});
    EXPECT_EQ(oihw.index_string(oihw.offset(2, 0, 1, 3)), "(o,i,h,w)=(2,0,1,3)");
    Tensor<float> nchw(AxisOrder::nchw, {2, 3, 4, 5});
    EXPECT_EQ(nchw.index_string(nchw.size() - 1), "(n,c,h,w)=(1,2,3,4)");
}

}  // namespace
}  // namespace convconf
