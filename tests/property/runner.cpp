#include "tests/property/runner.hpp"

#include <cctype>

#include "reference/golden/writer.hpp"
#include "reference/registry.hpp"

namespace convconf::property {

int runs_multiplier() {
    const char* env = std::getenv("CONVCONF_PROPERTY_RUNS");
    if (!env || !*env) return 1;
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (*end != '\0' || v < 1 || v > 100000) {
        ADD_FAILURE() << "CONVCONF_PROPERTY_RUNS=\"" << env << "\" is not a whole number from 1 to 100000";
        return 1;
    }
    return int(v);
}

std::optional<CaseRecord>& current_case() {
    static thread_local std::optional<CaseRecord> c;
    return c;
}

void note_case(const CheckSpec& s, const std::string& variant) { current_case() = CaseRecord{s, variant, {}, {}}; }
void note_case(const CheckSpec& s, const std::string& variant, Inputs<double> inputs) {
    current_case() = CaseRecord{s, variant, {}, std::move(inputs)};
}

void require_passed(const CheckResult& r, const CheckSpec& s, const std::string& variant) {
    note_case(s, variant);
    // A skipped check is not a case that held: the variant declined this problem.
    if (r.status == Status::skipped) RC_DISCARD(r.detail);
    if (r.status != Status::failed) return;
    current_case()->detail = r.detail;
    RC_FAIL(r.detail);
}

std::string failure_case_name(const CaseRecord& c) {
    std::string name = c.variant + "_" + std::string(to_string(c.spec.op)) + "_" + direction(c.spec) + "_" +
                       std::string(to_string(c.spec.dtype));
    for (char& ch : name) ch = std::isalnum(uint8_t(ch)) ? char(std::tolower(uint8_t(ch))) : '_';
    return name;
}

std::filesystem::path save_failure(const CaseRecord& c, const std::string& property_id) {
    const char* env = std::getenv("CONVCONF_FAILURES_DIR");
    const std::filesystem::path dir = env && *env ? env : CONVCONF_DEFAULT_FAILURES_DIR;
    const Inputs<double> in = c.inputs                    ? *c.inputs
                              : c.spec.dtype == DType::f32 ? convert<double>(generated_inputs<float>(c.spec))
                                                           : generated_inputs<double>(c.spec);
    const std::string name = failure_case_name(c);
    const std::string data = c.inputs ? "the property's own inputs" : "seed " + std::to_string(c.spec.seed);
    const std::string note = "shrunk counterexample of " + property_id + " (" + check_name(c.spec) + ", " + data +
                             "); expected values from the naive variant";
    auto cases = nlohmann::ordered_json::array();
    cases.push_back(golden::case_json(name, c.spec, in, reference_outputs(c.spec, in), note));
    return golden::write_new_file("CONVCONF_FAILURES_DIR", dir, name,
                                  golden::file_json("rapidcheck property " + property_id, cases));
}

std::string saved_repro(const CaseRecord& c, const std::filesystem::path& file) {
    return "convconf golden --file " + file.string() + " --case " + failure_case_name(c) + " " +
           variant_options(c.variant) + " --dtype " + std::string(to_string(c.spec.dtype));
}

std::string current_test_id() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string(info->test_suite_name()) + "." + info->name();
}

}  // namespace convconf::property
