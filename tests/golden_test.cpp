// Every golden case (golden/*.json: what the notebooks printed) on every registered variant
// at every dtype the case runs at: one test each, named file_case_variant_dtype, so a
// failure says which. The cases are discovered at test-registration time; a file that does
// not load becomes one failing test that shows the loader's error.
#include <gtest/gtest.h>

#include <memory>
#include <ostream>

#include "reference/registry.hpp"
#include "reference/golden/golden.hpp"

namespace convconf {
namespace {

struct GoldenParam {
    std::shared_ptr<const golden::File> file;  // null when the file did not load
    std::string stem;                          // the file's name without .json
    std::string load_error;
    size_t case_index = 0;
    const Variant* variant = nullptr;
    DType dtype = DType::f32;
};

std::vector<GoldenParam> golden_params() {
    std::vector<GoldenParam> params;
    const auto dir = golden::default_directory();
    for (const auto& path : golden::list_files(dir)) {
        const std::string stem = path.stem().string();
        try {
            auto file = std::make_shared<const golden::File>(
                golden::load_file(path, golden::display_name(dir, path)));
            for (size_t i = 0; i < file->cases.size(); ++i)
                for (const Variant* v : variants())
                    for (DType dt : file->cases[i].dtypes) params.push_back({file, stem, {}, i, v, dt});
        } catch (const std::exception& e) {
            params.push_back({nullptr, stem, e.what()});
        }
    }
    return params;
}

// gtest allows letters, digits and '_' in a parameter's name.
std::string test_name(const GoldenParam& p) {
    std::string name = p.stem + "_";
    if (!p.file) name += "loads";
    else
        name += p.file->cases[p.case_index].name + "_" + p.variant->name() + "_" +
                std::string(to_string(p.dtype));
    for (char& ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return name;
}

// What ctest shows next to the test's name: the case, not the parameter's bytes.
void PrintTo(const GoldenParam& p, std::ostream* os) {
    if (!p.file) *os << p.stem << " (does not load)";
    else
        *os << p.file->name << " case " << p.file->cases[p.case_index].name << ", variant "
            << p.variant->name() << ", " << to_string(p.dtype);
}

class Golden : public ::testing::TestWithParam<GoldenParam> {};

TEST_P(Golden, Passes) {
    const GoldenParam& p = GetParam();
    ASSERT_TRUE(p.file) << p.load_error;
    const CheckResult r = golden::run_case(p.file->cases[p.case_index], *p.variant, p.dtype);
    if (r.status == Status::skipped) GTEST_SKIP() << r.detail;
    EXPECT_EQ(r.status, Status::passed) << r.detail;
}

INSTANTIATE_TEST_SUITE_P(Notebooks, Golden, ::testing::ValuesIn(golden_params()),
                         [](const auto& info) { return test_name(info.param); });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Golden);

// The "done when": every notebook in ../shared/seeds/ has its golden file.
TEST(GoldenSuite, EveryNotebookHasAFile) {
    for (const char* stem : {"000_1331a5632acb5755", "001_b9ad586398eff267", "002_aefe932dc216e7ad",
                             "003_ee95f665f38c7247", "004_2a7f4eaf1e80d19d"}) {
        const auto path = golden::default_directory() / (std::string(stem) + ".json");
        ASSERT_TRUE(std::filesystem::exists(path)) << path;
        EXPECT_FALSE(golden::load_file(path).cases.empty()) << path;
    }
}

}  // namespace
}  // namespace convconf
