#include "reference/batch.hpp"

#include <sstream>

#include "reference/input.hpp"

namespace convconf {
namespace {

std::string location(std::string_view source, int line) {
    return std::string(source) + ":" + std::to_string(line);
}
std::string located(std::string_view source, int line, const std::string& message) {
    return location(source, line) + ": " + message;
}

// `--name=value` or `--name` applied to the options in effect.
void apply_option(std::map<std::string, std::string>& options, const std::string& token,
                  std::string_view source, int line) {
    const size_t eq = token.find('=');
    const std::string name = token.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const std::string value = eq == std::string::npos ? "" : token.substr(eq + 1);
    if (name.empty())
        throw BatchError(located(source, line, "option \"" + token + "\" has no name"));
    if (name == "batch")
        throw BatchError(located(source, line, "nested \"" + token + "\" is not supported"));
    if (name == "reset")
        options.clear();
    else
        options[name] = value;
}

}  // namespace

std::vector<BatchEntry> parse_batch(std::string_view text, std::string_view source) {
    std::vector<BatchEntry> entries;
    std::map<std::string, std::string> options;
    std::istringstream lines{std::string(text)};
    std::string line_text;
    for (int line = 1; std::getline(lines, line_text); ++line) {
        std::istringstream tokens(line_text);
        std::string token;
        while (tokens >> token) {
            if (token.front() == '#') break;  // the rest of the line is a comment
            if (token.rfind("--", 0) == 0)
                apply_option(options, token, source, line);
            else
                entries.push_back({token, options, std::string(source), line});
        }
    }
    return entries;
}

std::vector<BatchEntry> read_batch(const std::string& path, std::string_view origin) {
    std::vector<BatchEntry> entries = parse_batch(read_input_file(path, origin), path);
    if (entries.empty())
        throw BatchError(input_name(origin, path) + ": no descriptor in it (only comments, options or blanks)");
    return entries;
}

std::string BatchEntry::location() const { return convconf::location(source, line); }

}  // namespace convconf
