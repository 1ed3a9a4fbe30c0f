#include "reference/golden/edit.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "reference/golden/writer.hpp"

namespace convconf::golden {
namespace {

using ordered_json = nlohmann::ordered_json;

[[noreturn]] void not_a_golden_file(const std::string& why) {
    throw std::runtime_error("cannot find where to add the case: " + why);
}

bool is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }

// A scanner over text that is known to be JSON: it finds where values begin and end, and
// never needs to understand more than strings and brackets.
class Scanner {
public:
    explicit Scanner(std::string_view text) : text_(text) {}

    size_t skip_space(size_t i) const {
        while (i < text_.size() && is_space(text_[i])) ++i;
        return i;
    }
    char at(size_t i) const {
        if (i >= text_.size()) not_a_golden_file("the text ends early");
        return text_[i];
    }
    // i at '"': the index after the closing quote.
    size_t skip_string(size_t i) const {
        for (++i; at(i) != '"'; ++i)
            if (text_[i] == '\\') ++i;
        return i + 1;
    }
    // i at the first character of a value: the index after its last.
    size_t skip_value(size_t i) const {
        const char first = at(i);
        if (first == '"') return skip_string(i);
        if (first == '{' || first == '[') {
            int depth = 0;
            do {
                const char ch = at(i);
                if (ch == '"') {
                    i = skip_string(i);
                    continue;
                }
                if (ch == '{' || ch == '[') ++depth;
                if (ch == '}' || ch == ']') --depth;
                ++i;
            } while (depth > 0);
            return i;
        }
        while (i < text_.size() && !is_space(text_[i]) && text_[i] != ',' && text_[i] != '}' &&
               text_[i] != ']')
            ++i;
        return i;
    }

private:
    std::string_view text_;
};

struct CasesArray {
    size_t key = 0;    // where the "cases" key starts
    size_t open = 0;   // its '['
    size_t close = 0;  // its ']'
};

CasesArray find_cases(std::string_view text) {
    const Scanner s(text);
    size_t i = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;  // a UTF-8 byte order mark
    i = s.skip_space(i);
    if (s.at(i) != '{') not_a_golden_file("the file is not a JSON object");
    std::optional<CasesArray> found;
    for (i = s.skip_space(i + 1); s.at(i) != '}';) {
        if (s.at(i) != '"') not_a_golden_file("a member name was expected");
        const size_t key = i;
        i = s.skip_string(i);
        const std::string name = nlohmann::json::parse(text.substr(key, i - key)).get<std::string>();
        i = s.skip_space(i);
        if (s.at(i) != ':') not_a_golden_file("':' was expected after a member name");
        const size_t value = s.skip_space(i + 1);
        i = s.skip_value(value);
        if (name == "cases") {
            if (found) not_a_golden_file("the file has two \"cases\" members");
            if (text[value] != '[') not_a_golden_file("\"cases\" is not an array");
            found = CasesArray{key, value, i - 1};
        }
        i = s.skip_space(i);
        if (s.at(i) == ',') i = s.skip_space(i + 1);
    }
    if (!found) not_a_golden_file("the file has no \"cases\"");
    return *found;
}

size_t line_start(std::string_view text, size_t pos) {
    const size_t nl = text.rfind('\n', pos == 0 ? 0 : pos - 1);
    return pos == 0 || nl == std::string_view::npos ? 0 : nl + 1;
}

// The spaces and tabs that begin the line holding `pos`.
std::string indentation_of_line(std::string_view text, size_t pos) {
    size_t i = line_start(text, pos), end = i;
    while (end < text.size() && (text[end] == ' ' || text[end] == '\t')) ++end;
    return std::string(text.substr(i, end - i));
}

// The indentation before `pos` when nothing else precedes it on its line.
std::optional<std::string> own_line_indentation(std::string_view text, size_t pos) {
    const size_t start = line_start(text, pos);
    for (size_t i = start; i < pos; ++i)
        if (text[i] != ' ' && text[i] != '\t') return std::nullopt;
    return std::string(text.substr(start, pos - start));
}

// The result must be the same document with one more case: text surgery is checked, not trusted.
void check_appended(std::string_view before, std::string_view after, const ordered_json& c) {
    const ordered_json old_doc = ordered_json::parse(before), new_doc = ordered_json::parse(after);
    bool same = old_doc.size() == new_doc.size();
    for (auto o = old_doc.begin(), n = new_doc.begin(); same && o != old_doc.end(); ++o, ++n)
        same = o.key() == n.key() && (o.key() == "cases" || *o == *n);
    if (same) {
        const ordered_json &old_cases = old_doc.at("cases"), &new_cases = new_doc.at("cases");
        same = new_cases.size() == old_cases.size() + 1 && new_cases.back() == c;
        for (size_t k = 0; same && k < old_cases.size(); ++k) same = old_cases[k] == new_cases[k];
    }
    if (!same) throw std::logic_error("append_case: the new text is not the old document plus the case");
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::string empty_file_text(const std::string& source) {
    return "{\n  \"format\": \"convconf-golden/1\",\n  \"source\": " + ordered_json(source).dump() +
           ",\n  \"cases\": []\n}\n";
}

std::string append_case(std::string_view text, const ordered_json& c) {
    const CasesArray cases = find_cases(text);
    const std::string newline = text.find("\r\n") != std::string_view::npos ? "\r\n" : "\n";
    const std::string key_indent = indentation_of_line(text, cases.key);
    size_t end = cases.close;  // just after the last case
    while (end > cases.open + 1 && is_space(text[end - 1])) --end;
    std::string out;
    if (end == cases.open + 1) {
        // "cases": [] becomes "cases": [ NEWLINE case NEWLINE ]: nothing but blanks is replaced.
        out = std::string(text.substr(0, cases.open + 1)) + newline +
              format_case(c, key_indent + "  ", newline) + newline + key_indent +
              std::string(text.substr(cases.close));
    } else {
        const size_t first = Scanner(text).skip_space(cases.open + 1);
        const std::string indent = own_line_indentation(text, first).value_or(key_indent + "  ");
        out = std::string(text.substr(0, end)) + "," + newline + format_case(c, indent, newline) +
              std::string(text.substr(end));
    }
    check_appended(text, out, c);
    return out;
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path.string() + ": cannot read: " + errno_text());
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) throw std::runtime_error(path.string() + ": read failed");
    return content.str();
}

}  // namespace convconf::golden
