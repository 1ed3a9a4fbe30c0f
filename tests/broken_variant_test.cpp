// The properties catch real bugs: each test-only broken variant fails the property meant
// for it, and rapidcheck shrinks the failure to a small problem.
#include <gtest/gtest.h>

#include "impl/core/registry.hpp"
#include "reference/golden/golden.hpp"
#include "tests/property/broken_variants.hpp"
#include "tests/property/properties.hpp"

namespace convconf::property {
namespace {

PropertyOutcome run_named(const std::string& name, const Variant& v) {
    for (const NamedProperty& p : variant_properties())
        if (p.name == name) return p.check(v);
    ADD_FAILURE() << "no property " << name;
    return {};
}

struct Expectation {
    Defect defect;
    const char* property;
};

class BrokenVariant : public ::testing::TestWithParam<Expectation> {};

TEST_P(BrokenVariant, IsCaughtAndShrunk) {
    const auto variant = make_broken(GetParam().defect);
    const PropertyOutcome o = run_named(GetParam().property, *variant);
    ASSERT_FALSE(o.ok) << variant->name() << " passed " << GetParam().property;
    ASSERT_TRUE(o.failure.has_value()) << o.message;
    // Shrunk: a single image, few channels, small spatial extent.
    const ConvProblem& p = o.failure->spec.problem;
    EXPECT_EQ(p.mb, 1) << o.message;
    EXPECT_LE(p.ic * p.ih * p.iw, 32) << o.message;
    EXPECT_NE(o.message.find("RC_PARAMS=\"reproduce="), std::string::npos) << o.message;
    // The shrunk case was saved as a golden file that fails against the broken variant and
    // passes against naive, and the message ends with the command that reruns it.
    ASSERT_TRUE(o.saved.has_value()) << o.message;
    const std::string rerun = "repro: convconf golden --file " + o.saved->string() + " --case " +
                              failure_case_name(*o.failure) + " --variant " + variant->name();
    EXPECT_NE(o.message.find(rerun), std::string::npos) << o.message;
    EXPECT_EQ(o.message.back(), '\n');
    EXPECT_NE(o.message.rfind("repro: convconf golden"), std::string::npos);
    const golden::File file = golden::load_file(*o.saved);
    ASSERT_EQ(file.cases.size(), 1u);
    const DType dtype = o.failure->spec.dtype;
    EXPECT_EQ(golden::run_case(file.cases[0], *variant, dtype).status, Status::failed);
    const CheckResult by_naive = golden::run_case(file.cases[0], naive_variant(), dtype);
    EXPECT_EQ(by_naive.status, Status::passed) << by_naive.detail;
}

INSTANTIATE_TEST_SUITE_P(
    Defects, BrokenVariant,
    ::testing::Values(Expectation{Defect::pad_off_by_one, "ExactOnIntegerData"},
                      Expectation{Defect::stride_swapped, "ExactOnIntegerData"},
                      Expectation{Defect::last_maximum, "MaxPoolFacts"},
                      Expectation{Defect::overlap_assigned, "MaxPoolFacts"},
                      Expectation{Defect::bias_gradient_dropped, "ExactOnIntegerData"},
                      Expectation{Defect::nhwc_as_nchw, "ExactOnIntegerData"}),
    [](const auto& info) { return to_string(info.param.defect) + "_" + info.param.property; });

}  // namespace
}  // namespace convconf::property
