// convconf golden: golden cases. `golden` (or `golden run`) runs them through every variant,
// `golden check FILE...` validates files and runs them, `golden list` shows what there is,
// `golden add` turns numpy's printed output into a case (tools/cmd_golden_add.cpp).
#include "tools/cmd_golden.hpp"

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "impl/core/descriptor.hpp"
#include "reference/registry.hpp"
#include "reference/conformance.hpp"
#include "reference/golden/golden.hpp"
#include "reference/golden/schema.hpp"
#include "reference/input.hpp"
#include "tools/progress.hpp"
#include "tools/run_report.hpp"

namespace convconf::cli {
namespace {

// --file as given, or else the file of that name in the golden directory, so a repro line
// (--file golden/X.json) works from any working directory.
// A path that cannot even be looked at (a symlink loop, a name too long) is given as is,
// for the reader to name what is wrong with it.
std::filesystem::path golden_file(const std::filesystem::path& given, const std::filesystem::path& dir) {
    std::error_code error;
    if (std::filesystem::symlink_status(given, error).type() != std::filesystem::file_type::not_found &&
        !error)
        return given;
    if (error && error != std::errc::no_such_file_or_directory) return given;
    const std::filesystem::path in_dir = dir / given.filename();
    if (std::filesystem::exists(in_dir, error)) return in_dir;
    throw UsageError("--file: no file " + given.string() + " (nor " + in_dir.string() + ")");
}

// --dtype's canonical spelling, or empty for every dtype of each case.
std::string only_dtype(Args& args) {
    const std::string text = args.value("--dtype", "");
    return text.empty() ? "" : std::string(to_string(parse_dtype(text, "--dtype")));
}

// Runs every case of `files` (or the one called `case_name`) on `chosen` at each of its
// dtypes (or `dtype` alone), one line per check and the report of each failure, and a
// record of each in `records` when given (the same group and name convconf run gives a
// golden check). Returns whether a case of that name was found.
bool run_files(const std::vector<golden::File>& files, const std::vector<const Variant*>& chosen,
               const std::string& case_name, const std::string& dtype, Tally& total,
               std::vector<Record>* records) {
    bool case_found = case_name.empty();
    for (const golden::File& f : files)
        for (const golden::Case& c : f.cases) {
            if (!case_name.empty() && c.name != case_name) continue;
            case_found = true;
            for (const Variant* v : chosen)
                for (DType dt : c.dtypes) {
                    if (!dtype.empty() && to_string(dt) != dtype) continue;
                    const auto start = std::chrono::steady_clock::now();
                    const CheckResult r = golden::run_case(c, *v, dt);
                    const double seconds =
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                    total.add(r.status);
                    if (records)
                        records->push_back({v->name(),
                                            "golden " + std::string(to_string(c.op)) + " " + std::string(to_string(c.pass)),
                                            f.name + " " + c.name + " " + std::string(to_string(dt)), Evidence::golden,
                                            r.status, r.detail, seconds, r.max_abs_error, r.max_rel_error,
                                            r.max_bound_use});
                    std::printf("%-8s %s %s %s %s\n", std::string(to_string(r.status)).c_str(),
                                f.name.c_str(), c.name.c_str(), v->name().c_str(),
                                std::string(to_string(dt)).c_str());
                    print_detail(r);
                    std::fflush(stdout);
                }
        }
    return case_found;
}

int cmd_golden(Args& args) {
    const auto chosen = selected_variants(args);
    const auto golden_dir = args.optional("--golden");
    const std::filesystem::path dir = golden_dir.value_or(golden::default_directory().string());
    const std::string file = args.value("--file", "");
    const std::string case_name = args.value("--case", "");
    const std::string dtype = only_dtype(args);
    const bool allow_empty = args.flag("--allow-empty");
    Reports reports(args, {"--junit", "--json"});
    if (const auto extra = args.positional(); !extra.empty())
        throw UsageError("golden takes no positional arguments (got \"" + extra.front() + "\")");

    std::vector<golden::File> files;
    if (!file.empty()) {
        // Named as given when it exists as given, so that its repro lines work from here; a
        // file found in DIR is named as the golden files are ("golden/x.json").
        const std::filesystem::path path = golden_file(file, dir);
        const bool as_given = path == std::filesystem::path(file);
        reports.check({path});
        files.push_back(golden::load_file(path, as_given ? file : golden::display_name(dir, path), "--file"));
    } else {
        const std::vector<std::filesystem::path> paths = golden::list_files(dir);
        reports.check(paths);
        for (const auto& path : paths)
            files.push_back(golden::load_file(path, golden::display_name(dir, path)));
        if (files.empty() && !allow_empty)
            throw std::runtime_error("--golden " + dir.string() + ": no golden files (*.json) there");
    }
    const ProgressReporter reporter;
    Tally total;
    std::vector<Record> records;
    if (!run_files(files, chosen, case_name, dtype, total, reports.empty() ? nullptr : &records))
        throw UsageError("--case: no case \"" + case_name + "\" in the files read");
    reports.write("--junit", [&] { return junit_text(records, total); });
    reports.write("--json", [&] { return json_text(records, total); });
    print_closing(total);
    // A failure's 1 first, then a lost report's 2, then the empty run's rule.
    if (const int written = exit_status(total.failed > 0, reports.all_written()); written != 0) return written;
    const std::string what = !file.empty() ? "--file " + file : "the golden files of " + dir.string();
    return exit_status(total, allow_empty, what + (case_name.empty() ? "" : " --case " + case_name),
                       reports.empty() ? "above" : "in --json and --junit reports");
}

// One file through both checks (golden::check_text). Prints what is wrong to stderr;
// returns the file when both pass.
std::optional<golden::File> checked_file(const std::string& path, const golden::Schema& schema) {
    std::string text;
    try {
        text = read_input_file(path, "golden check FILE");
    } catch (const InputError& e) {
        std::fprintf(stderr, "convconf: %s\n", e.what());
        return std::nullopt;
    }
    golden::CheckedText checked = golden::check_text(text, path, schema);
    for (const std::string& error : checked.errors) std::fprintf(stderr, "convconf: %s\n", error.c_str());
    return std::move(checked.file);
}

int cmd_check(Args& args) {
    const auto chosen = selected_variants(args);
    const std::string dtype = only_dtype(args);
    const bool allow_empty = args.flag("--allow-empty");
    const std::vector<std::string> paths = args.positional();
    if (paths.empty()) throw UsageError("check needs at least one FILE");
    const golden::Schema schema = golden::Schema::load(golden::default_schema_path());
    std::vector<golden::File> files;
    int invalid = 0;
    for (const std::string& path : paths) {
        if (auto f = checked_file(path, schema)) {
            std::printf("valid    %s: %zu case%s (golden/schema.json and the loader's rules)\n", path.c_str(),
                        f->cases.size(), f->cases.size() == 1 ? "" : "s");
            files.push_back(std::move(*f));
        } else {
            std::printf("invalid  %s (the reasons are on stderr); its cases are not run\n", path.c_str());
            ++invalid;
        }
    }
    std::fflush(stdout);
    const ProgressReporter reporter;
    Tally total;
    run_files(files, chosen, "", dtype, total, nullptr);
    print_closing(total);
    if (invalid) {
        std::printf("%d of %zu file%s invalid\n", invalid, paths.size(), paths.size() == 1 ? "" : "s");
        return 2;
    }
    std::string what;
    for (const std::string& p : paths) what += (what.empty() ? "" : ", ") + p;
    return exit_status(total, allow_empty, what);
}

std::string one_line(std::string s) {
    std::replace(s.begin(), s.end(), '\n', ' ');
    return s;
}

std::string pad_to(const std::string& s, size_t width) {
    return s + std::string(width - std::min(width, s.size()), ' ');
}

int cmd_list(Args& args) {
    const std::string dir_text = args.value("--golden", "");
    const std::vector<std::string> given = args.positional();
    if (!dir_text.empty() && !given.empty()) throw UsageError("give --golden DIR or FILEs, not both");
    std::vector<golden::File> files;
    if (!given.empty()) {
        for (const auto& path : given) files.push_back(golden::load_file(path, "", "golden list FILE"));
    } else {
        const std::filesystem::path dir =
            dir_text.empty() ? golden::default_directory() : std::filesystem::path(dir_text);
        for (const auto& path : golden::list_files(dir))
            files.push_back(golden::load_file(path, golden::display_name(dir, path)));
    }
    size_t cases = 0;
    for (const golden::File& f : files) {
        std::printf("%s: %zu case%s; source: %s\n", f.name.c_str(), f.cases.size(),
                    f.cases.size() == 1 ? "" : "s",
                    one_line(f.source.empty() ? "(none given)" : f.source).c_str());
        size_t width = 0;
        for (const golden::Case& c : f.cases) width = std::max(width, c.name.size());
        for (const golden::Case& c : f.cases) {
            std::string dtypes;
            for (DType dt : c.dtypes) dtypes += (dtypes.empty() ? "" : ",") + std::string(to_string(dt));
            const std::string what = std::string(to_string(c.op)) + " " + std::string(to_string(c.pass));
            const std::string note =
                c.expect_error ? "expects the error \"" + *c.expect_error + "\"; " + c.note : c.note;
            const std::string line = "  " + pad_to(c.name, width) + "  " + pad_to(what, 26) + " " +
                                     pad_to(dtypes, 8) + " " + one_line(note);
            std::printf("%s\n", line.substr(0, line.find_last_not_of(' ') + 1).c_str());
        }
        cases += f.cases.size();
    }
    std::printf("%zu file%s, %zu case%s\n", files.size(), files.size() == 1 ? "" : "s", cases,
                cases == 1 ? "" : "s");
    return 0;
}

const Command kGoldenCheck{
    "golden check", "validate golden files and run their cases",
    "usage: convconf golden check FILE... [--plugin PATH [--isolate]]... [--worker CMD]...\n"
    "                             [--worker-timeout SECONDS] [--variant NAME]... [--dtype f32|f64] [--allow-empty]\n"
    "  Validates each FILE against golden/schema.json and the loader's rules (every\n"
    "  shape against the problem, the problem itself, unique case names; errors name the\n"
    "  file and the JSON pointer), then runs the cases of the valid files through every\n"
    "  variant (or those given), at each dtype of each case (or the one given).\n"
    "  Exit status: 0 all passed, 1 a case failed, 2 a file is invalid, bad usage, or nothing\n"
    "  checked (no case, or every check skipped) unless --allow-empty.\n"
    CONVCONF_OUTSIDE_VARIANTS_HELP
    "examples:\n"
    "  convconf golden check golden/001_b9ad586398eff267.json\n"
    "  convconf golden check mine.json --variant naive --dtype f64\n",
    cmd_check};

const Command kGoldenList{
    "golden list", "the golden files and their cases",
    "usage: convconf golden list [--golden DIR | FILE...]\n"
    "  Each file of DIR (default: the source tree's golden/), or each FILE, with its source,\n"
    "  then one line per case: name, op and pass, dtypes, note.\n"
    "examples:\n"
    "  convconf golden list\n"
    "  convconf golden list mine.json\n",
    cmd_list};

const Command* golden_subcommand(Args& args);

}  // namespace

const Command kGolden{
    "golden", "golden cases: run them, add one from numpy's output, check, list",
    "usage: convconf golden [run] [--golden DIR] [--file FILE] [--case NAME] [--variant NAME]...\n"
    "                             [--plugin PATH [--isolate]]... [--worker CMD]... [--worker-timeout SECONDS]\n"
    "                             [--dtype f32|f64] [--junit FILE] [--json FILE] [--allow-empty]\n"
    "       convconf golden add --file FILE --name NAME --op OP --pass PASS ...\n"
    "       convconf golden check FILE... [--plugin PATH [--isolate]]... [--worker CMD]... [--variant NAME]...\n"
    "       convconf golden list [--golden DIR | FILE...]\n"
    "  golden [run]: the golden cases (expected values the notebooks printed) of every file in\n"
    "  DIR (default: the source tree's golden/), or of FILE alone, through every variant. A\n"
    "  FILE that does not exist as given is looked up in DIR by its name. --junit and --json\n"
    "  write one record per check, as convconf run writes its golden checks.\n"
    "  Exit 0 all passed, 1 a case failed, 2 bad usage or input, or nothing checked (DIR\n"
    "  without golden files, every check skipped) unless --allow-empty.\n"
    "  golden add: a new case from arrays as numpy prints them (convconf golden add --help).\n"
    "  golden check: validate files and run their cases. golden list: files and cases.\n"
    CONVCONF_OUTSIDE_VARIANTS_HELP
    "examples:\n"
    "  convconf golden\n"
    "  convconf golden --file golden/000_1331a5632acb5755.json --case conv_arange16_ones2x2_bias3\n"
    "  convconf golden add --help\n",
    cmd_golden, golden_subcommand};

namespace {

const Command* golden_subcommand(Args& args) {
    if (args.word("add")) return &kGoldenAdd;
    if (args.word("check")) return &kGoldenCheck;
    if (args.word("list")) return &kGoldenList;
    args.word("run");
    return &kGolden;
}

}  // namespace

}  // namespace convconf::cli
