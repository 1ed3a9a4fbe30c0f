#include "reference/numpy_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

#include "reference/input.hpp"

namespace convconf {
namespace {

// The dtypes numpy's repr names after a numeric array (`array([...], dtype=float32)`).
constexpr std::string_view kDtypes[] = {"float16", "float32", "float64", "float128", "longdouble",
                                        "int8",    "int16",   "int32",   "int64",    "uint8",
                                        "uint16",  "uint32",  "uint64"};

// What numpy prints between and around elements: spaces, newlines; \t and \r from a paste.
bool is_blank(char ch) { return ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r'; }
// A token runs up to a blank, a separator or a bracket.
bool ends_token(char ch) { return is_blank(ch) || ch == ',' || ch == '[' || ch == ']' || ch == '(' || ch == ')'; }
bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& ch : out) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

class Reader {
public:
    Reader(std::string_view text, std::string_view source) : text_(text), source_(source) {}

    NumpyArray parse() {
        // numpy leaves values out of a large array's printout; nothing here can put them back.
        if (const size_t dots = text_.find("..."); dots != std::string_view::npos)
            fail_at(dots, "numpy summarised this array ('...'): print it whole with "
                          "np.set_printoptions(threshold=np.inf)");
        skip_blanks();
        if (pos_ == text_.size()) fail("no array: the text is empty");
        bool wrapped = false;
        if (text_.substr(pos_).starts_with("array(")) {
            pos_ += 6;
            wrapped = true;
            skip_blanks();
        }
        NumpyArray out;
        if (peek() == '[') {
            parse_list(0, out);
        } else {
            out.data.push_back(number());  // a scalar
        }
        skip_blanks();
        if (wrapped) {
            if (peek() == ',') {
                ++pos_;
                skip_blanks();
                dtype();
                skip_blanks();
            }
            expect(')');
        }
        skip_blanks();
        if (pos_ != text_.size()) fail("unexpected text after the array");
        return out;
    }

private:
    // `dtype=NAME`: informational, but only a numeric dtype's values are numbers.
    void dtype() {
        const size_t start = pos_;
        if (!text_.substr(pos_).starts_with("dtype=")) fail("expected dtype=... or ')'");
        pos_ += 6;
        const size_t name_start = pos_;
        while (pos_ < text_.size() && !ends_token(text_[pos_])) ++pos_;
        const std::string_view name = text_.substr(name_start, pos_ - name_start);
        for (std::string_view d : kDtypes)
            if (name == d) return;
        fail_at(start, "dtype=" + std::string(name) + " is not a numeric dtype numpy prints (float16, float32, "
                       "float64, float128, longdouble, int8 to int64, uint8 to uint64)");
    }

    // Parses one bracketed list at nesting depth `depth`, checking that every list at a
    // depth has the same length as the first one seen there (numpy arrays are rectangular).
    void parse_list(size_t depth, NumpyArray& out) {
        const size_t open = pos_;
        if (depth == kMaxRank)
            fail("nested deeper than " + std::to_string(kMaxRank) + " lists: numpy arrays have at most " +
                 std::to_string(kMaxRank) + " dimensions");
        expect('[');
        int64_t count = 0;
        bool nested = false;
        skip_blanks();
        if (peek() == ']') fail_at(open, "an empty list: every dimension is at least 1");
        if (peek() == ',') fail("a ',' before the first element: numpy prints none");
        for (;;) {
            if (pos_ == text_.size()) fail("expected ']'");
            if (peek() == '[') {
                if (count > 0 && !nested) fail("a list mixes numbers and lists");
                nested = true;
                parse_list(depth + 1, out);
            } else {
                if (nested) fail("a list mixes numbers and lists");
                if (leaf_depth_ && *leaf_depth_ != depth) fail("numbers at different nesting depths");
                leaf_depth_ = depth;
                if (out.data.size() == size_t(kMaxTensorElements))
                    fail("more than " + std::to_string(kMaxTensorElements) + " values: too many for a golden tensor");
                out.data.push_back(number());
            }
            ++count;
            if (!separator()) break;
        }
        expect(']');
        if (out.shape.size() <= depth) out.shape.resize(depth + 1, 0);  // 0: not seen yet
        if (out.shape[depth] == 0) {
            out.shape[depth] = count;
        } else if (out.shape[depth] != count) {
            fail_at(open, "not rectangular: a list of " + std::to_string(count) + " where others at depth " +
                              std::to_string(depth + 1) + " have " + std::to_string(out.shape[depth]));
        }
        if (nested && leaf_depth_ && *leaf_depth_ <= depth) fail_at(open, "numbers at different nesting depths");
    }

    // After an element: true when another follows, past its separator. numpy's str separates
    // elements by blanks, its repr (and a Python list) by a comma and blanks: one or the
    // other throughout, one comma at most, none before ']'.
    bool separator() {
        const size_t start = pos_;
        skip_blanks();
        const bool blanks = pos_ > start;
        if (peek() == ']') {
            if (text_[pos_ - 1] == ',') fail("a ',' before ']': numpy prints none");
            return false;
        }
        if (pos_ == text_.size()) fail("expected ']'");
        const bool comma = peek() == ',';
        if (comma) {
            ++pos_;
            skip_blanks();
            if (peek() == ',') fail("two ',' in a row: a value is missing");
            if (peek() == ']') fail_at(pos_ - 1, "a ',' before ']': numpy prints none");
        } else if (!blanks) {
            fail("expected a blank or ',' between elements");
        }
        if (!commas_) commas_ = comma;
        if (*commas_ != comma)
            fail_at(start, comma ? "a ',' where the elements before are separated by blanks alone"
                                 : "elements separated by blanks alone where the others are separated by ','");
        return true;
    }

    // One value as numpy prints a float or an integer: [-]digits[.[digits]][e[+-]digits],
    // nan, inf, -inf. What strtod also reads (hexadecimal, "infinity", a leading '+',
    // upper case, values beyond a double's range) numpy never prints: refused, not read.
    double number() {
        const size_t start = pos_;
        while (pos_ < text_.size() && !ends_token(text_[pos_])) ++pos_;
        const std::string_view token = text_.substr(start, pos_ - start);
        auto refuse = [&](const std::string& why) { fail_at(start, "\"" + std::string(token) + "\": " + why); };
        if (token.empty()) fail_at(start, "expected a number");
        if (token == "nan") return std::numeric_limits<double>::quiet_NaN();
        if (token == "inf") return std::numeric_limits<double>::infinity();
        if (token == "-inf") return -std::numeric_limits<double>::infinity();
        const bool negative = token[0] == '-';
        const std::string_view body = token.substr(negative ? 1 : 0);
        const std::string name = lower(body);
        if (name == "nan" || name.starts_with("nan(")) refuse("numpy prints NaN as nan, without a sign");
        if (name == "inf" || name == "infinity") refuse("numpy prints infinities as inf and -inf");
        if (token[0] == '+') refuse("a leading '+': numpy prints none");
        if (name.starts_with("0x")) refuse("hexadecimal: numpy prints decimal numbers");
        // The grammar, checked by hand: strtod alone would take a prefix or a wider form.
        size_t i = 0;
        const size_t int_start = i;
        while (i < body.size() && is_digit(body[i])) ++i;
        const size_t int_digits = i - int_start;
        if (int_digits == 0) refuse("not a number as numpy prints one");
        if (int_digits > 1 && body[0] == '0') refuse("a leading zero: numpy prints none");
        bool integer = true;
        if (i < body.size() && body[i] == '.') {
            integer = false;
            for (++i; i < body.size() && is_digit(body[i]);) ++i;
        }
        if (i < body.size() && body[i] == 'e') {
            integer = false;
            ++i;
            if (i < body.size() && (body[i] == '+' || body[i] == '-')) ++i;
            const size_t exp_start = i;
            while (i < body.size() && is_digit(body[i])) ++i;
            if (i == exp_start) refuse("an exponent without digits");
        }
        if (i != body.size()) refuse("not a number as numpy prints one");
        if (integer) {
            // An integer beyond 2^53 has no double of its own: it would be read as another.
            uint64_t magnitude = 0;
            const auto [end, error] = std::from_chars(body.data(), body.data() + body.size(), magnitude);
            if (error != std::errc() || end != body.data() + body.size() || magnitude > (uint64_t{1} << 53))
                refuse("an integer beyond 2^53, which a double cannot hold exactly");
            return negative ? -double(magnitude) : double(magnitude);
        }
        const std::string copy(token);
        const double v = std::strtod(copy.c_str(), nullptr);
        if (std::isinf(v)) refuse("beyond the range of a double (it would read as an infinity)");
        if (v == 0 && body.find_first_of("123456789") < body.find('e'))
            refuse("below the smallest double (it would read as 0)");
        return v;  // subnormal values are doubles: numpy prints them (5.e-324)
    }

    void skip_blanks() {
        while (pos_ < text_.size() && is_blank(text_[pos_])) ++pos_;
    }
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }
    [[noreturn]] void fail(const std::string& message) const { fail_at(pos_, message); }
    [[noreturn]] void fail_at(size_t at, const std::string& message) const {
        size_t line = 1, column = 1;
        for (size_t i = 0; i < at && i < text_.size(); ++i) {
            if (text_[i] == '\n') ++line, column = 1;
            else ++column;
        }
        throw std::invalid_argument(std::string(source_) + ":" + std::to_string(line) + ":" +
                                    std::to_string(column) + ": " + message);
    }

    std::string_view text_, source_;
    size_t pos_ = 0;
    std::optional<size_t> leaf_depth_;
    std::optional<bool> commas_;  // whether elements are separated by ',' (repr) or blanks (str)
};

}  // namespace

NumpyArray parse_numpy(std::string_view text, std::string_view source) { return Reader(text, source).parse(); }

}  // namespace convconf
