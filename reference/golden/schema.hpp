// golden/schema.json applied in C++, without a new dependency: the JSON Schema (draft
// 2020-12) keywords that schema uses, each with the specification's meaning. A keyword
// outside that set is refused when the schema is read, so a schema that grows one is never
// half-checked in silence.
//
// The loader (golden.hpp) is stricter than the schema (rectangular arrays, shapes against
// the problem, unique names); the schema is what other programs can check a file with.
// `convconf golden check` applies both, `golden add` both to the file it writes.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "reference/golden/golden.hpp"

namespace convconf::golden {

struct SchemaViolation {
    std::string pointer;  // of the offending value in the document: "/cases/0/stride/0"
    std::string message;  // "type must be integer, but is string"
};

class Schema {
public:
    // Throws std::invalid_argument for a keyword outside the supported set or a $ref that
    // is not a pointer into this schema.
    explicit Schema(nlohmann::json schema);
    // Reads (golden::parse_json: the loader's limits, no duplicate key) and checks a schema
    // file; errors name the file.
    static Schema load(const std::filesystem::path& path);

    // Every violation, in document order of the schema's checks; empty when `doc` is valid.
    // At most kMaxViolations, then one saying there are more: a file of ten million bad
    // entries gets a readable report, not gigabytes of them.
    std::vector<SchemaViolation> violations(const nlohmann::json& doc) const;
    static constexpr size_t kMaxViolations = 100;

private:
    nlohmann::json schema_;
};

// `convconf golden check`'s verdict on one file's text: both checks, golden/schema.json
// (structure, as other programs see it) and the loader (everything the schema cannot say:
// shapes, the problem, unique names), on the one document parse_json read, so the schema
// never sees what the loader's limits refuse. `file` is set when both pass; `errors` holds
// one line per fault otherwise, "FILE: (POINTER) message", a schema's ending
// " [golden/schema.json]".
struct CheckedText {
    std::optional<File> file;
    std::vector<std::string> errors;
};
CheckedText check_text(std::string_view text, const std::string& display_name, const Schema& schema);

// golden/schema.json of the source tree this build came from.
std::filesystem::path default_schema_path();

}  // namespace convconf::golden
