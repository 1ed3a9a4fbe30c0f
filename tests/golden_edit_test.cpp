// Adding a case to a golden file (reference/golden/edit.hpp, writer.hpp's format_case):
// nothing a person wrote is lost (issue 8). The file keeps every byte outside the inserted
// case, and the case reads like the hand-written ones (the file's replacing is
// output_file_test.cpp's).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "reference/registry.hpp"
#include "reference/golden/edit.hpp"
#include "reference/golden/golden.hpp"
#include "reference/golden/writer.hpp"

namespace convconf {
namespace {

using ordered_json = nlohmann::ordered_json;

ordered_json pool_case(const std::string& name) {
    return ordered_json::parse(R"({"name": ")" + name + R"(", "op": "maxpool2d", "pass": "forward",
        "kernel": [2, 2], "inputs": {"x": [[[[1, 2], [3, 4]]]]}, "expected": {"y": [[[[4]]]]}})");
}

// A hand-written file with idiosyncrasies that must survive: odd spacing, a note holding
// brackets, braces, quotes and a backslash, "cases" before "source", no final newline.
const std::string kHandWritten =
    "{ \"format\" : \"convconf-golden/1\",\n"
    "  \"cases\":[\n"
    "      {\"name\": \"first\",   \"note\": \"tricky ]} \\\" \\\\ [{\",\n"
    "       \"op\": \"maxpool2d\", \"pass\": \"forward\", \"kernel\": [2,2],\n"
    "       \"inputs\": {\"x\": [[[[1,2],[3,4]]]]}, \"expected\": {\"y\": [[[[4]]]]}}\n"
    "  ] ,\n"
    "  \"source\": \"by hand\"}";

TEST(GoldenFormatCase, ReadsLikeTheHandWrittenFiles) {
    ordered_json c = {{"name", "conv_pad1"}, {"note", "In [13]"}, {"op", "conv2d"},
                      {"pass", "forward"},   {"pad", {1, 1}},     {"tolerance", {{"abs", 0.5}, {"rel", 0}}}};
    c["inputs"]["x"] = ordered_json::parse("[[[[0, 1, 2], [3, 4, 5], [6, 7, 8]]]]");
    c["inputs"]["w"] = ordered_json::parse("[[[[1, 1], [1, 1]]]]");
    c["inputs"]["b"] = {3};
    c["expected"]["y"] =
        ordered_json::parse("[[[[3, -4.5, \"nan\"], [12, 23, -0.0]], [[1, 1, 1], [2, 2, 2]]]]");
    EXPECT_EQ(golden::format_case(c, "  "),
              "  {\n"
              "    \"name\": \"conv_pad1\",\n"
              "    \"note\": \"In [13]\",\n"
              "    \"op\": \"conv2d\", \"pass\": \"forward\",\n"
              "    \"pad\": [1, 1],\n"
              "    \"tolerance\": {\"abs\": 0.5, \"rel\": 0},\n"
              "    \"inputs\": {\n"
              "      \"x\": [[[[0, 1, 2],\n"
              "              [3, 4, 5],\n"
              "              [6, 7, 8]]]],\n"
              "      \"w\": [[[[1, 1],\n"
              "              [1, 1]]]],\n"
              "      \"b\": [3]\n"
              "    },\n"
              "    \"expected\": {\n"
              "      \"y\": [[[[    3,  -4.5, \"nan\"],\n"
              "              [   12,    23,  -0.0]],\n"
              "             [[    1,     1,     1],\n"
              "              [    2,     2,     2]]]]\n"
              "    }\n"
              "  }");
}

// case_json, how the property tests save a shrunk case: what it writes loads back as the
// same problem, for every pooling direction, algorithm and ceil mode (a field left out
// loads as another problem, or does not load: count_include_pad is required).
TEST(GoldenCaseJson, LoadsBackAsTheProblemItWasGiven) {
    int cases = 0;
    for (const Op op : {Op::maxpool2d, Op::avgpool2d})
        for (const Pass pass : {Pass::forward, Pass::backward})
            for (const PoolAlg alg : {PoolAlg::max, PoolAlg::avg_p, PoolAlg::avg_np})
                for (const bool ceil : {false, true})
                    for (const Layout layout : {Layout::nchw, Layout::nhwc}) {
                        if ((op == Op::avgpool2d) != is_average(alg)) continue;
                        CheckSpec spec;
                        spec.op = op, spec.pass = pass, spec.dtype = DType::f64;
                        ConvProblem& p = spec.problem;
                        // 5 rows, 2x2 windows, stride 2, pad 1 on top only: ceil mode's
                        // ceil((5+1-2)/2)+1 = 3 outputs, floor's too; on w (5, no pad) 3 and 2.
                        p.mb = 1, p.ic = 2, p.ih = 5, p.iw = 5, p.kh = 2, p.kw = 2, p.sh = 2, p.sw = 2;
                        p.pt = 1;
                        p.alg = alg, p.ceil_mode = ceil, p.layout = layout;
                        p.validate();
                        const Inputs<double> in = generated_inputs<double>(spec);
                        const ordered_json c =
                            golden::case_json("c", spec, in, reference_outputs(spec, in), "note");
                        const std::string text = golden::format_json(golden::file_json("test", {c}));
                        const golden::File f = golden::load_string(text, "saved.json");
                        ASSERT_EQ(f.cases.size(), 1u) << text;
                        const golden::Case& back = f.cases[0];
                        EXPECT_EQ(back.op, op) << text;
                        EXPECT_EQ(back.pass, pass) << text;
                        EXPECT_EQ(back.problem, p) << text;
                        EXPECT_EQ(back.problem.ow(), ceil ? 3 : 2) << text;
                        ++cases;
                    }
    EXPECT_EQ(cases, 24);  // max: 2 passes x 2 ceil x 2 layouts; avg: twice that
}

// format_json, the layout of the files the property tests save: two spaces per level,
// arrays of scalars on one line, nested arrays and objects one element a line. Written
// out by hand.
TEST(GoldenFormatJson, IndentsTwoSpacesPerLevelAndKeepsScalarArraysOnOneLine) {
    const nlohmann::ordered_json v = {
        {"a", nlohmann::ordered_json::array({nlohmann::ordered_json{{"b", 1}, {"c", {2, 3}}},
                                             nlohmann::ordered_json::array({4, 5}),
                                             nlohmann::ordered_json::array({nlohmann::ordered_json::array({6})})})},
        {"d", nlohmann::ordered_json::array()},
        {"e", nlohmann::ordered_json::object()},
        {"f", "nan"}};
    EXPECT_EQ(golden::format_json(v), "{\n"
                              "  \"a\": [\n"
                              "    {\n"
                              "      \"b\": 1,\n"
                              "      \"c\": [2,3]\n"
                              "    },\n"
                              "    [4,5],\n"
                              "    [\n"
                              "      [6]\n"
                              "    ]\n"
                              "  ],\n"
                              "  \"d\": [],\n"
                              "  \"e\": {},\n"
                              "  \"f\": \"nan\"\n"
                              "}\n");
}

// Only a rectangular nest of numbers is laid out as numpy prints it; a ragged one, or one
// holding an object, stays on one line as written.
TEST(GoldenFormatCase, OnlyRectangularArraysAreLaidOutAsTensors) {
    ordered_json c = {{"name", "n"}};
    c["a"] = ordered_json::parse("[[1, 2], [3, [4]]]");
    c["b"] = ordered_json::parse("[[1, 2], 3]");
    c["c"] = ordered_json::parse("[[1, {\"k\": 2}]]");
    c["d"] = ordered_json::parse("[[1, 2], [3, 4]]");
    EXPECT_EQ(golden::format_case(c, ""),
              "{\n"
              "  \"name\": \"n\",\n"
              "  \"a\": [[1, 2], [3, [4]]],\n"
              "  \"b\": [[1, 2], 3],\n"
              "  \"c\": [[1, {\"k\": 2}]],\n"
              "  \"d\": [[1, 2],\n"
              "        [3, 4]]\n"
              "}");
}

TEST(GoldenFormatCase, JsonNumberKeepsWhatNumpyPrinted) {
    EXPECT_EQ(golden::json_number(13).dump(), "13");
    EXPECT_EQ(golden::json_number(-0.0).dump(), "-0.0");
    EXPECT_EQ(golden::json_number(0.1).dump(), "0.1");
    EXPECT_EQ(golden::json_number(NAN).dump(), "\"nan\"");
    EXPECT_EQ(golden::json_number(-INFINITY).dump(), "\"-inf\"");
    EXPECT_EQ(golden::json_number(1e300).get<double>(), 1e300);
}

TEST(GoldenAppendCase, KeepsEveryByteOutsideTheNewCase) {
    const std::string after = golden::append_case(kHandWritten, pool_case("second"));
    // Everything up to the end of the first case, and everything after it, is the file's own.
    const size_t end_of_first = kHandWritten.find("}}\n  ]") + 2;
    EXPECT_EQ(after.substr(0, end_of_first), kHandWritten.substr(0, end_of_first));
    const std::string tail = kHandWritten.substr(end_of_first);
    EXPECT_EQ(after.substr(after.size() - tail.size()), tail);
    // The new case at the first case's indentation, in the hand-written style.
    EXPECT_NE(after.find(",\n      {\n        \"name\": \"second\",\n"), std::string::npos) << after;
    const golden::File f = golden::load_string(after, "x.json");
    ASSERT_EQ(f.cases.size(), 2u);
    EXPECT_EQ(f.cases[0].note, "tricky ]} \" \\ [{");
    EXPECT_EQ(f.cases[1].name, "second");
    EXPECT_EQ(f.source, "by hand");
}

TEST(GoldenAppendCase, OpensAnEmptyCasesArray) {
    for (const std::string empty : {"[]", "[ ]", "[\n  ]"}) {
        const std::string before = "{\n  \"format\": \"convconf-golden/1\",\n  \"cases\": " + empty + "\n}\n";
        const std::string after = golden::append_case(before, pool_case("only"));
        EXPECT_EQ(after.rfind("{\n  \"format\": \"convconf-golden/1\",\n  \"cases\": [\n    {\n", 0), 0u)
            << after;
        EXPECT_EQ(after.substr(after.size() - 12), "    }\n  ]\n}\n") << after;
        EXPECT_EQ(golden::load_string(after, "x.json").cases.size(), 1u);
    }
    EXPECT_EQ(golden::load_string(golden::append_case(golden::empty_file_text("s"), pool_case("a")), "x.json")
                  .cases.at(0)
                  .name,
              "a");
}

TEST(GoldenAppendCase, MinifiedFile) {
    const std::string before = R"({"format":"convconf-golden/1","cases":[)" + pool_case("a").dump() + "]}";
    const std::string after = golden::append_case(before, pool_case("b"));
    EXPECT_EQ(after.rfind(before.substr(0, before.size() - 2), 0), 0u);
    EXPECT_EQ(after.substr(after.size() - 2), "]}");
    EXPECT_EQ(golden::load_string(after, "x.json").cases.size(), 2u);
}

TEST(GoldenAppendCase, KeepsWindowsLineEndings) {
    const std::string before = "{\r\n  \"format\": \"convconf-golden/1\",\r\n  \"cases\": [\r\n    " +
                               pool_case("a").dump() + "\r\n  ]\r\n}\r\n";
    const std::string after = golden::append_case(before, pool_case("b"));
    EXPECT_EQ(after.rfind(before.substr(0, before.find("\r\n  ]")), 0), 0u);
    for (size_t i = after.find('\n'); i != std::string::npos; i = after.find('\n', i + 1))
        EXPECT_EQ(after[i - 1], '\r') << "a bare LF at " << i;
    EXPECT_EQ(golden::load_string(after, "x.json").cases.size(), 2u);
}

TEST(GoldenAppendCase, KeepsTabIndentation) {
    const std::string before = "{\n\t\"format\": \"convconf-golden/1\",\n\t\"cases\": [\n\t\t" +
                               pool_case("a").dump() + "\n\t]\n}\n";
    const std::string after = golden::append_case(before, pool_case("b"));
    EXPECT_NE(after.find(",\n\t\t{\n\t\t  \"name\": \"b\""), std::string::npos) << after;
}

TEST(GoldenAppendCase, RefusesTextWithoutOneCasesArray) {
    EXPECT_THROW(golden::append_case(R"({"format": "convconf-golden/1"})", pool_case("a")),
                 std::runtime_error);
    EXPECT_THROW(golden::append_case(R"({"cases": [], "cases": []})", pool_case("a")), std::runtime_error);
    EXPECT_THROW(golden::append_case(R"({"cases": {}})", pool_case("a")), std::runtime_error);
    EXPECT_THROW(golden::append_case("[1, 2]", pool_case("a")), std::runtime_error);
}

}  // namespace
}  // namespace convconf
