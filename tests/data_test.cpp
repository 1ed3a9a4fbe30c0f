// The data fills (reference/data.hpp) draw what each promises: the range of each integer
// fill, every value of it drawn, and special data's mix of NaN, +inf, -inf and floats, one
// in sixteen each for the first three.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "reference/data.hpp"

namespace convconf {
namespace {

std::set<double> values_of(Fill f, int64_t magnitude = -1) {
    Tensor<double> t(std::vector<int64_t>{4000});
    if (magnitude < 0)
        fill(t, f, 7);
    else
        fill(t, f, 7, magnitude);
    return {t.values().begin(), t.values().end()};
}

std::set<double> range(int lo, int hi) {
    std::set<double> s;
    for (int v = lo; v <= hi; ++v) s.insert(v);
    return s;
}

TEST(Fill, IntegerFillsDrawEveryValueOfTheirRangeAndNothingElse) {
    EXPECT_EQ(values_of(Fill::integers), range(-4, 4));  // the default magnitude, 4
    EXPECT_EQ(values_of(Fill::integers, 2), range(-2, 2));
    EXPECT_EQ(values_of(Fill::ties), range(0, 3));
    EXPECT_EQ(values_of(Fill::negative), range(-8, -1));
    EXPECT_EQ(values_of(Fill::distinct), range(-2000, 1999));  // a shuffle: each once
}

TEST(Fill, SpecialDataMixNaNAndBothInfinitiesIntoFloats) {
    Tensor<float> t(std::vector<int64_t>{16000});
    fill(t, Fill::special, 3);
    std::map<std::string, int> count;
    for (float v : t.values()) {
        if (std::isnan(v)) ++count["nan"];
        else if (v == INFINITY) ++count["+inf"];
        else if (v == -INFINITY) ++count["-inf"];
        else {
            ++count["float"];
            EXPECT_TRUE(v >= -1 && v < 1) << v;
        }
    }
    for (const char* k : {"nan", "+inf", "-inf"}) {  // 1000 expected of each
        EXPECT_GT(count[k], 800) << k;
        EXPECT_LT(count[k], 1200) << k;
    }
    EXPECT_GT(count["float"], 12400);  // 13000 expected
}

}  // namespace
}  // namespace convconf
