// The reports of convconf run: one record per check, written as JUnit XML or JSON
// (--junit, --json). Both carry the same fields for every check, in the run's order.
#pragma once

#include <string>
#include <vector>

#include "reference/conformance.hpp"
#include "tools/cli.hpp"

namespace convconf::cli {

// What a passed check is evidence of. Every generated check's expected values are naive's,
// so naive on a generated check is naive against itself: it can fail only through the guard
// regions and the poison (an out-of-bounds write, an unwritten element), never through its
// values. Only golden cases (values fixed outside the harness) check naive's values here;
// every other variant's generated checks are checked against the naive reference.
enum class Evidence { golden, reference, self };
const char* to_string(Evidence);

// One check's outcome, kept for --junit and --json (only when one is asked for: a run of a
// huge sweep keeps nothing per check otherwise).
struct Record {
    std::string variant, group, name;
    Evidence evidence = Evidence::reference;
    Status status = Status::passed;
    std::string detail;
    double seconds = 0;
    // Against the reference or the golden values (CheckResult): 0 for a skip.
    double max_abs_error = 0, max_rel_error = 0, max_bound_use = 0;
};

// Text as XML character data or an attribute value (JUnit here, SVG in bench_report):
// & < > " escaped, control characters XML 1.0 forbids replaced by '?'.
std::string xml_escape(const std::string& text);

std::string junit_text(const std::vector<Record>& outcomes, const Tally& total);
std::string json_text(const std::vector<Record>& outcomes, const Tally& total);

}  // namespace convconf::cli
