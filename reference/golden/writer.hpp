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

// Writes `content` to a new file `dir`/`stem`.json, or `stem`-2.json, -3, ... if taken:
// created exclusively, so two writers never share or overwrite a file. Creates `dir`.
// Returns the path written.
std::filesystem::path write_new_file(const std::filesystem::path& dir, const std::string& stem,
                                     const nlohmann::ordered_json& content);

}  // namespace convconf::golden
