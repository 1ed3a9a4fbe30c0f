// How the property runner counts what a variant declines (tests/property/runner.hpp): a
// plugin's or a worker's supports() can decline by layout, pad or size, so a property
// discards a generated problem the variant declines instead of counting it as a case that
// held, and a property rapidcheck gives up on is reported as such, not as a pass.
#include <gtest/gtest.h>

#include "reference/registry.hpp"
#include "tests/property/properties.hpp"

namespace convconf::property {
namespace {

// Right (naive's kernels), but it declines every problem except the default one, which
// is how a property learns that it runs a direction at all: what rapidcheck generates is
// nearly always declined.
class DeclinesWhatIsGenerated final : public Variant {
public:
    std::string name() const override { return "declines_what_is_generated"; }
    std::string description() const override { return "naive, declining all but the default problem"; }
    void run(const Call& c) const override { naive_variant().run(c); }
    std::optional<std::string> unsupported(const Call& c) const override {
        ConvProblem p = c.problem();
        p.layout = ConvProblem{}.layout;
        p.weights_layout = ConvProblem{}.weights_layout;
        if (p == ConvProblem{}) return std::nullopt;
        return "only the default problem";
    }
};

TEST(PropertyRunner, ADeclinedProblemIsNotACaseThatHeld) {
    const DeclinesWhatIsGenerated v;
    for (const NamedProperty& p : variant_properties()) {
        if (p.name != "ExactOnIntegerData" && p.name != "WithinBoundOnFloatData") continue;
        const PropertyOutcome o = p.check(v);
        EXPECT_TRUE(o.ran) << p.name;
        EXPECT_TRUE(o.ok) << p.name << ": " << o.message;  // nothing it ran was wrong
        // ...but nearly nothing ran: counted as passes, the skips would make it "OK".
        EXPECT_NE(o.gave_up.find("gave up after "), std::string::npos) << p.name << ": " << o.gave_up;
    }
}

}  // namespace
}  // namespace convconf::property
