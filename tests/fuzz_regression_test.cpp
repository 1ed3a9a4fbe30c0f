// Every input the fuzzers ever found (tests/fuzz/regressions/<target>/) and every seed they
// start from (tests/fuzz/corpus/<target>/), replayed through the fuzzers' own checks
// (tests/fuzz/targets.hpp): a crash, a sanitizer report or a broken promise found once is
// caught by the ordinary test suite from then on. The directories are read when the test
// runs, so a file added there needs no rebuild.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fuzz/targets.hpp"

namespace convconf {
namespace {

namespace fs = std::filesystem;

struct Target {
    const char* name;  // the fuzz target's
    const char* dir;   // the subdirectory of corpus/ and regressions/ it reads
    void (*check)(std::string_view);
};

// What ctest shows next to the test's name.
void PrintTo(const Target& target, std::ostream* os) { *os << target.name; }

std::vector<fs::path> files_under(const fs::path& dir) {
    std::vector<fs::path> files;
    if (fs::is_directory(dir))
        for (const auto& entry : fs::directory_iterator(dir))
            if (entry.is_regular_file()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

std::string content(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Runs every file of `kind`/<target> through the target's check; returns how many there were.
size_t replay(const Target& target, const char* kind) {
    const auto files = files_under(fs::path(CONVCONF_FUZZ_DIR) / kind / target.dir);
    for (const fs::path& file : files) {
        try {
            target.check(content(file));
        } catch (const std::exception& e) {
            ADD_FAILURE() << file.string() << ": " << e.what();
        }
    }
    return files.size();
}

class FuzzInputs : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzInputs, RegressionsPassTheFuzzersCheck) {
    EXPECT_GT(replay(GetParam(), "regressions"), 0u) << "no regression inputs";
}

TEST_P(FuzzInputs, SeedCorpusPassesTheFuzzersCheck) {
    EXPECT_GT(replay(GetParam(), "corpus"), 0u) << "no seed inputs";
}

INSTANTIATE_TEST_SUITE_P(Fuzz, FuzzInputs,
                         ::testing::Values(Target{"golden_loader", "golden", fuzz::check_golden_loader},
                                           Target{"golden_check", "golden", fuzz::check_golden_check},
                                           Target{"golden_add", "golden", fuzz::check_golden_add},
                                           Target{"numpy_text", "numpy", fuzz::check_numpy_text},
                                           Target{"descriptor", "descriptor", fuzz::check_descriptor}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace convconf
