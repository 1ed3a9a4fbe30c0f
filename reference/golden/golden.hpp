// Golden cases: expected values that no code of ours produced (the notebooks' printed
// outputs), read from JSON files in format convconf-golden/1 (../shared/golden-format.md,
// golden/schema.json, golden/README.md).
//
// Every error in a file is a GoldenError whose message reads
//   golden/x.json: (/cases/3/stride/0) type must be number, but is string
// the file's name, then the JSON pointer of the offending value. nlohmann_json's own errors
// (JSON_DIAGNOSTICS) and ours (unknown field, shape mismatch, duplicate name, invalid
// problem...) have the same form.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "impl/core/problem.hpp"
#include "impl/core/tensor.hpp"
#include "impl/core/types.hpp"
#include "reference/conformance.hpp"
#include "reference/input.hpp"

#include <nlohmann/json.hpp>

namespace convconf::golden {

class GoldenError : public std::runtime_error {
public:
    // pointer may be empty (an error about the file as a whole).
    GoldenError(const std::string& file, const std::string& pointer, const std::string& message);
    // The JSON pointer of the offending value ("/cases/3/stride"), empty for the whole file.
    const std::string& pointer() const { return pointer_; }

private:
    std::string pointer_;
};

// An expected output: its shape as written and, unless the case asserts only the shape, its
// values (activations in the case's layout, dw in its weights layout, col in any shape).
struct ExpectedOutput {
    std::vector<int64_t> shape;
    std::optional<Tensor<double>> value;
};

struct Case {
    std::string file;     // the file's display name, for messages and repro lines
    std::string pointer;  // "/cases/3"
    std::string name;
    Op op = Op::conv2d;
    Pass pass = Pass::forward;
    // Fields and tensor shapes combined, layouts included. Validated at load time, except in
    // an expect_error case, where the rejection is what the case checks (validate()).
    ConvProblem problem;
    std::vector<DType> dtypes;  // both when the file gives none
    Inputs<double> inputs;
    std::map<std::string, ExpectedOutput, std::less<>> expected;
    std::optional<Tolerance> tolerance;
    std::optional<std::string> expect_error;
    std::string note;
    // As written, when given: checked against the tensors by validate().
    std::optional<std::vector<int64_t>> x_shape, kernel;
    // Where each problem field came from ("sh" -> "/stride", "oc" -> "/inputs/w"), so that a
    // ProblemError naming the field is reported at the JSON value the user wrote.
    std::map<std::string, std::string, std::less<>> field_pointer;
    // The fields of version 1.1 that limit themselves to some ops (ceil_mode,
    // count_include_pad), as given: validate() refuses one on another op.
    std::vector<std::string> later_fields;
    bool nan_data = false;      // an input holds NaN or an infinity
    bool integer_data = false;  // every input value is an integer

    // conv2d's bias: forward is given b, backward_weights is expected to give db.
    bool bias() const;
};

struct File {
    std::string name;    // display name: "golden/000_1331a5632acb5755.json"
    std::string source;  // where the expected values come from
    std::vector<Case> cases;
};

// What a JSON text may make a reader do, whatever it holds. The depth lets a tensor have
// kMaxRank dimensions where a golden file holds one (the file, "cases", a case, "inputs");
// the value count is the file's element limit, since each value of a tensor written out is
// one JSON value. Both are checked while parsing, before the document is built.
struct JsonLimits {
    size_t max_depth = kMaxRank + 4;
    int64_t max_values = kMaxFileElements;
};

// The one JSON parser of golden files and of the schema: every reader of them parses
// through it, so each applies the same limits. Strict: an object that has a key twice is
// refused (nlohmann_json would keep the last, so "pass" given twice would silently run the
// second), as are nesting deeper than `limits.max_depth` and more than `limits.max_values`
// values. Throws GoldenError at the JSON pointer of the offending value
// ("x.json: (/cases/0) duplicate key \"pass\""), or of the whole file for a syntax error.
nlohmann::json parse_json(std::string_view text, const std::string& display_name,
                          const JsonLimits& limits = {});

// Reads one file. `display_name` names it in messages (default: the path as given); a file
// that cannot be read is an InputError naming `origin` (the option it came from) and the path.
File load_file(const std::filesystem::path& path, std::string display_name = {},
               std::string_view origin = "");
// Reads `text` as the content of a file called `display_name`: parse_json, then load_json.
File load_string(std::string_view text, const std::string& display_name);
// The format's rules applied to a document parse_json read from the file `display_name`.
File load_json(const nlohmann::json& doc, const std::string& display_name);

// The *.json files of `dir` except schema.json, sorted by name; an InputError naming
// `origin` and the directory when it is none or cannot be listed.
std::vector<std::filesystem::path> list_files(const std::filesystem::path& dir,
                                              std::string_view origin = "--golden");
// "golden/x.json" for dir/x.json: the directory's own name and the file's.
std::string display_name(const std::filesystem::path& dir, const std::filesystem::path& file);
// The golden/ directory of the source tree this build came from.
std::filesystem::path default_directory();

// Throws GoldenError, at the JSON value behind it, when the case's problem is invalid or a
// tensor's shape (an input's, or an expected output's: a SHAPE too) disagrees with the
// problem; an expected col needs only the element count of the problem's col. Nothing is computed before this passes; the
// loader calls it for every case without expect_error.
void validate(const Case&);

// The shape of every tensor spec's op and pass can name (its directions' rows, with and
// without the optional tensors) for `spec`'s problem, in the axis order it is written:
// activations in the layout, w and dw in the weights layout, b and db [oc], col
// [mb*oh*ow, ic*kh*kw]. The problem must be valid.
std::map<std::string, std::vector<int64_t>, std::less<>> tensor_shapes(const CheckSpec& spec);

// The check a case is, at one dtype.
CheckSpec check_spec(const Case&, DType);

// convconf golden --file F --case NAME --variant V --dtype D
std::string repro_command(const Case&, std::string_view variant, DType);

// Runs `c` on variant `v` at `dtype`: skipped (with the variant's reason) when the variant
// cannot run it; for an expect_error case, passed only when validate() rejects the case with
// a message containing the text (the variant is never called: validation is the harness's);
// otherwise the variant's outputs compared with the file's values (or shapes) under the
// case's tolerance or the harness's derived bound.
CheckResult run_case(const Case& c, const Variant& v, DType dtype);

}  // namespace convconf::golden
