// Every registered variant against every property, on problems rapidcheck generates and
// shrinks. One test per (property, variant): a failure names both, and ends with the
// RC_PARAMS reproduce line and the convconf command of the minimal failing check.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "reference/registry.hpp"
#include "tests/property/generators.hpp"
#include "tests/property/properties.hpp"
#include "tests/test_util.hpp"

namespace convconf::property {
namespace {

class Property : public ::testing::TestWithParam<std::tuple<NamedProperty, const Variant*>> {};

TEST_P(Property, Holds) {
    const auto& [property, variant] = GetParam();
    const PropertyOutcome o = property.check(*variant);
    if (!o.ran) GTEST_SKIP() << variant->name() << " declares none of what " << property.name << " needs";
    if (!o.ok) ADD_FAILURE() << o.message;
    else if (!o.gave_up.empty()) GTEST_SKIP() << variant->name() << ": " << o.gave_up;
}

INSTANTIATE_TEST_SUITE_P(Registry, Property,
                         ::testing::Combine(::testing::ValuesIn(variant_properties()),
                                            ::testing::ValuesIn(variants())),
                         [](const auto& info) {
                             return testing::parameter_name(std::get<0>(info.param).name + "_" + std::get<1>(info.param)->name());
                         });

// f. Output size equals the formula, counted independently: the windows that fit. Every
//    generated convolution is valid (its output size at least 1).
TEST(ProblemProperties, OutputSizeCountsTheWindowsThatFit) {
    check_property([] {
        const ConvProblem p = *gen_conv_problem();
        p.validate();
        RC_ASSERT(p.oh() >= 1 && p.ow() >= 1);
        int64_t rows = 0, cols = 0;
        while (rows * p.sh + p.kh_extent() <= p.ih + p.pt + p.pb) ++rows;
        while (cols * p.sw + p.kw_extent() <= p.iw + p.pl + p.pr) ++cols;
        RC_ASSERT(p.oh() == rows);
        RC_ASSERT(p.ow() == cols);
    }, 200);
}

// Ceil mode's output size, counted: window o is kept while its start o*s lies within one
// stride of the last start floor mode allows (o*s < span + s: the division rounded up) and
// before the end of x in padded coordinates (o*s < ih + pt: the drop rule).
TEST(ProblemProperties, CeilModeOutputSizeCountsTheWindowsKept) {
    check_property([] {
        PoolProblem p = *gen_pool_problem();
        p.ceil_mode = true;
        const int64_t span_h = p.ih + p.pt + p.pb - p.kh_extent(), span_w = p.iw + p.pl + p.pr - p.kw_extent();
        int64_t rows = 0, cols = 0;
        while (rows * p.sh < span_h + p.sh && rows * p.sh < p.ih + p.pt) ++rows;
        while (cols * p.sw < span_w + p.sw && cols * p.sw < p.iw + p.pl) ++cols;
        RC_ASSERT(p.oh() == rows);
        RC_ASSERT(p.ow() == cols);
        PoolProblem floor = p;
        floor.ceil_mode = false;
        RC_ASSERT(p.oh() - floor.oh() <= 1);  // never more than one window more
    }, 200);
}

// Whether every window has a tap inside x, by visiting every tap of every window along
// each axis (the formula's count of windows, checked above).
bool every_window_covers_x(int64_t in, int64_t k, int64_t s, int64_t lo, int64_t d, int64_t out) {
    for (int64_t o = 0; o < out; ++o) {
        bool covers = false;
        for (int64_t t = 0; t < k; ++t) covers = covers || (o * s - lo + t * d >= 0 && o * s - lo + t * d < in);
        if (!covers) return false;
    }
    return true;
}
bool every_window_covers_x(const PoolProblem& p) {
    return every_window_covers_x(p.ih, p.kh, p.sh, p.pt, p.dh, p.oh()) &&
           every_window_covers_x(p.iw, p.kw, p.sw, p.pl, p.dw, p.ow());
}

std::string field_rejected(const PoolProblem& p) {
    try {
        p.validate();
    } catch (const ProblemError& e) {
        return e.field();
    }
    return "(accepted)";
}

// The generators and the validation agree on pooling's rule, up to its edge: every window
// of a generated pooling problem covers an element of x and validate() accepts it; the
// generator's largest high pad still does, and one more row (column) of padding leaves the
// last window outside x, which validate() rejects naming that pad, as it rejects a low pad
// of the whole window extent (the first window all padding).
TEST(ProblemProperties, GeneratedPoolingReachesTheEdgeOfValidity) {
    check_property([] {
        PoolProblem p = *gen_pool_problem();
        p.ceil_mode = false;  // the edge is floor mode's; ceil mode's is below
        RC_ASSERT(every_window_covers_x(p));
        RC_ASSERT(field_rejected(p) == "(accepted)");
        for (const bool rows : {true, false}) {
            const int64_t most = rows ? max_pool_pad_hi(p.ih, p.kh_extent(), p.sh, p.pt)
                                      : max_pool_pad_hi(p.iw, p.kw_extent(), p.sw, p.pl);
            for (const int64_t hi : {most, most + 1}) {
                PoolProblem q = p;
                (rows ? q.pb : q.pr) = hi;
                RC_ASSERT(every_window_covers_x(q) == (hi == most));
                RC_ASSERT(field_rejected(q) == (hi == most ? "(accepted)" : rows ? "pb" : "pr"));
            }
            PoolProblem q = p;
            (rows ? q.pt : q.pl) = rows ? p.kh_extent() : p.kw_extent();
            RC_ASSERT(!every_window_covers_x(q));
            RC_ASSERT(field_rejected(q) == (rows ? "pt" : "pl"));
        }
    }, 200);
}

// Ceil mode accepts every problem floor mode accepts: the one window it may add starts one
// stride after floor mode's last, and its drop rule keeps it only where it starts before the
// end of x, so it covers x too. (It drops one window at most: a high pad that leaves several
// windows in the padding is invalid in ceil mode as well.)
TEST(ProblemProperties, CeilModeAcceptsWhatFloorModeAccepts) {
    check_property([] {
        PoolProblem p = *gen_pool_problem();
        p.ceil_mode = true;
        RC_ASSERT(every_window_covers_x(p));
        RC_ASSERT(field_rejected(p) == "(accepted)");
    }, 200);
}

// The generators draw pads of the window's whole extent and more: for convolution on
// either side, for pooling on the high side where the stride leaves the last window in x.
// A fixed rapidcheck seed makes the sample, and the test, deterministic.
TEST(ProblemProperties, GeneratorsDrawPadsOfTheWholeWindowExtent) {
    rc::Random random(14);
    int conv_low = 0, conv_high = 0, pool_high = 0, pool_beyond = 0;
    for (int i = 0; i < 400; ++i) {
        const ConvProblem c = gen_conv_problem()(random.split()).value();
        conv_low += c.pt >= c.kh_extent() || c.pl >= c.kw_extent();
        conv_high += c.pb >= c.kh_extent() || c.pr >= c.kw_extent();
        const PoolProblem p = gen_pool_problem()(random.split()).value();
        pool_high += p.pb >= p.kh_extent() || p.pr >= p.kw_extent();
        pool_beyond += p.pb > p.kh_extent() || p.pr > p.kw_extent();
    }
    EXPECT_GE(conv_low, 20);
    EXPECT_GE(conv_high, 20);
    EXPECT_GE(pool_high, 10);
    EXPECT_GE(pool_beyond, 1);
    RecordProperty("sampled", "conv low " + std::to_string(conv_low) + ", conv high " + std::to_string(conv_high) +
                                  ", pool high " + std::to_string(pool_high) + ", pool beyond " + std::to_string(pool_beyond));
}

}  // namespace
}  // namespace convconf::property
