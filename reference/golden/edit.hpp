// Adding a case to a golden file without disturbing what a person wrote there (issue 8):
// the new case's text goes in before the closing ']' of "cases" and every other byte of the
// file is kept (formatting, order, other cases). Writing the result is OutputFile's
// (reference/output_file.hpp): under a lock, atomically, never truncated or written in place.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace convconf::golden {

// A file of format convconf-golden/1 with `source` and no cases, in the hand-written style.
std::string empty_file_text(const std::string& source);

// `file_text` (a JSON object with a "cases" array, such as a golden file that loads) with
// `c` appended to "cases", formatted by format_case() at the indentation of the file's first
// case and with the file's line endings. The bytes before the insertion point and after it
// are the file's own; an empty `[]` is opened onto lines of its own. The result is checked
// to parse to the same document with `c` as one more case. Throws std::runtime_error when
// the text has no such array (or two "cases" members).
std::string append_case(std::string_view file_text, const nlohmann::ordered_json& c);

// The whole content of `path` (std::runtime_error naming it if it cannot be read).
std::string read_text(const std::filesystem::path& path);

}  // namespace convconf::golden
