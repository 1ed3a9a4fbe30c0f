#include "tools/run_report.hpp"

#include <cstdint>
#include <sstream>

#include <nlohmann/json.hpp>

namespace convconf::cli {
std::string xml_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default:
                // XML 1.0 forbids most control characters; keep tabs and newlines.
                if (uint8_t(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') out += '?';
                else out += c;
        }
    }
    return out;
}


const char* to_string(Evidence e) {
    switch (e) {
        case Evidence::golden: return "golden";
        case Evidence::reference: return "reference";
        case Evidence::self: return "self";
    }
    return "?";
}

std::string junit_text(const std::vector<Record>& outcomes, const Tally& total) {
    std::ostringstream out;
    double seconds = 0;
    for (const Record& o : outcomes) seconds += o.seconds;
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<testsuites name=\"convconf run\" tests=\"" << outcomes.size() << "\" failures=\"" << total.failed
        << "\" skipped=\"" << total.skipped << "\" time=\"" << seconds << "\">\n"
        << "  <testsuite name=\"convconf\" tests=\"" << outcomes.size() << "\" failures=\"" << total.failed
        << "\" skipped=\"" << total.skipped << "\" time=\"" << seconds << "\">\n";
    for (const Record& o : outcomes) {
        out << "    <testcase classname=\"" << xml_escape(o.variant + "." + o.group) << "\" name=\""
            << xml_escape(o.name) << "\" time=\"" << o.seconds << "\">\n"
            << "      <properties><property name=\"evidence\" value=\"" << to_string(o.evidence)
            << "\"/></properties>\n";
        const std::string first_line = o.detail.substr(0, o.detail.find('\n'));
        if (o.status == Status::failed)
            out << "      <failure message=\"" << xml_escape(first_line) << "\">" << xml_escape(o.detail)
                << "</failure>\n";
        else if (o.status == Status::skipped)
            out << "      <skipped message=\"" << xml_escape(first_line) << "\"/>\n";
        out << "    </testcase>\n";
    }
    out << "  </testsuite>\n</testsuites>\n";
    return out.str();
}

std::string json_text(const std::vector<Record>& outcomes, const Tally& total) {
    nlohmann::ordered_json checks = nlohmann::ordered_json::array();
    for (const Record& o : outcomes)
        checks.push_back({{"variant", o.variant},
                          {"group", o.group},
                          {"name", o.name},
                          {"evidence", to_string(o.evidence)},
                          {"status", to_string(o.status)},
                          {"seconds", o.seconds},
                          {"max_abs_error", o.max_abs_error},
                          {"max_rel_error", o.max_rel_error},
                          {"max_bound_use", o.max_bound_use},
                          {"detail", o.detail}});
    const nlohmann::ordered_json doc = {{"passed", total.passed},
                                        {"failed", total.failed},
                                        {"skipped", total.skipped},
                                        {"checks", std::move(checks)}};
    // Invalid UTF-8 in a report is replaced, not thrown: the report is still written.
    return doc.dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace convconf::cli
