#include "reference/numpy_text.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

namespace convconf {
namespace {

// numpy's limit on dimensions (NPY_MAXDIMS, numpy 2); also bounds parse_list's recursion.
constexpr size_t kMaxDims = 64;

class Reader {
public:
    Reader(std::string_view text, std::string_view source) : text_(text), source_(source) {}

    NumpyArray parse() {
        skip_space();
        bool wrapped = false;
        if (text_.substr(pos_).starts_with("array(")) {
            pos_ += 6;
            wrapped = true;
        }
        NumpyArray out;
        skip_space();
        if (peek() == '[') {
            parse_list(0, out);
        } else {
            out.data.push_back(number());  // a scalar
        }
        skip_space();
        if (wrapped) {
            if (peek() == ',') {  // dtype=float32 and the like: informational, skipped
                ++pos_;
                skip_space();
                if (!text_.substr(pos_).starts_with("dtype=")) fail("expected dtype=... or ')'");
                while (pos_ < text_.size() && text_[pos_] != ')') ++pos_;
            }
            expect(')');
        }
        skip_space();
        if (pos_ != text_.size()) fail("unexpected text after the array");
        return out;
    }

private:
    // Parses one bracketed list at nesting depth `depth`, checking that every list at a
    // depth has the same length as the first one seen there (numpy arrays are rectangular).
    void parse_list(size_t depth, NumpyArray& out) {
        const size_t open = pos_;
        if (depth == kMaxDims)
            fail("nested deeper than " + std::to_string(kMaxDims) + " lists: numpy arrays have at most " +
                 std::to_string(kMaxDims) + " dimensions");
        expect('[');
        int64_t count = 0;
        bool nested = false;
        for (;;) {
            skip_separators();
            if (peek() == ']') break;
            if (pos_ == text_.size()) fail("expected ']'");
            if (peek() == '[') {
                if (count > 0 && !nested) fail("a list mixes numbers and lists");
                nested = true;
                parse_list(depth + 1, out);
            } else {
                if (nested) fail("a list mixes numbers and lists");
                if (text_.substr(pos_).starts_with("...")) fail("numpy summarised this array ('...'): print it with np.set_printoptions(threshold=np.inf)");
                if (leaf_depth_ && *leaf_depth_ != depth) fail("numbers at different nesting depths");
                leaf_depth_ = depth;
                out.data.push_back(number());
            }
            ++count;
        }
        ++pos_;  // ']'
        if (count == 0) fail_at(open, "an empty list: every dimension is at least 1");
        if (out.shape.size() <= depth) out.shape.resize(depth + 1, 0);  // 0: not seen yet
        if (out.shape[depth] == 0) {
            out.shape[depth] = count;
        } else if (out.shape[depth] != count) {
            fail_at(open, "not rectangular: a list of " + std::to_string(count) + " where others at depth " +
                              std::to_string(depth + 1) + " have " + std::to_string(out.shape[depth]));
        }
        if (nested && leaf_depth_ && *leaf_depth_ <= depth) fail_at(open, "numbers at different nesting depths");
    }

    double number() {
        const size_t start = pos_;
        while (pos_ < text_.size() && (std::isalnum(uint8_t(text_[pos_])) || text_[pos_] == '.' ||
                                       text_[pos_] == '-' || text_[pos_] == '+'))
            ++pos_;
        std::string token(text_.substr(start, pos_ - start));
        if (token.empty()) fail_at(start, "expected a number");
        const bool negative = token[0] == '-';
        const std::string body = token.substr(negative || token[0] == '+' ? 1 : 0);
        if (body == "nan") return std::numeric_limits<double>::quiet_NaN();
        if (body == "inf") return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
        // numpy prints "13." for 13.0; strtod reads that. Anything else must be consumed whole.
        char* end = nullptr;
        const double v = std::strtod(token.c_str(), &end);
        if (end != token.c_str() + token.size()) fail_at(start, "not a number: \"" + token + "\"");
        return v;
    }

    void skip_space() {
        while (pos_ < text_.size() && std::isspace(uint8_t(text_[pos_]))) ++pos_;
    }
    void skip_separators() {
        while (pos_ < text_.size() && (std::isspace(uint8_t(text_[pos_])) || text_[pos_] == ',')) ++pos_;
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
};

}  // namespace

NumpyArray parse_numpy(std::string_view text, std::string_view source) { return Reader(text, source).parse(); }

}  // namespace convconf
