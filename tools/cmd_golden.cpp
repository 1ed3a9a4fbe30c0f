// convconf golden: golden cases through every variant
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "impl/core/descriptor.hpp"
#include "impl/core/registry.hpp"
#include "reference/conformance.hpp"
#include "reference/golden/golden.hpp"
#include "tools/cli.hpp"

namespace convconf::cli {
namespace {

// --file as given, or else the file of that name in the golden directory, so a repro line
// (--file golden/X.json) works from any working directory.
std::filesystem::path golden_file(const std::filesystem::path& given, const std::filesystem::path& dir) {
    if (std::filesystem::exists(given)) return given;
    const std::filesystem::path in_dir = dir / given.filename();
    if (std::filesystem::exists(in_dir)) return in_dir;
    throw UsageError("--file: no file " + given.string() + " (nor " + in_dir.string() + ")");
}

int cmd_golden(Args& args) {
    const auto chosen = selected_variants(args);
    const std::filesystem::path dir = args.value("--golden", golden::default_directory().string());
    const std::string file = args.value("--file", "");
    const std::string case_name = args.value("--case", "");
    const std::string dtype_text = args.value("--dtype", "");
    if (!args.positional().empty()) throw UsageError("golden takes no positional arguments");
    // Canonical spelling of the one dtype to run, empty for every dtype of each case.
    const std::string only_dtype =
        dtype_text.empty() ? "" : std::string(to_string(parse_dtype(dtype_text, "--dtype")));

    std::vector<golden::File> files;
    if (!file.empty()) {
        const std::filesystem::path path = golden_file(file, dir);
        files.push_back(golden::load_file(path, golden::display_name(path.parent_path(), path)));
    } else {
        for (const auto& path : golden::list_files(dir))
            files.push_back(golden::load_file(path, golden::display_name(dir, path)));
    }
    Tally total;
    bool case_found = case_name.empty();
    for (const golden::File& f : files)
        for (const golden::Case& c : f.cases) {
            if (!case_name.empty() && c.name != case_name) continue;
            case_found = true;
            for (const Variant* v : chosen)
                for (DType dt : c.dtypes) {
                    if (!only_dtype.empty() && to_string(dt) != only_dtype) continue;
                    const CheckResult r = golden::run_case(c, *v, dt);
                    total.add(r.status);
                    std::printf("%-8s %s %s %s %s\n", std::string(to_string(r.status)).c_str(),
                                f.name.c_str(), c.name.c_str(), v->name().c_str(),
                                std::string(to_string(dt)).c_str());
                    if (r.status == Status::skipped) std::printf("  reason: %s\n", r.detail.c_str());
                    if (r.status == Status::failed) std::cout << r.detail;
                }
        }
    if (!case_found) throw UsageError("--case: no case \"" + case_name + "\" in the files read");
    print_closing(total);
    return total.failed ? 1 : 0;
}

}  // namespace

const Command kGolden{"golden", "golden cases through every variant",
    "usage: convconf golden [--golden DIR] [--file FILE] [--case NAME] [--variant NAME]...\n"
    "                       [--dtype f32|f64]\n"
    "  The golden cases (expected values the notebooks printed) of every file in DIR\n"
    "  (default: the source tree's golden/), or of FILE alone, through every variant. A FILE\n"
    "  that does not exist as given is looked up in DIR by its name.\n"
    "examples:\n"
    "  convconf golden\n"
    "  convconf golden --file golden/000_1331a5632acb5755.json --case conv_arange16_ones2x2_bias3\n",
    cmd_golden};

}  // namespace convconf::cli
