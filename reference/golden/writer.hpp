// Writing golden cases (format convconf-golden/1, ../shared/golden-format.md): the shrunk
// counterexamples of property tests, and later `convconf golden add`. What is written
// loads back with golden.hpp's loader; nothing existing is ever overwritten.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "reference/conformance.hpp"

namespace convconf::golden {

// One case: the spec's op, pass, dtype, layouts and geometry (every field written out,
// no defaults relied on), its inputs, and `expected` as its expected outputs.
nlohmann::ordered_json case_json(const std::string& name, const CheckSpec& spec, const Inputs<double>& inputs,
                         const Expectations& expected, const std::string& note);

// A whole file holding `cases`.
nlohmann::ordered_json file_json(const std::string& source, nlohmann::ordered_json cases);

// Pretty text in the style of the hand-written golden files: fields in the order written,
// one per line, arrays of numbers kept on one line.
std::string format_json(const nlohmann::ordered_json& value);

// One case as a person writes it in a golden file, every line starting with `indent`: one
// field per line ("op" and "pass" share one), short arrays and objects on one line
// (`[1, 1]`), and nested arrays (tensors) laid out as numpy prints them: the innermost rows
// on one line each, brackets aligned, numbers right-aligned to a common width. No final
// newline; `newline` separates the lines.
std::string format_case(const nlohmann::ordered_json& c, const std::string& indent,
                        const std::string& newline = "\n");

// A tensor value as JSON: an integer when it is one (below 2^53), "nan", "inf", "-inf" as
// strings (golden-format.md), otherwise the double (-0.0 stays -0.0).
nlohmann::ordered_json json_number(double v);

// Writes `content` to a new file `dir`/`stem`.json, or `stem`-2.json, -3, ... if taken, whole
// or not at all, never replacing a file (output_file.hpp's write_new_file). Creates `dir`;
// `option` names it in messages. Returns the path written.
std::filesystem::path write_new_file(const std::string& option, const std::filesystem::path& dir,
                                     const std::string& stem, const nlohmann::ordered_json& content);

}  // namespace convconf::golden
