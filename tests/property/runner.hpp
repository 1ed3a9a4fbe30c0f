// Runs a rapidcheck property inside the current GoogleTest test.
//
// The number of cases is the property's base count times CONVCONF_PROPERTY_RUNS (default
// 1), so a soak run is `CONVCONF_PROPERTY_RUNS=10 ctest`. RC_PARAMS works as usual
// (seed=..., reproduce=...). On failure the test fails with rapidcheck's shrunk
// counterexample, the check that failed last (which is the minimal one: rapidcheck runs
// the minimal case last) and two repro lines: the RC_PARAMS="reproduce=..." line and the
// convconf command that reruns the check.
#pragma once

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/detail/TestListenerAdapter.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>

#include "reference/conformance.hpp"

namespace rc::detail {
// Defined in librapidcheck (ReproduceListener.cpp); not declared in an installed header.
std::string reproduceMapToString(const std::unordered_map<std::string, Reproduce>& map);
}  // namespace rc::detail

namespace convconf::property {

int runs_multiplier();

// The check a property case is about: the problem, op, dtype and data (fill and seed, from
// which run_check rebuilds the same inputs). A property notes it at the start of each
// case; when the property fails, the last case noted is the minimal counterexample
// (rapidcheck runs the minimal case last), and the runner reports and saves it.
struct CaseRecord {
    CheckSpec spec;
    std::string variant;
    std::string detail;  // the mismatch report, when the case was a comparison
    // The inputs the property drew itself, when they are not run_check's (spec.fill and
    // spec.seed then do not rebuild them): saved as they are.
    std::optional<Inputs<double>> inputs;
};
std::optional<CaseRecord>& current_case();
void note_case(const CheckSpec& s, const std::string& variant);
void note_case(const CheckSpec& s, const std::string& variant, Inputs<double> inputs);

// Inside a property: notes the check and fails the case when it failed.
void require_passed(const CheckResult& r, const CheckSpec& s, const std::string& variant);

// Writes the case as a golden file (inputs, and the naive reference's outputs as the
// expected values) into CONVCONF_FAILURES_DIR, default failures/ in the build directory,
// under a name no other failure has, whole or not at all; returns its path (OutputError
// when it cannot be written).
std::filesystem::path save_failure(const CaseRecord&, const std::string& property_id);
// convconf golden --file F --case NAME --variant V --dtype D
std::string saved_repro(const CaseRecord&, const std::filesystem::path& file);
// The golden case name save_failure gives a case.
std::string failure_case_name(const CaseRecord&);

// The current gtest's full name; rapidcheck keys reproduction on it (plus a suffix).
std::string current_test_id();

// What the runner hands back: empty when the property held, else the failure message.
struct PropertyOutcome {
    bool ok = true;
    std::string message;
    std::optional<CaseRecord> failure;
    std::optional<std::filesystem::path> saved;  // the golden file the failure was saved to
    bool ran = true;  // false: the variant declares none of what the property needs
    // Not empty: rapidcheck gave up, the variant declining nearly every problem generated
    // (a plugin's or worker's supports() narrower than the generators). No counterexample
    // was found, and not enough cases ran to call it a pass: the test reports a skip.
    std::string gave_up;
};

template <class Testable>
PropertyOutcome run_property(const std::string& id, Testable&& testable, int base_runs) {
    using namespace rc::detail;
    current_case().reset();
    TestMetadata metadata;
    metadata.id = id;
    metadata.description = id;
    TestParams params = configuration().testParams;
    params.maxSuccess = base_runs * runs_multiplier();
    // Our own (silent) listener: the failure message below carries the reproduce line, and
    // rapidcheck's global one would also print it again at exit, for the deliberate
    // failures of the broken-variant tests too.
    TestListenerAdapter quiet;
    const Property property = toProperty(std::forward<Testable>(testable));
    const TestResult result = checkProperty(property, metadata, params, quiet);
    FailureResult failed;
    if (result.match(failed)) {
        // The case noted last is the last one shrinking tried, which may have passed: run
        // the minimal failing case again, alone, so that the case reported and saved is it.
        current_case().reset();
        checkProperty(property, metadata, params, quiet, {{id, failed.reproduce}});
    }
    PropertyOutcome out;
    if (result.template is<SuccessResult>()) return out;
    GaveUpResult gave_up;
    if (result.match(gave_up)) {
        out.gave_up = id + ": gave up after " + std::to_string(gave_up.numSuccess) + " of " +
                      std::to_string(params.maxSuccess) + " cases, the variant declining the rest (" +
                      gave_up.description + ")";
        return out;
    }
    out.ok = false;
    std::ostringstream msg;
    printResultMessage(result, msg);
    if (const auto& c = current_case()) {
        out.failure = c;
        // A comparison's mismatch report is already in rapidcheck's description above.
        msg << "\nminimal failing case: " << check_name(c->spec)
            << (c->inputs ? " with the property's own inputs" : " seed " + std::to_string(c->spec.seed)) << "\n";
        // A case that cannot be saved (a full disk) is still reported: the problem above and
        // the RC_PARAMS line below reproduce it.
        try {
            out.saved = save_failure(*c, id);
            msg << "saved as golden case: " << out.saved->string() << "\n";
        } catch (const std::exception& e) {
            msg << "not saved as a golden case: " << e.what() << "\n";
        }
    } else {
        msg << "\n";
    }
    FailureResult failure;
    if (result.match(failure))
        msg << "repro: RC_PARAMS=\"reproduce=" << reproduceMapToString({{id, failure.reproduce}}) << "\" "
            << ::testing::internal::GetArgvs().front() << " --gtest_filter=" << current_test_id() << "\n";
    if (out.saved) msg << "repro: " << saved_repro(*out.failure, *out.saved) << "\n";
    out.message = msg.str();
    return out;
}

// A sequence of rapidcheck properties that stops at the first failure. Each is keyed for
// RC_PARAMS reproduction by the current test's id plus its own name and index.
class PropertyRun {
public:
    explicit PropertyRun(std::string name) : name_(std::move(name)) {}
    template <class Testable>
    void check(Testable&& testable, int base_runs = 20) {
        if (!outcome_.ok) return;
        const std::string id = current_test_id() + "/" + name_ + "/" + std::to_string(count_++);
        outcome_ = run_property(id, std::forward<Testable>(testable), base_runs);
        keep_gave_up();
    }
    PropertyOutcome result() const {
        PropertyOutcome o = outcome_;
        o.ran = count_ > 0;
        o.gave_up = gave_up_;
        return o;
    }

private:
    // Keeps the first property that gave up across the later ones (which still run).
    void keep_gave_up() {
        if (gave_up_.empty()) gave_up_ = outcome_.gave_up;
    }
private:
    std::string name_;
    int count_ = 0;
    PropertyOutcome outcome_;
    std::string gave_up_;
};

template <class Testable>
void check_property(Testable&& testable, int base_runs = 20) {
    const PropertyOutcome o = run_property(current_test_id(), std::forward<Testable>(testable), base_runs);
    if (!o.ok) ADD_FAILURE() << o.message;
}

}  // namespace convconf::property
