#include "tests/property/runner.hpp"

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

void note_case(const CheckSpec& s, const std::string& variant) { current_case() = CaseRecord{s, variant, {}}; }

void require_passed(const CheckResult& r, const CheckSpec& s, const std::string& variant) {
    note_case(s, variant);
    if (r.status != Status::failed) return;
    current_case()->detail = r.detail;
    RC_FAIL(r.detail);
}

std::string current_test_id() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string(info->test_suite_name()) + "." + info->name();
}

}  // namespace convconf::property
