#include "tests/fuzz/targets.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "impl/core/descriptor.hpp"
#include "reference/conformance.hpp"
#include "reference/golden/edit.hpp"
#include "reference/golden/golden.hpp"
#include "reference/golden/schema.hpp"
#include "reference/numpy_text.hpp"

namespace convconf::fuzz {
namespace {

void require(bool holds, const std::string& what) {
    if (!holds) throw Finding(what);
}

// The input in a message: printable ASCII as is, the rest escaped, at most 200 bytes.
std::string escaped(std::string_view text) {
    std::string out = "\"";
    for (const char ch : text.substr(0, 200)) {
        const auto byte = static_cast<unsigned char>(ch);
        if (byte == '"' || byte == '\\') {
            out += '\\';
            out += ch;
        } else if (byte >= 0x20 && byte < 0x7f) {
            out += ch;
        } else {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", byte);
            out += hex;
        }
    }
    return out + (text.size() > 200 ? "\"..." : "\"");
}

// The product of a shape's extents, or -1 when an extent is below 1 or the product
// overflows.
int64_t element_count(const std::vector<int64_t>& shape) {
    int64_t count = 1;
    for (const int64_t e : shape)
        if (e < 1 || __builtin_mul_overflow(count, e, &count)) return -1;
    return count;
}

// ---- golden loader --------------------------------------------------------------------------

constexpr const char* kGoldenName = "fuzz.json";

void check_case(const golden::Case& c) {
    const std::string where = std::string(kGoldenName) + " case \"" + c.name + "\"";
    require(!c.dtypes.empty(), where + ": accepted with no dtype");
    for (const auto& [name, t] : c.inputs) {
        require(element_count(t.shape()) == t.size(),
                where + ": input " + name + " holds " + std::to_string(t.size()) +
                    " values, not the product of its shape");
        if (c.op == Op::conv2d)
            for (const double v : t.values())
                require(std::isfinite(v), where + ": conv2d input " + name + " is not finite");
    }
    for (const auto& [name, e] : c.expected)
        require(!e.value || (element_count(e.shape) == e.value->size() &&
                             element_count(e.value->shape()) == e.value->size()),
                where + ": expected " + name + " holds a value count other than its shape's");
    if (c.expect_error) return;
    // Loading validated the case; doing it again must agree, at every dtype it runs at.
    for (const DType dtype : c.dtypes) {
        try {
            convconf::validate(golden::check_spec(c, dtype));
        } catch (const std::invalid_argument& e) {
            throw Finding(where + ": accepted, but its problem is invalid at " +
                          std::string(to_string(dtype)) + ": " + e.what());
        }
    }
    try {
        golden::validate(c);
    } catch (const golden::GoldenError& e) {
        throw Finding(where + ": accepted, but validate() rejects it: " + e.what());
    }
}

// nlohmann's SAX events counted here, independently of parse_json's callback: how deep the
// text nests, and whether an object has a key twice.
class JsonShape : public nlohmann::json_sax<nlohmann::json> {
public:
    size_t max_depth = 0;
    bool duplicate = false;

    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(size_t) override { return open(); }
    bool key(string_t& k) override {
        duplicate = duplicate || !keys_.back().insert(k).second;
        return true;
    }
    bool end_object() override { return close(); }
    bool start_array(size_t) override { return open(); }
    bool end_array() override { return close(); }
    bool parse_error(size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

private:
    bool open() {
        keys_.emplace_back();
        max_depth = std::max(max_depth, keys_.size());
        return true;
    }
    bool close() {
        keys_.pop_back();
        return true;
    }
    std::vector<std::set<std::string>> keys_;  // of each open object (an array's stays empty)
};

// What parse_json promises of a text it accepted.
void require_strict_json(std::string_view bytes, const std::string& where) {
    JsonShape shape;
    require(nlohmann::json::sax_parse(bytes, &shape), where + ": accepted, but it is not JSON");
    require(!shape.duplicate, where + ": accepted with an object that has a key twice");
    require(shape.max_depth <= golden::JsonLimits{}.max_depth,
            where + ": accepted, nested " + std::to_string(shape.max_depth) + " deep");
}

// ---- numpy text -----------------------------------------------------------------------------

std::string numpy_number(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
    std::array<char, 32> digits;  // shortest round-trip form: reads back exactly
    const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), v).ptr;
    std::string out(digits.data(), end);
    // numpy prints every float with a '.' ("13.", "1.e+20"); an integer of 17 digits or more
    // would otherwise read as an integer beyond 2^53, which the reader refuses.
    if (out.find_first_of(".e") == std::string::npos) out += '.';
    return out;
}

// Prints `a` as numpy would (nested brackets, numbers separated by spaces).
std::string numpy_print(const NumpyArray& a) {
    if (a.shape.empty()) return numpy_number(a.data.at(0));
    std::string out;
    size_t next = 0;
    auto print = [&](auto&& self, size_t depth) -> void {
        out += '[';
        for (int64_t i = 0; i < a.shape[depth]; ++i) {
            if (i > 0) out += depth + 1 == a.shape.size() ? " " : "\n";
            if (depth + 1 == a.shape.size()) out += numpy_number(a.data.at(next++));
            else self(self, depth + 1);
        }
        out += ']';
    };
    print(print, 0);
    return out;
}

// The numbers of a numpy printout in order, and whether its separators are numpy's (no
// comma before the first element or ']', never two in a row): read with a regular
// expression, not with the parser's code.
struct NumpyTokens {
    std::vector<std::string> numbers;
    bool separators_ok = true;
};

NumpyTokens numpy_tokens(std::string_view text) {
    static const std::regex bad_commas(R"((,[ \t\r\n]*[,\]])|(\[[ \t\r\n]*,))");
    static const std::regex token(R"([^ \t\r\n,\[\]()]+)");
    const std::string s(text);
    NumpyTokens out;
    out.separators_ok = !std::regex_search(s, bad_commas);
    for (auto it = std::sregex_iterator(s.begin(), s.end(), token); it != std::sregex_iterator(); ++it) {
        const std::string t = it->str();
        if (t == "array" || t.rfind("dtype=", 0) == 0) continue;
        out.numbers.push_back(t);
    }
    return out;
}

bool same_value(double a, double b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    return a == b && std::signbit(a) == std::signbit(b);
}

// ---- descriptors ----------------------------------------------------------------------------

bool is_token_name(const std::string& token) {
    for (const char* name : {"ic", "ih", "iw", "oc", "kh", "kw"})
        if (token == name) return true;
    return false;
}

template <class P>
void check_descriptor_of(std::string_view text, Described<P> (*parse)(std::string_view),
                         const char* kind) {
    Described<P> read;
    try {
        read = parse(text);
    } catch (const DescriptorError& e) {
        // descriptor.hpp: token() is the token as written, or a missing required token.
        require(e.descriptor() == text, std::string(kind) + " " + escaped(text) +
                                            ": the error names another descriptor: " + e.what());
        require(!e.token().empty() &&
                    (text.find(e.token()) != std::string_view::npos || is_token_name(e.token())),
                std::string(kind) + " " + escaped(text) +
                    ": the error names a token that is neither written nor required: " + e.what());
        return;
    }
    const std::string where = std::string(kind) + " " + escaped(text);
    try {
        read.problem.validate();
    } catch (const ProblemError& e) {
        throw Finding(where + ": accepted, but the problem is invalid: " + e.what());
    }
    const std::string written = to_descriptor(read.problem, read.name);
    Described<P> back;
    try {
        back = parse(written);
    } catch (const DescriptorError& e) {
        throw Finding(where + ": accepted, but what it writes, " + escaped(written) +
                      ", is rejected: " + e.what());
    }
    require(back.problem == read.problem,
            where + ": written as " + escaped(written) + ", which reads as another problem, " +
                escaped(to_descriptor(back.problem)));
    require(back.name == read.name, where + ": written as " + escaped(written) +
                                        ", which reads with the name " + escaped(back.name) +
                                        " instead of " + escaped(read.name));
    const std::string rewritten = to_descriptor(back.problem, back.name);
    require(rewritten == written,
            where + ": written as " + escaped(written) + ", then as " + escaped(rewritten));
}

}  // namespace

void check_golden_loader(std::string_view bytes) {
    golden::File file;
    try {
        file = golden::load_string(bytes, kGoldenName);
    } catch (const golden::GoldenError& e) {
        require(std::string_view(e.what()).starts_with(std::string(kGoldenName) + ": "),
                std::string("a GoldenError without the file's name: ") + e.what());
        return;
    }
    require(file.name == kGoldenName, "the loaded file is called " + escaped(file.name));
    require_strict_json(bytes, kGoldenName);
    std::set<std::string> names;
    for (const golden::Case& c : file.cases) {
        require(names.insert(c.name).second, "duplicate case name accepted: " + escaped(c.name));
        check_case(c);
    }
}

void check_golden_check(std::string_view bytes) {
    static const golden::Schema schema = golden::Schema::load(golden::default_schema_path());
    const golden::CheckedText checked = golden::check_text(bytes, kGoldenName, schema);
    require(checked.file.has_value() == checked.errors.empty(),
            "golden check: a file both accepted and with errors, or neither");
    for (const std::string& e : checked.errors)
        require(e.rfind(std::string(kGoldenName) + ": ", 0) == 0, "golden check: an error without the file's name: " + e);
    if (!checked.file) return;
    require_strict_json(bytes, kGoldenName);
    golden::File loaded;
    try {
        loaded = golden::load_string(bytes, kGoldenName);
    } catch (const golden::GoldenError& e) {
        throw Finding(std::string("golden check accepts what load_string refuses: ") + e.what());
    }
    require(loaded.cases.size() == checked.file->cases.size(), "golden check and load_string read other cases");
    for (const golden::Case& c : checked.file->cases) check_case(c);
}

void check_golden_add(std::string_view bytes) {
    golden::File before;
    try {
        before = golden::load_string(bytes, kGoldenName);
    } catch (const golden::GoldenError&) {
        return;  // golden add refuses a file that does not load, before it reads anything else
    }
    require_strict_json(bytes, kGoldenName);
    static const nlohmann::ordered_json added = nlohmann::ordered_json::parse(
        R"({"name": "fuzz_added", "op": "maxpool2d", "pass": "forward", "kernel": [1, 1],
            "inputs": {"x": [[[[1]]]]}, "expected": {"y": [[[[1]]]]}})");
    for (const golden::Case& c : before.cases)
        if (c.name == "fuzz_added") return;  // golden add refuses a name the file has
    std::string after;
    try {
        after = golden::append_case(bytes, added);
    } catch (const std::runtime_error& e) {
        throw Finding(std::string("a file that loads, but golden add cannot add a case to it: ") + e.what());
    }
    golden::File f;
    try {
        f = golden::load_string(after, kGoldenName);
    } catch (const golden::GoldenError& e) {
        throw Finding(std::string("golden add's result of a file that loads does not load: ") + e.what() +
                      "\nthe result: " + escaped(after));
    }
    require(f.cases.size() == before.cases.size() + 1 && f.cases.back().name == "fuzz_added",
            "golden add's result does not hold the old cases plus the new one");
    static const golden::Schema schema = golden::Schema::load(golden::default_schema_path());
    require(schema.violations(golden::parse_json(after, kGoldenName)).size() ==
                schema.violations(golden::parse_json(bytes, kGoldenName)).size(),
            "golden add's new case changes what golden/schema.json says of the file");
}

void check_numpy_text(std::string_view bytes) {
    NumpyArray a;
    try {
        a = parse_numpy(bytes, "fuzz.txt");
    } catch (const std::invalid_argument&) {
        return;
    }
    const std::string where = "numpy text " + escaped(bytes);
    // numpy's grammar (numpy_text.hpp): [-]digits[.[digits]][e[+-]digits], nan, inf, -inf.
    static const std::regex numpy_number_grammar(R"(-?(0|[1-9][0-9]*)(\.[0-9]*)?(e[+-]?[0-9]+)?|nan|-?inf)");
    const NumpyTokens tokens = numpy_tokens(bytes);
    require(tokens.separators_ok, where + ": accepted with a comma numpy never prints");
    require(tokens.numbers.size() == a.data.size(), where + ": accepted with " + std::to_string(a.data.size()) +
                                                        " values, but it spells " +
                                                        std::to_string(tokens.numbers.size()));
    for (size_t i = 0; i < a.data.size(); ++i) {
        const std::string& t = tokens.numbers[i];
        require(std::regex_match(t, numpy_number_grammar),
                where + ": accepted " + escaped(t) + ", which numpy never prints");
        const bool spelt_nonfinite = t == "nan" || t == "inf" || t == "-inf";
        require(std::isfinite(a.data[i]) != spelt_nonfinite,
                where + ": read " + escaped(t) + " as " + numpy_number(a.data[i]));
    }
    require(element_count(a.shape) == int64_t(a.data.size()),
            where + ": accepted with " + std::to_string(a.data.size()) +
                " values, not the product of its shape's extents (each >= 1)");
    const std::string printed = numpy_print(a);
    NumpyArray back;
    try {
        back = parse_numpy(printed, "printed");
    } catch (const std::invalid_argument& e) {
        throw Finding(where + ": accepted, but its printout " + escaped(printed) +
                      " is rejected: " + e.what());
    }
    require(back.shape == a.shape, where + ": its printout " + escaped(printed) +
                                       " reads with another shape");
    for (size_t i = 0; i < a.data.size(); ++i)
        require(same_value(back.data[i], a.data[i]),
                where + ": its printout " + escaped(printed) + " reads value " +
                    std::to_string(i) + " as " + numpy_number(back.data[i]) + ", not " +
                    numpy_number(a.data[i]));
}

void check_descriptor(std::string_view bytes) {
    check_descriptor_of<ConvProblem>(bytes, parse_conv_descriptor, "conv descriptor");
    check_descriptor_of<PoolProblem>(bytes, parse_pool_descriptor, "pool descriptor");
}

}  // namespace convconf::fuzz
