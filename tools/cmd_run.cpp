// convconf run: the conformance run: every variant on every golden case and the named problem table
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

int cmd_run(Args& args) {
    const auto chosen = selected_variants(args);
    const bool list = args.flag("--list");
    const std::filesystem::path dir = args.value("--golden", golden::default_directory().string());
    if (!args.positional().empty()) throw UsageError("run takes no positional arguments");
    const auto plan = default_plan();
    std::vector<golden::File> files;
    for (const auto& path : golden::list_files(dir))
        files.push_back(golden::load_file(path, golden::display_name(dir, path)));
    if (list) {
        int64_t n = 0;
        for (const Variant* v : chosen) {
            for (const golden::File& f : files)
                for (const golden::Case& c : f.cases)
                    for (DType dt : c.dtypes) {
                        std::cout << v->name() << "  golden " << f.name << " " << c.name << " " << to_string(dt) << "\n";
                        ++n;
                    }
            for (const auto& s : plan) std::cout << v->name() << "  " << check_name(s) << "\n";
            n += int64_t(plan.size());
        }
        std::cout << n << " checks\n";
        return 0;
    }
    // Summary rows: variant -> "op DIR" (generated) or "golden op pass" -> tally.
    std::map<std::string, std::map<std::string, Tally>> rows;
    Tally total;
    auto record = [&](const Variant& v, const std::string& row, const CheckResult& r) {
        rows[v.name()][row].add(r.status);
        total.add(r.status);
        if (r.status == Status::failed) std::cout << r.detail << "\n";
    };
    for (const Variant* v : chosen) {
        for (const golden::File& f : files)
            for (const golden::Case& c : f.cases)
                for (DType dt : c.dtypes)
                    record(*v, "golden " + std::string(to_string(c.op)) + " " + std::string(to_string(c.pass)),
                           golden::run_case(c, *v, dt));
        for (const auto& s : plan)
            record(*v, std::string(to_string(s.op)) + " " + direction(s), run_check(*v, s));
    }
    std::printf("%-10s %-30s %8s %8s %8s\n", "variant", "checks", "passed", "failed", "skipped");
    for (const auto& [variant, ops] : rows)
        for (const auto& [op, t] : ops)
            std::printf("%-10s %-30s %8lld %8lld %8lld\n", variant.c_str(), op.c_str(),
                        (long long)t.passed, (long long)t.failed, (long long)t.skipped);
    print_closing(total);
    return total.failed ? 1 : 0;
}

}  // namespace

const Command kRun{"run", "the conformance run: every variant on every golden case and the named problem table",
    "usage: convconf run [--variant NAME]... [--golden DIR] [--list]\n"
    "  Every registered variant (or each --variant) on every golden case (golden/, or the\n"
    "  files of DIR) at each of its dtypes, and on the named problem table: every op and\n"
    "  pass, f32 and f64, all layouts, integer and float data, against the naive reference.\n"
    "  Prints each failure's report and repro line, a table per variant, and\n"
    "  'N passed, M failed, K skipped'. Exit 1 on any failure, 2 on bad usage.\n"
    "examples:\n"
    "  convconf run\n"
    "  convconf run --variant strided --variant onednn\n"
    "  convconf run --golden ../other-project/golden --list\n",
    cmd_run};

}  // namespace convconf::cli
