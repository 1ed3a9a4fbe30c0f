// Every registered variant against every property, on problems rapidcheck generates and
// shrinks. One test per (property, variant): a failure names both, and ends with the
// RC_PARAMS reproduce line and the convconf command of the minimal failing check.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "impl/core/registry.hpp"
#include "tests/property/generators.hpp"
#include "tests/property/properties.hpp"

namespace convconf::property {
namespace {

class Property : public ::testing::TestWithParam<std::tuple<NamedProperty, const Variant*>> {};

TEST_P(Property, Holds) {
    const auto& [property, variant] = GetParam();
    const PropertyOutcome o = property.check(*variant);
    if (!o.ran) GTEST_SKIP() << variant->name() << " declares none of what " << property.name << " needs";
    if (!o.ok) ADD_FAILURE() << o.message;
}

INSTANTIATE_TEST_SUITE_P(Registry, Property,
                         ::testing::Combine(::testing::ValuesIn(variant_properties()),
                                            ::testing::ValuesIn(variants())),
                         [](const auto& info) {
                             return std::get<0>(info.param).name + "_" + std::get<1>(info.param)->name();
                         });

// f. Output size equals the formula, counted independently: the windows that fit.
TEST(ProblemProperties, OutputSizeCountsTheWindowsThatFit) {
    check_property([] {
        const ConvProblem p = *gen_conv_problem();
        int64_t rows = 0, cols = 0;
        while (rows * p.sh + p.kh_extent() <= p.ih + p.pt + p.pb) ++rows;
        while (cols * p.sw + p.kw_extent() <= p.iw + p.pl + p.pr) ++cols;
        RC_ASSERT(p.oh() == rows);
        RC_ASSERT(p.ow() == cols);
    }, 200);
}

}  // namespace
}  // namespace convconf::property
