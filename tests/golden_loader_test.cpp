// The golden loader against golden-format.md: every TENSOR form, the defaults, and each
// malformed-file error with the file's name and the JSON pointer of the offending value.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "reference/registry.hpp"
#include "reference/golden/golden.hpp"

namespace convconf {
namespace {

using golden::GoldenError;

constexpr const char* kFile = "golden/under_test.json";

std::string file_of(const std::string& cases) {
    return R"({"format": "convconf-golden/1", "source": "tests", "cases": [)" + cases + "]}";
}

golden::Case load_case(const std::string& case_json) {
    const golden::File f = golden::load_string(file_of(case_json), kFile);
    EXPECT_EQ(f.cases.size(), 1u);
    return f.cases.at(0);
}

// The loader's message for `text`, or "(loaded)".
std::string load_error(const std::string& text) {
    try {
        golden::load_string(text, kFile);
    } catch (const GoldenError& e) {
        return e.what();
    }
    return "(loaded)";
}

// The message must start with the file's name and the JSON pointer, then say `what`.
void expect_error(const std::string& text, const std::string& pointer, const std::string& what) {
    const std::string message = load_error(text);
    const std::string prefix = std::string(kFile) + ": (" + pointer + ") ";
    EXPECT_EQ(message.rfind(prefix, 0), 0u) << message << "\n  should start with: " << prefix;
    EXPECT_NE(message.find(what), std::string::npos) << message << "\n  should say: " << what;
}

// A valid 2x2 max-pooling case with `extra` fields added and `x` as its input.
std::string pool_case(const std::string& extra = "", const std::string& x = "[[[[1, 2], [3, 4]]]]") {
    return R"({"name": "pool", "op": "maxpool2d", "pass": "forward", "kernel": [2, 2],
               "inputs": {"x": )" + x + R"(}, "expected": {"y": {"shape": [1, 1, 1, 1]}})" +
           extra + "}";
}

std::vector<double> values(const Tensor<double>& t) { return {t.values().begin(), t.values().end()}; }

// `text` with its one occurrence of `from` replaced by `to`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

// ---- TENSOR forms --------------------------------------------------------------------------

TEST(GoldenTensor, NestedArrayGivesShapeAndRowMajorValues) {
    const golden::Case c = load_case(pool_case("", "[[[[1, 2, 3], [4, 5, 6]]]]"));
    EXPECT_EQ(c.inputs.at("x").shape(), (std::vector<int64_t>{1, 1, 2, 3}));
    EXPECT_EQ(values(c.inputs.at("x")), (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

TEST(GoldenTensor, ShapeAndData) {
    const golden::Case c = load_case(pool_case("", R"({"shape": [1, 1, 2, 2], "data": [4, 3, 2, 1]})"));
    EXPECT_EQ(values(c.inputs.at("x")), (std::vector<double>{4, 3, 2, 1}));
}

TEST(GoldenTensor, ArangeDefaultsToNumpysArange) {
    const golden::Case c = load_case(pool_case("", R"({"shape": [1, 1, 2, 2], "arange": {}})"));
    EXPECT_EQ(values(c.inputs.at("x")), (std::vector<double>{0, 1, 2, 3}));
}

TEST(GoldenTensor, ArangeWithStartAndStep) {
    const golden::Case c =
        load_case(pool_case("", R"({"shape": [1, 1, 2, 2], "arange": {"start": 1, "step": -0.5}})"));
    EXPECT_EQ(values(c.inputs.at("x")), (std::vector<double>{1, 0.5, 0, -0.5}));
}

TEST(GoldenTensor, Fill) {
    const golden::Case c = load_case(pool_case("", R"({"shape": [1, 1, 2, 2], "fill": -7})"));
    EXPECT_EQ(values(c.inputs.at("x")), (std::vector<double>(4, -7)));
}

TEST(GoldenTensor, NanAndInfinitiesAsStrings) {
    const golden::Case c = load_case(pool_case("", R"([[[["nan", "inf"], ["-inf", 1]]]])"));
    const auto v = values(c.inputs.at("x"));
    EXPECT_TRUE(std::isnan(v[0]));
    EXPECT_EQ(v[1], INFINITY);
    EXPECT_EQ(v[2], -INFINITY);
    EXPECT_TRUE(c.nan_data);
    EXPECT_FALSE(c.integer_data);
}

TEST(GoldenTensor, ShapeOnlyExpectation) {
    const golden::Case c = load_case(pool_case());
    EXPECT_EQ(c.expected.at("y").shape, (std::vector<int64_t>{1, 1, 1, 1}));
    EXPECT_FALSE(c.expected.at("y").value);
}

TEST(GoldenTensor, ExpectedColMayHaveAnyShape) {
    const golden::Case c = load_case(R"({"name": "c", "op": "im2col", "pass": "forward",
        "kernel": [2, 2], "inputs": {"x": {"shape": [1, 1, 2, 2], "arange": {}}},
        "expected": {"col": [[[0, 1]], [[2, 3]]]}})");
    EXPECT_EQ(c.expected.at("col").shape, (std::vector<int64_t>{2, 1, 2}));
    EXPECT_EQ(golden::run_case(c, naive_variant(), DType::f64).status, Status::passed);
}

// ---- Layouts ---------------------------------------------------------------------------------

TEST(GoldenLayout, NhwcTensorsAreReadInNhwcOrder) {
    // x[n, h, w, c]: channel 0 is 1..4, channel 1 is 10..40.
    const golden::Case c = load_case(replaced(pool_case(R"(, "layout": "NHWC")",
                                                        R"([[[[1, 10], [2, 20]], [[3, 30], [4, 40]]]])"),
                                              R"("shape": [1, 1, 1, 1])", R"("shape": [1, 1, 1, 2])"));
    const Tensor<double>& x = c.inputs.at("x");
    EXPECT_EQ(x.order(), AxisOrder::nhwc);
    EXPECT_EQ(x.dims(), (Dims4{1, 2, 2, 2}));
    EXPECT_EQ(x.at(0, 1, 1, 0), 30);  // logical (n, c, h, w)
    EXPECT_EQ(c.problem.ic, 2);
}

TEST(GoldenLayout, HwioWeights) {
    const golden::Case c = load_case(R"({"name": "c", "op": "conv2d", "pass": "forward",
        "weights_layout": "HWIO",
        "inputs": {"x": {"shape": [1, 1, 3, 3], "arange": {}},
                   "w": {"shape": [2, 1, 1, 4], "arange": {}}},
        "expected": {"y": {"shape": [1, 4, 2, 3]}}})");
    EXPECT_EQ(c.problem.oc, 4);
    EXPECT_EQ(c.problem.kh, 2);
    EXPECT_EQ(c.problem.kw, 1);
    EXPECT_EQ(c.inputs.at("w").at(3, 0, 1, 0), 7);  // (o, i, h, w) = (3, 0, 1, 0) is HWIO element 4 + 3
}

// ---- Defaults --------------------------------------------------------------------------------

TEST(GoldenDefaults, AbsentFieldsTakeTheContractsDefaults) {
    const golden::Case c = load_case(R"({"name": "c", "op": "im2col", "pass": "forward",
        "kernel": [2, 2], "inputs": {"x": {"shape": [1, 1, 3, 3], "fill": 1}},
        "expected": {"col": {"shape": [4, 4]}}})");
    const ConvProblem& p = c.problem;
    EXPECT_EQ(p.layout, Layout::nchw);
    EXPECT_EQ(p.weights_layout, WeightsLayout::oihw);
    EXPECT_EQ((std::array{p.sh, p.sw}), (std::array<int64_t, 2>{1, 1}));
    EXPECT_EQ((std::array{p.pt, p.pl, p.pb, p.pr}), (std::array<int64_t, 4>{0, 0, 0, 0}));
    EXPECT_EQ((std::array{p.dh, p.dw}), (std::array<int64_t, 2>{1, 1}));
    EXPECT_FALSE(c.tolerance);
    EXPECT_TRUE(c.integer_data);
}

TEST(GoldenDefaults, MaxPoolStrideDefaultsToKernel) {
    const golden::Case c = load_case(R"({"name": "c", "op": "maxpool2d", "pass": "forward",
        "kernel": [2, 3], "inputs": {"x": {"shape": [1, 1, 4, 6], "fill": 1}},
        "expected": {"y": {"shape": [1, 1, 2, 2]}}})");
    EXPECT_EQ(c.problem.sh, 2);
    EXPECT_EQ(c.problem.sw, 3);
}

TEST(GoldenDefaults, TwoValuePadMeansSymmetric) {
    const golden::Case c = load_case(replaced(pool_case(R"(, "pad": [1, 0])", "[[[[1, 2], [3, 4]]]]"),
        R"("shape": [1, 1, 1, 1])", R"("shape": [1, 1, 2, 1])"));
    const ConvProblem& p = c.problem;
    EXPECT_EQ((std::array{p.pt, p.pl, p.pb, p.pr}), (std::array<int64_t, 4>{1, 0, 1, 0}));
}

TEST(GoldenDefaults, FourValuePadIsTopLeftBottomRight) {
    const golden::Case c = load_case(replaced(pool_case(R"(, "pad": [1, 0, 0, 1], "stride": [1, 1])"),
                                              R"("shape": [1, 1, 1, 1])", R"("shape": [1, 1, 2, 2])"));
    const ConvProblem& p = c.problem;
    EXPECT_EQ((std::array{p.pt, p.pl, p.pb, p.pr}), (std::array<int64_t, 4>{1, 0, 0, 1}));
}

TEST(GoldenDefaults, DtypeAbsentMeansBoth) {
    EXPECT_EQ(load_case(pool_case()).dtypes, (std::vector<DType>{DType::f32, DType::f64}));
    EXPECT_EQ(load_case(pool_case(R"(, "dtype": "f64")")).dtypes, (std::vector<DType>{DType::f64}));
}

TEST(GoldenDefaults, ToleranceAndNote) {
    const golden::Case c = load_case(pool_case(R"(, "tolerance": {"abs": 0.5}, "note": "In [1]")"));
    ASSERT_TRUE(c.tolerance);
    EXPECT_EQ(c.tolerance->abs, 0.5);
    EXPECT_EQ(c.tolerance->rel, 0);
    EXPECT_EQ(c.note, "In [1]");
}

// ---- Running ---------------------------------------------------------------------------------

TEST(GoldenRun, WrongValueFailsWithGoldenReproLine) {
    const golden::Case c = load_case(R"({"name": "wrong", "op": "maxpool2d", "pass": "forward",
        "kernel": [2, 2], "inputs": {"x": [[[[1, 2], [3, 4]]]]}, "expected": {"y": [[[[3]]]]}})");
    const CheckResult r = golden::run_case(c, naive_variant(), DType::f32);
    EXPECT_EQ(r.status, Status::failed);
    EXPECT_NE(r.detail.find("(n,c,h,w)=(0,0,0,0) got 4 want 3"), std::string::npos) << r.detail;
    EXPECT_NE(r.detail.find("repro: convconf golden --file golden/under_test.json --case wrong "
                            "--variant naive --dtype f32"),
              std::string::npos)
        << r.detail;
}

TEST(GoldenRun, ToleranceReplacesTheDerivedBound) {
    const std::string c = R"({"name": "t", "op": "conv2d", "pass": "forward",
        "inputs": {"x": [[[[0.5]]]], "w": [[[[3]]]]}, "expected": {"y": [[[[1.6]]]]})";
    EXPECT_EQ(golden::run_case(load_case(c + "}"), naive_variant(), DType::f64).status, Status::failed);
    const CheckResult r = golden::run_case(load_case(c + R"(, "tolerance": {"abs": 0.2}})"),
                                           naive_variant(), DType::f64);
    EXPECT_EQ(r.status, Status::passed) << r.detail;
}

TEST(GoldenRun, ExpectErrorPassesOnlyWhenRejectedWithTheText) {
    const std::string invalid = R"({"name": "e", "op": "maxpool2d", "pass": "forward",
        "kernel": [2, 2], "stride": [0, 1], "inputs": {"x": [[[[1, 2], [3, 4]]]]},
        "expect_error": )";
    const golden::Case rejected = load_case(invalid + R"("stride height must be >= 1"})");
    EXPECT_EQ(golden::run_case(rejected, naive_variant(), DType::f32).status, Status::passed);

    const golden::Case other = load_case(invalid + R"("pad"})");
    const CheckResult r = golden::run_case(other, naive_variant(), DType::f32);
    EXPECT_EQ(r.status, Status::failed);
    EXPECT_NE(r.detail.find("(/cases/0/stride) sh: stride height must be >= 1"), std::string::npos) << r.detail;

    const golden::Case accepted = load_case(replaced(pool_case(),
        R"("expected": {"y": {"shape": [1, 1, 1, 1]}})", R"("expect_error": "stride")"));
    const CheckResult a = golden::run_case(accepted, naive_variant(), DType::f32);
    EXPECT_EQ(a.status, Status::failed);
    EXPECT_NE(a.detail.find("the problem was accepted"), std::string::npos) << a.detail;
}

// ---- Malformed files: file name and JSON pointer in every message ----------------------------

TEST(GoldenMalformed, UnknownCaseField) {
    expect_error(file_of(pool_case(R"(, "strid": [1, 1])")), "/cases/0/strid", "unknown field \"strid\"");
}

TEST(GoldenMalformed, UnknownTensorField) {
    expect_error(file_of(pool_case("", R"({"shape": [1, 1, 2, 2], "fil": 1})")), "/cases/0/inputs/x/fil",
                 "unknown field \"fil\"");
}

TEST(GoldenMalformed, UnknownInputName) {
    expect_error(file_of(pool_case("", R"([[[[1]]]], "w": [[[[1]]]])")), "/cases/0/inputs/w",
                 "unknown field \"w\"");
}

TEST(GoldenMalformed, UnknownFileField) {
    expect_error(R"({"format": "convconf-golden/1", "cases": [], "comment": ""})", "/comment",
                 "unknown field \"comment\"");
}

TEST(GoldenMalformed, NonRectangularNestedArray) {
    expect_error(file_of(pool_case("", "[[[[1, 2], [3]]]]")), "/cases/0/inputs/x/0/0/1",
                 "non-rectangular nested array");
    expect_error(file_of(pool_case("", "[[[[1, 2], [3, [4]]]]]")), "/cases/0/inputs/x/0/0/1/1",
                 "non-rectangular nested array");
}

// Found while fuzzing (tests/fuzz/regressions/golden): deep nesting recursed once per level,
// wide nesting overflowed the element count, and "fill" let a few bytes allocate gigabytes.
TEST(GoldenMalformed, TensorTooDeepOrTooLarge) {
    std::string pointer = "/cases/0/inputs/x";
    for (int level = 0; level < 64; ++level) pointer += "/0";  // the 65th array
    expect_error(file_of(pool_case("", std::string(65, '[') + "1" + std::string(65, ']'))), pointer,
                 "a golden tensor has at most 64 dimensions");
    std::string wide = "0";
    for (int i = 0; i < 20; ++i) wide = "[" + wide + ",0,0,0,0,0,0,0,0,0]";  // 10^20 elements
    expect_error(file_of(pool_case("", wide)), "/cases/0/inputs/x", "too many elements for a golden tensor");
    expect_error(file_of(pool_case("", R"({"shape": [1, 1, 4096, 4096], "fill": 0})")),
                 "/cases/0/inputs/x", "too many elements for a golden tensor");
    // The limit is 2^22 elements exactly: 2048 x 2048 is a tensor (below), one column more is not.
    expect_error(file_of(pool_case("", R"({"shape": [1, 1, 2048, 2049], "fill": 0})")),
                 "/cases/0/inputs/x", "too many elements for a golden tensor");
    std::string cases;
    for (int i = 0; i < 9; ++i)
        cases += (i ? ", " : "") +
                 replaced(replaced(pool_case("", R"({"shape": [1, 1, 2048, 2048], "fill": 0})"), R"("name": "pool")",
                                   "\"name\": \"c" + std::to_string(i) + "\""),
                          R"({"shape": [1, 1, 1, 1]})", R"({"shape": [1, 1, 1024, 1024]})");
    expect_error(file_of(cases), "/cases/8", "too many elements for a golden file");
}

// nlohmann_json keeps the last of a key given twice: "pass" twice ran the second pass, and a
// wrong first "y" hid behind a right second one. Refused at the object holding the key.
TEST(GoldenMalformed, DuplicateKeysAreRefusedWhereverTheyAre) {
    expect_error(file_of(replaced(pool_case(), R"("pass": "forward")", R"("pass": "forward", "pass": "backward")")),
                 "/cases/0", "duplicate key \"pass\"");
    expect_error(file_of(replaced(pool_case(), R"("expected": {"y": {"shape": [1, 1, 1, 1]}})",
                                  R"("expected": {"y": [[[[9]]]], "y": [[[[4]]]]})")),
                 "/cases/0/expected", "duplicate key \"y\"");
    EXPECT_EQ(load_error(R"({"format": "convconf-golden/1", "cases": [], "cases": []})"),
              std::string(kFile) + ": duplicate key \"cases\" (a key may appear once in an object)");
    expect_error(file_of(pool_case(R"(, "note": {"a": [{"k~/": 1, "k~/": 2}]})")), "/cases/0/note/a/0",
                 "duplicate key \"k~/\"");
    // The same key in two objects is no duplicate.
    EXPECT_EQ(load_error(file_of(pool_case() + ", " + replaced(pool_case(), R"("name": "pool")", R"("name": "b")"))),
              "(loaded)");
}

// Depth and value count are bounded while parsing, before the document is built; these are
// the limits every reader of golden JSON applies (golden.hpp JsonLimits).
TEST(GoldenMalformed, JsonLimitsHoldWhileParsing) {
    auto error = [](const std::string& text, const golden::JsonLimits& limits) {
        try {
            golden::parse_json(text, "l.json", limits);
        } catch (const GoldenError& e) {
            return std::string(e.what());
        }
        return std::string("(parsed)");
    };
    EXPECT_EQ(error("[[[1]]]", {3, 100}), "(parsed)");
    EXPECT_EQ(error("[[[[1]]]]", {3, 100}),
              "l.json: (/0/0/0) nested deeper than 3 arrays and objects (a golden tensor has at most 64 dimensions)");
    EXPECT_EQ(error(R"({"a": [1, {"b": [2]}]})", {4, 100}), "(parsed)");
    EXPECT_EQ(error(R"({"a": [1, {"b": [[2]]}]})", {4, 100}).substr(0, 19), "l.json: (/a/1/b/0) ");
    EXPECT_EQ(error("[1, 2, 3]", {8, 4}), "(parsed)");
    EXPECT_EQ(error("[1, 2, 3, 4]", {8, 4}).substr(0, 36), "l.json: (/3) more than 4 JSON values");
    // 5,000 levels (golden check crashed on them) and a syntax error.
    EXPECT_NE(error(std::string(5000, '[') + std::string(5000, ']'), {}).find("nested deeper than 68"),
              std::string::npos);
    EXPECT_EQ(error("[1,]", {}).substr(0, 27), "l.json: parse error at line");
}

TEST(GoldenMalformed, ShapeDisagreesWithData) {
    expect_error(file_of(pool_case("", R"({"shape": [1, 1, 2, 2], "data": [1, 2, 3]})")),
                 "/cases/0/inputs/x/data", "has 3 values, but shape [1,1,2,2] holds 4");
}

TEST(GoldenMalformed, ShapeDisagreesWithProblem) {
    // Bias of two values for one filter.
    expect_error(file_of(R"({"name": "c", "op": "conv2d", "pass": "forward",
        "inputs": {"x": [[[[1, 2], [3, 4]]]], "w": [[[[1]]]], "b": [1, 2]},
        "expected": {"y": {"shape": [1, 1, 2, 2]}}})"),
                 "/cases/0/inputs/b", "shape [2] disagrees with the problem");
    // Weights of two input channels for a one-channel x.
    expect_error(file_of(R"({"name": "c", "op": "conv2d", "pass": "forward",
        "inputs": {"x": [[[[1, 2], [3, 4]]]], "w": {"shape": [1, 2, 1, 1], "fill": 1}},
        "expected": {"y": {"shape": [1, 1, 2, 2]}}})"),
                 "/cases/0/inputs/w", "shape [1,2,1,1] disagrees with the problem");
    // x_shape that is not x's.
    expect_error(file_of(pool_case(R"(, "x_shape": [1, 1, 2, 3])")), "/cases/0/x_shape",
                 "x_shape [1,1,2,3] disagrees with the problem");
    // A 4-D tensor written with another rank.
    expect_error(file_of(pool_case("", "[[1, 2], [3, 4]]")), "/cases/0/inputs/x", "x must have rank 4");
}

// Each geometry array's size error lists every size it could have.
TEST(GoldenMalformed, AnArrayOfTheWrongSizeSaysWhichSizesItCanHave) {
    expect_error(file_of(pool_case(R"(, "pad": [1, 1, 1])")), "/cases/0/pad", "must have 2 or 4 elements, has 3");
    expect_error(file_of(pool_case(R"(, "pad": [])")), "/cases/0/pad", "must have 2 or 4 elements, has 0");
    expect_error(file_of(pool_case(R"(, "stride": [1])")), "/cases/0/stride", "must have 2 elements, has 1");
    expect_error(file_of(pool_case(R"(, "dilation": [1, 1, 1, 1])")), "/cases/0/dilation", "must have 2 elements, has 4");
}

// A valid grouped convolution, x [1, 4, 2, 2] and w [oc, ic/groups, 1, 1], with `extra`
// fields added.
std::string grouped_case(const std::string& extra, const std::string& w_shape = "[2, 2, 1, 1]",
                         const std::string& op = "conv2d") {
    return R"({"name": "grouped", "op": ")" + op + R"(", "pass": "forward",
               "inputs": {"x": {"shape": [1, 4, 2, 2], "fill": 1}, "w": {"shape": )" + w_shape + R"(, "fill": 1}},
               "expected": {"y": {"shape": [1, 2, 2, 2]}})" + extra + "}";
}

// Contract 1.1's groups: read, w's input-channel extent is ic/groups (blamed on w), and
// every value the contract refuses is refused at /groups.
TEST(GoldenMalformed, GroupsAreReadAndRefusedWhereTheContractRefusesThem) {
    const golden::Case c = load_case(grouped_case(R"(, "groups": 2)"));
    EXPECT_EQ(c.problem.g, 2);
    EXPECT_EQ(c.problem.ic, 4);
    EXPECT_EQ(c.problem.oc, 2);
    EXPECT_EQ(load_case(grouped_case("", "[2, 4, 1, 1]")).problem.g, 1);  // absent: 1
    // w [2, 4, 1, 1] is an ungrouped w: with groups 2 its input-channel extent must be 2.
    expect_error(file_of(grouped_case(R"(, "groups": 2)", "[2, 4, 1, 1]")), "/cases/0/inputs/w",
                 "which needs [2,2,1,1]");
    expect_error(file_of(grouped_case(R"(, "groups": 0)", "[2, 4, 1, 1]")), "/cases/0/groups", "groups must be >= 1");
    expect_error(file_of(grouped_case(R"(, "groups": -2)", "[2, 4, 1, 1]")), "/cases/0/groups", "groups must be >= 1");
    expect_error(file_of(grouped_case(R"(, "groups": 3)", "[2, 1, 1, 1]")), "/cases/0/groups", "does not divide ic 4");
    expect_error(file_of(grouped_case(R"(, "groups": 4)", "[2, 1, 1, 1]")), "/cases/0/groups", "does not divide oc 2");
    expect_error(file_of(grouped_case(R"(, "groups": 2.0)")), "/cases/0/groups", "must be an integer");
    expect_error(file_of(grouped_case(R"(, "groups": true)")), "/cases/0/groups", "");
    // Off conv2d, whatever its value.
    expect_error(file_of(pool_case(R"(, "groups": 1)")), "/cases/0/groups", "groups belongs to conv2d, not maxpool2d");
    expect_error(file_of(pool_case(R"(, "groups": 2)")), "/cases/0/groups", "groups belongs to conv2d");
}

TEST(GoldenMalformed, ExpectedShapeDisagreesWithProblem) {
    // A shape-only expectation too: a wrong shape is the file's error, found before any run.
    expect_error(file_of(replaced(pool_case(), R"("shape": [1, 1, 1, 1])", R"("shape": [1, 1, 2, 2])")),
                 "/cases/0/expected/y",
                 "shape [1,1,2,2] disagrees with the problem (mb1ic1ih2kh2sh2, NCHW), which gives [1,1,1,1] here");
    expect_error(file_of(pool_case(R"(, "layout": "NHWC")", R"([[[[1, 10], [2, 20]], [[3, 30], [4, 40]]]])")),
                 "/cases/0/expected/y", "which gives [1,1,1,2] here");
    expect_error(file_of(R"({"name": "c", "op": "im2col", "pass": "forward", "kernel": [2, 2],
        "inputs": {"x": {"shape": [1, 1, 3, 3], "fill": 1}}, "expected": {"col": {"shape": [4, 3]}}})"),
                 "/cases/0/expected/col", "shape [4,3] holds 12 elements, but the problem");
    expect_error(file_of(R"({"name": "c", "op": "conv2d", "pass": "backward_weights", "kernel": [1, 1],
        "inputs": {"x": [[[[1, 2]]]], "dy": [[[[1, 2]]]]}, "expected": {"dw": [[[[3]]]], "db": [3, 3]}})"),
                 "/cases/0/expected/db", "shape [2] disagrees with the problem");
}

TEST(GoldenMalformed, InvalidProblemIsReportedAtTheFieldBehindIt) {
    expect_error(file_of(pool_case(R"(, "stride": [1, 0])")), "/cases/0/stride",
                 "sw: stride width must be >= 1, got 0");
    expect_error(file_of(pool_case(R"(, "pad": [-1, 0])")), "/cases/0/pad", "pt: pad top must be >= 0");
    expect_error(file_of(replaced(pool_case(), "[2, 2]", "[3, 2]")), "/cases/0/kernel", "kh: window extent 3");
}

TEST(GoldenMalformed, DuplicateCaseName) {
    expect_error(file_of(pool_case() + ", " + pool_case()), "/cases/1/name",
                 "duplicate case name \"pool\" (first at /cases/0)");
}

TEST(GoldenMalformed, MissingRequiredField) {
    expect_error(file_of(R"({"op": "im2col", "pass": "forward", "inputs": {}, "expected": {}})"), "/cases/0",
                 "missing required field \"name\"");
    expect_error(file_of(R"({"name": "c", "op": "maxpool2d", "pass": "forward",
        "inputs": {"x": [[[[1]]]]}, "expected": {"y": [[[[1]]]]}})"),
                 "/cases/0", "missing required field \"kernel\"");
    expect_error(file_of(R"({"name": "c", "op": "conv2d", "pass": "forward",
        "inputs": {"x": [[[[1]]]]}, "expected": {"y": [[[[1]]]]}})"),
                 "/cases/0/inputs", "missing required field \"w\"");
    expect_error(file_of(R"({"name": "c", "op": "maxpool2d", "pass": "forward", "kernel": [1, 1],
        "inputs": {"x": [[[[1]]]]}})"),
                 "/cases/0", "missing required field \"expected\"");
}

TEST(GoldenMalformed, WrongFormatVersion) {
    expect_error(R"({"format": "convconf-golden/2", "cases": []})", "/format",
                 "unsupported format \"convconf-golden/2\"");
}

TEST(GoldenMalformed, WrongType) {
    // nlohmann's own type error, its JSON pointer from JSON_DIAGNOSTICS.
    expect_error(file_of(replaced(pool_case(), R"("name": "pool")", R"("name": 5)")), "/cases/0/name",
                 "type must be string, but is number");
    expect_error(file_of(pool_case(R"(, "stride": ["2", 2])")), "/cases/0/stride/0",
                 "type must be number, but is string");
    expect_error(file_of(pool_case(R"(, "stride": [1.5, 2])")), "/cases/0/stride/0",
                 "type must be an integer");
    expect_error(file_of(pool_case("", R"([[[["one", 2], [3, 4]]]])")), "/cases/0/inputs/x/0/0/0/0",
                 "the string \"one\" is not a number");
    expect_error(file_of(replaced(pool_case(), R"("op": "maxpool2d")", R"("op": "maxpool")")), "/cases/0/op",
                 "unknown value \"maxpool\"");
}

TEST(GoldenMalformed, ParseErrorNamesTheFile) {
    const std::string message = load_error(R"({"format": "convconf-golden/1", "cases": [})");
    EXPECT_EQ(message.rfind(std::string(kFile) + ": parse error at line 1", 0), 0u) << message;
}

TEST(GoldenMalformed, UnreadableFileNamesIt) {
    try {
        golden::load_file("/nonexistent/golden/x.json", "", "--file");
        FAIL() << "loaded a file that does not exist";
    } catch (const InputError& e) {
        EXPECT_STREQ(e.what(), "--file /nonexistent/golden/x.json: no such file");
    }
}

TEST(GoldenMalformed, ExpectedAndExpectErrorTogether) {
    expect_error(file_of(pool_case(R"(, "expect_error": "x")")), "/cases/0", "not both");
}

TEST(GoldenMalformed, ConvInputsMustBeFinite) {
    expect_error(file_of(R"({"name": "c", "op": "conv2d", "pass": "forward",
        "inputs": {"x": [[[["nan"]]]], "w": [[[[1]]]]}, "expected": {"y": [[[[1]]]]}})"),
                 "/cases/0/inputs/x", "conv2d golden cases use finite values");
}

}  // namespace
}  // namespace convconf
