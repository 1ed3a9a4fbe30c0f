#include "reference/golden/schema.hpp"

#include <cmath>
#include <regex>
#include <set>
#include <stdexcept>

#include "reference/golden/golden.hpp"

namespace convconf::golden {
namespace {

using json = nlohmann::json;

// Keywords that assert or apply subschemas, and annotations that do neither.
const std::set<std::string> kAssertions = {
    "type",  "enum",     "const",    "required", "properties", "additionalProperties",
    "items", "minItems", "maxItems", "minimum",  "pattern",    "oneOf",
    "anyOf", "allOf",    "if",       "then",     "else",       "$ref"};
const std::set<std::string> kAnnotations = {"$schema", "$id",         "$defs",   "$comment",
                                            "title",   "description", "default", "examples"};

std::string escape(const std::string& key) {
    std::string out;
    for (char ch : key) out += ch == '~' ? "~0" : ch == '/' ? "~1" : std::string(1, ch);
    return out;
}

// Walks every subschema once, refusing what this validator does not implement.
void check_supported(const json& s, const json& root, const std::string& at) {
    if (s.is_boolean()) return;
    if (!s.is_object()) throw std::invalid_argument("schema " + at + ": a schema is an object or a boolean");
    for (const auto& [key, value] : s.items()) {
        if (!kAssertions.count(key) && !kAnnotations.count(key))
            throw std::invalid_argument("schema " + at + ": keyword \"" + key +
                                        "\" is not supported by convconf's validator");
        const std::string here = at + "/" + escape(key);
        if (key == "properties" || key == "$defs") {
            for (const auto& [name, sub] : value.items())
                check_supported(sub, root, here + "/" + escape(name));
        } else if (key == "oneOf" || key == "anyOf" || key == "allOf") {
            for (size_t i = 0; i < value.size(); ++i)
                check_supported(value[i], root, here + "/" + std::to_string(i));
        } else if (key == "additionalProperties" || key == "items" || key == "if" || key == "then" ||
                   key == "else") {
            check_supported(value, root, here);
        } else if (key == "$ref") {
            const std::string ref = value.get<std::string>();
            if (ref.rfind("#", 0) != 0 || !root.contains(json::json_pointer(ref.substr(1))))
                throw std::invalid_argument("schema " + here + ": $ref \"" + ref +
                                            "\" is not a pointer into this schema");
        } else if (key == "pattern") {
            std::regex(value.get<std::string>(), std::regex::ECMAScript);  // throws if not a regex
        }
    }
}

bool is_integer(const json& v) {
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    const double d = v.get<double>();
    return std::isfinite(d) && d == std::floor(d);
}

bool has_type(const json& v, const std::string& type) {
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "number") return v.is_number();
    if (type == "integer") return is_integer(v);
    if (type == "boolean") return v.is_boolean();
    if (type == "null") return v.is_null();
    return false;
}

std::string type_name(const json& v) {
    return is_integer(v) ? "integer" : v.is_number() ? "number" : v.type_name();
}

std::string shortened(const json& v) {
    std::string s = v.dump();
    return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

class Validator {
public:
    explicit Validator(const json& root) : root_(root) {}

    // Appends the violations of `v` (at `at`) against `s` to `out`.
    void validate(const json& s, const json& v, const std::string& at,
                  std::vector<SchemaViolation>& out) const {
        if (out.size() >= Schema::kMaxViolations) return;  // enough to fix a file by; no more memory
        auto fail = [&](const std::string& message) { out.push_back({at, message}); };
        if (s.is_boolean()) {
            if (!s.get<bool>()) fail("no value is allowed here");
            return;
        }
        if (s.contains("$ref"))
            validate(root_.at(json::json_pointer(s["$ref"].get<std::string>().substr(1))), v, at, out);
        if (s.contains("type")) {
            const json& t = s["type"];
            bool ok = false;
            for (const json& one : t.is_array() ? t : json::array({t}))
                ok = ok || has_type(v, one.get<std::string>());
            if (!ok) {
                fail("type must be " + (t.is_array() ? t.dump() : t.get<std::string>()) + ", but is " +
                     type_name(v));
                return;  // the other keywords would only repeat it
            }
        }
        if (s.contains("const") && v != s["const"])
            fail("must be " + s["const"].dump() + ", but is " + shortened(v));
        if (s.contains("enum")) {
            bool found = false;
            for (const json& e : s["enum"]) found = found || v == e;
            if (!found) fail("must be one of " + s["enum"].dump() + ", but is " + shortened(v));
        }
        if (v.is_object()) object_keywords(s, v, at, out);
        if (v.is_array()) array_keywords(s, v, at, out);
        if (v.is_number() && s.contains("minimum") && v.get<double>() < s["minimum"].get<double>())
            fail("must be >= " + s["minimum"].dump() + ", but is " + v.dump());
        if (v.is_string() && s.contains("pattern") &&
            !std::regex_search(v.get<std::string>(), std::regex(s["pattern"].get<std::string>())))
            fail("\"" + v.get<std::string>() + "\" does not match the pattern " +
                 s["pattern"].get<std::string>());
        if (s.contains("allOf"))
            for (const json& sub : s["allOf"]) validate(sub, v, at, out);
        if (s.contains("anyOf") || s.contains("oneOf")) {
            const bool one = s.contains("oneOf");
            const json& alternatives = one ? s["oneOf"] : s["anyOf"];
            size_t matched = 0;
            std::vector<SchemaViolation> closest;
            for (const json& sub : alternatives) {
                std::vector<SchemaViolation> mine;
                validate(sub, v, at, mine);
                if (mine.empty())
                    ++matched;
                else if (closest.empty() || deeper(mine, closest))
                    closest = std::move(mine);
            }
            const std::string keyword = one ? "oneOf" : "anyOf";
            if (matched == 0) {
                fail("matches none of the " + std::to_string(alternatives.size()) + " alternatives (" +
                     keyword + ")" +
                     (closest.empty()
                          ? ""
                          : "; the closest: (" + closest.front().pointer + ") " + closest.front().message));
            } else if (one && matched > 1) {
                fail("matches " + std::to_string(matched) +
                     " of the alternatives, where oneOf allows exactly one");
            }
        }
        if (s.contains("if")) {
            std::vector<SchemaViolation> ignored;
            validate(s["if"], v, at, ignored);
            const char* branch = ignored.empty() ? "then" : "else";
            if (s.contains(branch)) validate(s[branch], v, at, out);
        }
    }

private:
    // The alternative whose first violation lies deepest in the document is the one the
    // writer most likely meant (the same heuristic as Python jsonschema's best_match).
    static bool deeper(const std::vector<SchemaViolation>& a, const std::vector<SchemaViolation>& b) {
        return a.front().pointer.size() > b.front().pointer.size();
    }

    void object_keywords(const json& s, const json& v, const std::string& at,
                         std::vector<SchemaViolation>& out) const {
        if (s.contains("required"))
            for (const json& name : s["required"])
                if (!v.contains(name.get<std::string>()))
                    out.push_back({at, "missing required field \"" + name.get<std::string>() + "\""});
        const json* properties = s.contains("properties") ? &s["properties"] : nullptr;
        for (const auto& [key, value] : v.items()) {
            const std::string here = at + "/" + escape(key);
            if (properties && properties->contains(key))
                validate((*properties)[key], value, here, out);
            else if (s.contains("additionalProperties")) {
                const json& extra = s["additionalProperties"];
                if (extra.is_boolean() && !extra.get<bool>())
                    out.push_back({here, "field \"" + key + "\" is not allowed here"});
                else
                    validate(extra, value, here, out);
            }
        }
    }

    void array_keywords(const json& s, const json& v, const std::string& at,
                        std::vector<SchemaViolation>& out) const {
        if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>())
            out.push_back({at, "must have at least " + s["minItems"].dump() + " elements, has " +
                                   std::to_string(v.size())});
        if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>())
            out.push_back({at, "must have at most " + s["maxItems"].dump() + " elements, has " +
                                   std::to_string(v.size())});
        if (s.contains("items"))
            for (size_t i = 0; i < v.size(); ++i)
                validate(s["items"], v[i], at + "/" + std::to_string(i), out);
    }

    const json& root_;
};

}  // namespace

Schema::Schema(json schema) : schema_(std::move(schema)) { check_supported(schema_, schema_, "#"); }

Schema Schema::load(const std::filesystem::path& path) {
    const json schema = parse_json(read_input_file(path, "the schema"), path.string());
    try {
        return Schema(schema);
    } catch (const std::exception& e) {
        throw std::runtime_error(path.string() + ": " + e.what());
    }
}

std::vector<SchemaViolation> Schema::violations(const json& doc) const {
    std::vector<SchemaViolation> out;
    Validator(schema_).validate(schema_, doc, "", out);
    if (out.size() >= kMaxViolations) {
        out.resize(kMaxViolations);
        out.push_back({"", "more violations, not listed: convconf lists the first " + std::to_string(kMaxViolations)});
    }
    return out;
}

CheckedText check_text(std::string_view text, const std::string& display_name, const Schema& schema) {
    CheckedText out;
    json doc;
    try {
        doc = parse_json(text, display_name);
    } catch (const GoldenError& e) {
        out.errors.push_back(e.what());
        return out;
    }
    for (const SchemaViolation& v : schema.violations(doc))
        // Worded as the loader's errors: "FILE: (POINTER) message", no pointer for the root.
        out.errors.push_back(display_name + ": " + (v.pointer.empty() ? "" : "(" + v.pointer + ") ") +
                             v.message + " [golden/schema.json]");
    try {
        File f = load_json(doc, display_name);
        if (out.errors.empty()) out.file = std::move(f);
    } catch (const GoldenError& e) {
        out.errors.push_back(e.what());
    }
    return out;
}

std::filesystem::path default_schema_path() { return default_directory() / "schema.json"; }

}  // namespace convconf::golden
