#include "tests/fuzz/targets.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "impl/core/descriptor.hpp"
#include "reference/conformance.hpp"
#include "reference/golden/golden.hpp"
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

// ---- numpy text -----------------------------------------------------------------------------

std::string numpy_number(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
    std::array<char, 32> digits;  // shortest round-trip form: reads back exactly
    const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), v).ptr;
    return std::string(digits.data(), end);
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
    std::set<std::string> names;
    for (const golden::Case& c : file.cases) {
        require(names.insert(c.name).second, "duplicate case name accepted: " + escaped(c.name));
        check_case(c);
    }
}

void check_numpy_text(std::string_view bytes) {
    NumpyArray a;
    try {
        a = parse_numpy(bytes, "fuzz.txt");
    } catch (const std::invalid_argument&) {
        return;
    }
    const std::string where = "numpy text " + escaped(bytes);
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
