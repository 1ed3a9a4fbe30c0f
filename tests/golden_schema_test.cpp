// golden/schema.json applied by convconf's own validator (reference/golden/schema.hpp), the
// one `convconf golden check` and `golden add` use: the golden files pass, each kind of
// violation is reported at its JSON pointer, and a keyword it does not implement is refused.
#include <gtest/gtest.h>

#include <fstream>

#include "reference/golden/golden.hpp"
#include "reference/golden/schema.hpp"

namespace convconf {
namespace {

using json = nlohmann::json;

const golden::Schema& schema() {
    static const golden::Schema s = golden::Schema::load(golden::default_schema_path());
    return s;
}

json file_of(const std::string& cases) {
    return json::parse(R"({"format": "convconf-golden/1", "source": "tests", "cases": [)" + cases + "]}");
}

const std::string kPool = R"({"name": "pool", "op": "maxpool2d", "pass": "forward", "kernel": [2, 2],
    "inputs": {"x": [[[[1, 2], [3, 4]]]]}, "expected": {"y": [[[[4]]]]}})";

// `text` with its one occurrence of `from` replaced by `to`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

// Some violation is at `pointer` and says `what`.
void expect_violation(const json& doc, const std::string& pointer, const std::string& what) {
    const auto v = schema().violations(doc);
    std::string all;
    for (const auto& e : v) {
        if (e.pointer == pointer && e.message.find(what) != std::string::npos) return;
        all += "\n  (" + e.pointer + ") " + e.message;
    }
    ADD_FAILURE() << "no violation at " << pointer << " saying \"" << what << "\"; got:" << all;
}

TEST(GoldenSchema, EveryGoldenFileIsValid) {
    for (const auto& path : golden::list_files(golden::default_directory())) {
        std::ifstream in(path);
        const auto v = schema().violations(json::parse(in));
        EXPECT_TRUE(v.empty()) << path << ": (" << v.front().pointer << ") " << v.front().message;
    }
    EXPECT_TRUE(schema().violations(file_of(kPool)).empty());
}

TEST(GoldenSchema, ViolationsAreReportedAtTheirPointer) {
    expect_violation(file_of(replaced(kPool, R"("kernel": [2, 2])", R"("kernel": ["2", 2])")),
                     "/cases/0/kernel/0", "type must be integer, but is string");
    expect_violation(file_of(replaced(kPool, R"("kernel": [2, 2])", R"("kernel": [2, 2, 2])")),
                     "/cases/0/kernel", "at most 2 elements");
    expect_violation(file_of(replaced(kPool, R"("kernel": [2, 2])", R"("kernel": [2, 2], "strid": [1, 1])")),
                     "/cases/0/strid", "field \"strid\" is not allowed");
    expect_violation(file_of(replaced(kPool, R"("name": "pool")", R"("name": "Pool")")), "/cases/0/name",
                     "does not match the pattern");
    expect_violation(file_of(replaced(kPool, R"("op": "maxpool2d")", R"("op": "maxpool")")), "/cases/0/op",
                     "must be one of");
    expect_violation(file_of(replaced(kPool, R"(, "kernel": [2, 2])", "")), "/cases/0",
                     "missing required field \"kernel\"");
    expect_violation(file_of(replaced(kPool, R"("expected": {"y": [[[[4]]]]})",
                                      R"("expected": {"y": [[[[4]]]]}, "expect_error": "x")")),
                     "/cases/0", "matches 2 of the alternatives");
    expect_violation(
        file_of(replaced(kPool, R"([[[[1, 2], [3, 4]]]])", R"({"shape": [1, 1, 2, 2], "fil": 1})")),
        "/cases/0/inputs/x", "matches none of the 4 alternatives");
    expect_violation(json::parse(R"({"format": "convconf-golden/2", "cases": []})"), "/format",
                     "must be \"convconf-golden/1\"");
    expect_violation(json::parse(R"({"format": "convconf-golden/1"})"), "",
                     "missing required field \"cases\"");
}

// A long offending value is shown as its first 57 characters and "...", so the message
// stays one line: 60 characters in all. A value of 60 characters is shown whole.
TEST(GoldenSchema, ALongValueIsShownAsItsFirst57CharactersAndDots) {
    const std::string op(70, 'x');  // dumped with its quotes: 72 characters
    const auto v = schema().violations(file_of(replaced(kPool, R"("op": "maxpool2d")", "\"op\": \"" + op + "\"")));
    ASSERT_FALSE(v.empty());
    const std::string shown = "\"" + std::string(56, 'x') + "...";
    bool found = false;
    for (const auto& e : v)
        if (e.pointer == "/cases/0/op") {
            found = true;
            ASSERT_GE(e.message.size(), shown.size()) << e.message;
            EXPECT_EQ(e.message.substr(e.message.size() - shown.size()), shown) << e.message;
            EXPECT_EQ(e.message.find(std::string(57, 'x')), std::string::npos) << e.message;
        }
    EXPECT_TRUE(found);
    const std::string whole(58, 'y');  // 60 with its quotes
    expect_violation(file_of(replaced(kPool, R"("op": "maxpool2d")", "\"op\": \"" + whole + "\"")), "/cases/0/op",
                     "but is \"" + whole + "\"");
}

TEST(GoldenSchema, UnsupportedKeywordIsRefused) {
    EXPECT_THROW(golden::Schema(json::parse(R"({"type": "object", "maxProperties": 3})")),
                 std::invalid_argument);
    EXPECT_THROW(golden::Schema(json::parse(R"({"$ref": "#/$defs/missing"})")), std::invalid_argument);
    EXPECT_THROW(golden::Schema(json::parse(R"({"$ref": "other.json#/x"})")), std::invalid_argument);
}

TEST(GoldenSchema, IntegerMeansAnIntegralNumber) {
    // JSON Schema: 2.0 is an integer; the loader is stricter and refuses it (golden_loader_test).
    EXPECT_TRUE(schema()
                    .violations(file_of(replaced(kPool, R"("kernel": [2, 2])", R"("kernel": [2.0, 2])")))
                    .empty());
    expect_violation(file_of(replaced(kPool, R"("kernel": [2, 2])", R"("kernel": [2.5, 2])")),
                     "/cases/0/kernel/0", "type must be integer, but is number");
}

}  // namespace
}  // namespace convconf
