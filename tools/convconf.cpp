// convconf: the conformance harness's command line.
//
//   convconf run   [--variant NAME]... [--list]      the conformance run
//   convconf check [options] DESCRIPTOR              one problem through every variant
//   convconf golden [options]                        golden cases through every variant
//   convconf variants                                the registered variants
//
// Exit status: 0 all passed, 1 a check failed, 2 bad usage or bad input.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "impl/core/descriptor.hpp"
#include "impl/core/registry.hpp"
#include "impl/core/threads.hpp"
#include "reference/conformance.hpp"
#include "reference/golden/golden.hpp"

namespace convconf {
namespace {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

const char* kUsage =
    "usage:\n"
    "  convconf run [--variant NAME]... [--golden DIR] [--list]\n"
    "      every registered variant on every golden case (golden/, or DIR) and on the named\n"
    "      problem table: every op and pass, f32 and f64, all layouts, integer and float\n"
    "      data, against the naive reference\n"
    "  convconf check [--variant NAME]... [--op conv2d|maxpool2d|im2col|col2im]\n"
    "                 [--dir FWD_B|FWD_D|BWD_D|BWD_W|BWD_WB (conv2d), FWD|BWD (maxpool2d)]\n"
    "                 [--dtype f32|f64] [--layout NCHW|NHWC] [--wlayout OIHW|HWIO]\n"
    "                 [--fill int|float|ties|negative|distinct|special] [--seed N] DESCRIPTOR\n"
    "      one benchdnn descriptor (conv: mb2ic3ih5oc4kh3ph1, pool: mb1ic1ih4kh2sh2)\n"
    "      through every variant; op defaults to conv2d when the descriptor has oc,\n"
    "      maxpool2d otherwise\n"
    "  convconf golden [--golden DIR] [--file FILE] [--case NAME] [--variant NAME]...\n"
    "                  [--dtype f32|f64]\n"
    "      the golden cases (expected values the notebooks printed) of every file in DIR\n"
    "      (default: the source tree's golden/), or of FILE alone, through every variant;\n"
    "      a FILE that does not exist as given is looked up in DIR by its name\n"
    "  convconf variants\n";

// Pulls "--name VALUE" options off argv; everything else is positional.
class Args {
public:
    Args(int argc, char** argv, int first) {
        for (int i = first; i < argc; ++i) args_.emplace_back(argv[i]);
    }
    bool flag(const std::string& name) {
        for (size_t i = 0; i < args_.size(); ++i)
            if (args_[i] == name) {
                args_.erase(args_.begin() + i);
                return true;
            }
        return false;
    }
    std::vector<std::string> values(const std::string& name) {
        std::vector<std::string> out;
        for (size_t i = 0; i < args_.size();) {
            if (args_[i] != name) {
                ++i;
                continue;
            }
            if (i + 1 >= args_.size()) throw UsageError(name + " needs a value");
            out.push_back(args_[i + 1]);
            args_.erase(args_.begin() + i, args_.begin() + i + 2);
        }
        return out;
    }
    std::string value(const std::string& name, const std::string& fallback) {
        auto v = values(name);
        if (v.size() > 1) throw UsageError(name + " given more than once");
        return v.empty() ? fallback : v.front();
    }
    // What remains; options nobody asked for are errors.
    std::vector<std::string> positional() const {
        for (const auto& a : args_)
            if (a.rfind("--", 0) == 0) throw UsageError("unknown option " + a);
        return args_;
    }

private:
    std::vector<std::string> args_;
};

std::vector<const Variant*> selected_variants(Args& args) {
    const auto names = args.values("--variant");
    if (names.empty()) return variants();
    std::vector<const Variant*> out;
    for (const auto& n : names) {
        const Variant* v = find_variant(n);
        if (!v) {
            std::string known;
            for (const Variant* k : variants()) known += " " + k->name();
            throw UsageError("--variant: no variant \"" + n + "\" (registered:" + known + ")");
        }
        out.push_back(v);
    }
    return out;
}

struct Tally {
    int64_t passed = 0, failed = 0, skipped = 0;
    void add(Status s) { (s == Status::passed ? passed : s == Status::failed ? failed : skipped)++; }
};

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
    std::printf("%lld passed, %lld failed, %lld skipped\n", (long long)total.passed,
                (long long)total.failed, (long long)total.skipped);
    return total.failed ? 1 : 0;
}

int cmd_check(Args& args) {
    const auto chosen = selected_variants(args);
    const std::string op_text = args.value("--op", "");
    const std::string dir = args.value("--dir", "");
    const std::string dtype = args.value("--dtype", "f32");
    const std::string layout = args.value("--layout", "NCHW");
    const std::string wlayout = args.value("--wlayout", "OIHW");
    const std::string fill_text = args.value("--fill", "");
    const std::string seed = args.value("--seed", "1");
    const auto pos = args.positional();
    if (pos.size() != 1) throw UsageError("check takes exactly one DESCRIPTOR");

    CheckSpec s;
    const bool has_oc = pos[0].find("oc") != std::string::npos;
    s.op = op_text.empty() ? (has_oc ? Op::conv2d : Op::maxpool2d) : parse_op(op_text, "--op");
    if (s.op == Op::conv2d) {
        s.problem = parse_conv_descriptor(pos[0]).problem;
    } else {
        static_cast<WindowProblem&>(s.problem) = parse_pool_descriptor(pos[0]).problem;
    }
    s.problem.layout = parse_layout(layout, "--layout");
    s.problem.weights_layout = parse_weights_layout(wlayout, "--wlayout");
    s.dtype = parse_dtype(dtype, "--dtype");
    apply_direction(s, dir.empty() ? (s.op == Op::conv2d ? "FWD_B" : "FWD") : dir);
    s.fill = !fill_text.empty() ? parse_fill(fill_text)
             : s.op == Op::maxpool2d ? Fill::ties : Fill::integers;
    try {
        size_t used = 0;
        s.seed = std::stoull(seed, &used);
        if (used != seed.size()) throw std::invalid_argument(seed);
    } catch (const std::exception&) {
        throw UsageError("--seed: \"" + seed + "\" is not a non-negative integer");
    }

    std::cout << check_name(s) << " seed " << s.seed << "\n";
    Tally total;
    for (const Variant* v : chosen) {
        const CheckResult r = run_check(*v, s);
        total.add(r.status);
        const int64_t workspace = v->workspace_bytes({s.op, s.pass, s.dtype, s.fill == Fill::special}, s.problem);
        std::printf("  %-10s %-8s max abs err %-12.6g max rel err %-12.6g workspace %lld bytes\n",
                    v->name().c_str(), std::string(to_string(r.status)).c_str(), r.max_abs_error,
                    r.max_rel_error, (long long)workspace);
        if (r.status != Status::passed) std::cout << r.detail;
    }
    std::printf("%lld passed, %lld failed, %lld skipped\n", (long long)total.passed,
                (long long)total.failed, (long long)total.skipped);
    return total.failed ? 1 : 0;
}

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
    std::printf("%lld passed, %lld failed, %lld skipped\n", (long long)total.passed,
                (long long)total.failed, (long long)total.skipped);
    return total.failed ? 1 : 0;
}

int cmd_variants(Args& args) {
    if (!args.positional().empty()) throw UsageError("variants takes no arguments");
    for (const Variant* v : variants()) std::cout << v->name() << "  " << v->description() << "\n";
    return 0;
}

}  // namespace
}  // namespace convconf

int main(int argc, char** argv) {
    using namespace convconf;
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
        std::fputs(kUsage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const std::string cmd = argv[1];
    Args args(argc, argv, 2);
    set_threads(1);  // many small problems: see impl/core/threads.hpp
    try {
        if (cmd == "run") return cmd_run(args);
        if (cmd == "check") return cmd_check(args);
        if (cmd == "golden") return cmd_golden(args);
        if (cmd == "variants") return cmd_variants(args);
        throw UsageError("unknown command \"" + cmd + "\"");
    } catch (const UsageError& e) {
        std::fprintf(stderr, "convconf: %s\n%s", e.what(), kUsage);
        return 2;
    } catch (const std::exception& e) {
        // Bad input (a descriptor, a field value, an invalid problem): say what, exit 2.
        std::fprintf(stderr, "convconf: %s\n", e.what());
        return 2;
    }
}
