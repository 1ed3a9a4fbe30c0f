// convconf bench: times the variants against each other and against oneDNN
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <malloc.h>

#include "impl/core/threads.hpp"
#include "impl/plugin/worker/worker.hpp"
#include "reference/bench.hpp"
#include "reference/conformance.hpp"
#include "tools/bench_report.hpp"
#include "tools/cli.hpp"

namespace convconf::cli {
namespace {

std::array<double, 3> load_average() {
    std::array<double, 3> l{-1, -1, -1};
    if (getloadavg(l.data(), 3) != 3) l = {-1, -1, -1};
    return l;
}

// Significant digits without an exponent: 1234, 12.3, 0.0123.
std::string significant(double v, int digits) {
    if (!(v > 0) || !std::isfinite(v)) return "-";
    const int decimals = std::max(0, digits - 1 - int(std::floor(std::log10(v))));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

struct Direction {
    Op op;
    std::string name;  // FWD_B ... BWD
};

// --dir values, repeatable or comma-separated; each is a conv2d or a maxpool2d direction.
std::vector<Direction> parse_directions(const std::vector<std::string>& values) {
    std::vector<Direction> out;
    auto add = [&](const std::string& d) {
        for (Op op : {Op::conv2d, Op::maxpool2d}) {
            CheckSpec s;
            s.op = op;
            try {
                apply_direction(s, d);
            } catch (const std::invalid_argument&) {
                continue;
            }
            for (const Direction& have : out)
                if (have.op == op && have.name == d) return;
            out.push_back({op, d});
            // A pooling direction is both poolings': the problems' --alg says which runs.
            if (op == Op::maxpool2d) out.push_back({Op::avgpool2d, d});
            return;
        }
        throw UsageError("--dir: \"" + d +
                         "\" is not a direction (conv2d: FWD_B FWD_D BWD_D BWD_W BWD_WB; "
                         "maxpool2d and avgpool2d: FWD BWD)");
    };
    for (const std::string& v : values) {
        size_t start = 0;
        while (true) {
            const size_t comma = v.find(',', start);
            add(v.substr(start, comma - start));
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    if (out.empty())
        for (const auto& [op, name] : {std::pair{Op::conv2d, "FWD_B"}, {Op::conv2d, "BWD_D"},
                                       {Op::conv2d, "BWD_WB"}, {Op::maxpool2d, "FWD"},
                                       {Op::maxpool2d, "BWD"}, {Op::avgpool2d, "FWD"}, {Op::avgpool2d, "BWD"}})
            out.push_back({op, name});
    return out;
}

// The terminal table, printed a problem and direction at a time as they are measured.
class Table {
public:
    Table(size_t problem_width, size_t variant_width)
        : pw_(int(std::max<size_t>(problem_width, 7))), vw_(int(std::max<size_t>(variant_width, 7))) {}

    void header() const {
        std::printf("%-*s  %-6s  %-9s  %-*s  %4s  %10s  %17s  %12s  %9s\n", pw_, "problem", "dir",
                    "layout", vw_, "variant", "reps", "median ms", "throughput", "workspace B",
                    "vs onednn");
    }
    void row(const BenchRow& r) const {
        std::printf("%-*s  %-6s  %-9s  %-*s  ", pw_, r.problem.c_str(), r.direction.c_str(),
                    r.layout.c_str(), vw_, r.variant.c_str());
        if (r.outcome != BenchRow::Outcome::measured) {
            const std::string first_line = r.message.substr(0, r.message.find('\n'));
            std::printf("%s: %s\n", r.outcome == BenchRow::Outcome::error ? "ERROR" : "skipped",
                        first_line.c_str());
            return;
        }
        const std::string throughput = significant(r.throughput, 4) + " " + std::string(unit_of(r.op));
        std::printf("%4zu  %10s  %17s  %12lld  %9s\n", r.times_ms.size(),
                    significant(r.median_ms, 4).c_str(), throughput.c_str(),
                    (long long)r.workspace_bytes, r.ratio ? significant(*r.ratio, 3).c_str() : "-");
    }

private:
    int pw_, vw_;
};

std::vector<BenchSummary> summarise(const BenchReport& r, const std::vector<Direction>& dirs) {
    std::vector<BenchSummary> out;
    for (const std::string& v : r.variants)
        for (const Direction& d : dirs) {
            std::vector<double> throughputs, ratios;
            for (const BenchRow& row : r.rows) {
                if (row.variant != v || row.op != d.op || row.direction != d.name ||
                    row.outcome != BenchRow::Outcome::measured)
                    continue;
                throughputs.push_back(row.throughput);
                if (row.ratio) ratios.push_back(*row.ratio);
            }
            if (throughputs.empty()) continue;
            BenchSummary s{v, d.op, d.name, int(throughputs.size()), bench::geometric_mean(throughputs),
                           int(ratios.size()), std::nullopt};
            if (!ratios.empty()) s.ratio = bench::geometric_mean(ratios);
            out.push_back(s);
        }
    return out;
}

void print_summary(const std::vector<BenchSummary>& summaries, size_t variant_width) {
    if (summaries.empty()) return;
    const int vw = int(std::max<size_t>(variant_width, 7));
    std::printf("\ngeometric means over the problems (ratio: variant throughput / onednn throughput):\n");
    std::printf("%-*s  %-16s  %8s  %17s  %9s\n", vw, "variant", "direction", "problems",
                "throughput", "vs onednn");
    for (const BenchSummary& s : summaries) {
        const std::string throughput = significant(s.throughput, 4) + " " + std::string(unit_of(s.op));
        std::string ratio = s.ratio ? significant(*s.ratio, 3) : "-";
        if (s.ratio && s.ratios < s.measured)
            ratio += " (over " + std::to_string(s.ratios) + ")";
        std::printf("%-*s  %-16s  %8d  %17s  %9s\n", vw, s.variant.c_str(),
                    direction_name(s.op, s.direction).c_str(), s.measured, throughput.c_str(),
                    ratio.c_str());
    }
}

int cmd_bench(Args& args) {
    using Clock = std::chrono::steady_clock;
    const Clock::time_point started = Clock::now();
    const auto chosen = selected_variants(args);
    const auto sets = args.values("--set");
    const auto batches = args.values("--batch");
    const auto dir_values = args.values("--dir");
    const std::string mb_text = args.value("--mb", "");
    const std::string alg_text = args.value("--alg", "");
    // The defaults are Budget's (reference/bench.hpp), which the help text states.
    const bench::Budget defaults;
    const std::string reps_text = args.value("--reps", std::to_string(defaults.reps));
    const std::string warmup_text = args.value("--warmup", std::to_string(defaults.warmup));
    const std::string max_time_text = args.value("--max-time", std::to_string(defaults.max_seconds));
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const std::string threads_text = args.value("--threads", std::to_string(cores));
    const std::string layout_text = args.value("--layout", "");
    const std::string wlayout_text = args.value("--wlayout", "");
    const std::string dtype_text = args.value("--dtype", "f32");
    Reports reports(args, {"--csv", "--json", "--svg"});
    const bool allow_empty = args.flag("--allow-empty");
    const auto descriptors = args.positional();

    BenchReport report;
    report.dtype = parse_dtype(dtype_text, "--dtype");
    constexpr int64_t kIntMax = std::numeric_limits<int>::max();
    report.reps = int(parse_integer("--reps", reps_text, 1, kIntMax));
    report.warmup = int(parse_integer("--warmup", warmup_text, 0, kIntMax));
    report.max_seconds = parse_real("--max-time", max_time_text, 0, true, "a positive number of seconds");
    report.threads = int(parse_integer("--threads", threads_text, 1, 256));
    if (!mb_text.empty()) report.mb = parse_integer("--mb", mb_text, 1);
    std::optional<Layout> layout;
    std::optional<WeightsLayout> wlayout;
    if (!layout_text.empty()) layout = parse_layout(layout_text, "--layout");
    if (!wlayout_text.empty()) wlayout = parse_weights_layout(wlayout_text, "--wlayout");
    const std::vector<Direction> dirs = parse_directions(dir_values);
    for (const Direction& d : dirs) report.directions.push_back(direction_name(d.op, d.name));
    for (const Variant* v : chosen) report.variants.push_back(v->name());

    // The problems, in the order given: sets, then batch files, then descriptors.
    std::vector<bench::Problem> problems;
    for (const std::string& s : sets) {
        try {
            for (auto& p : bench::problem_set(s)) problems.push_back(p);
        } catch (const std::invalid_argument& e) {
            throw UsageError(e.what());
        }
        report.sources.push_back("set " + s);
    }
    for (const std::string& b : batches) {
        for (auto& p : bench::read_problems(b)) problems.push_back(p);
        report.sources.push_back("batch " + b);
    }
    // --alg is the descriptors' (as check's): sets and batch files carry their own --alg=.
    std::optional<PoolAlg> alg;
    if (!alg_text.empty()) alg = parse_pool_alg(alg_text, "--alg");
    bool pooling_descriptor = false;
    for (const std::string& d : descriptors) {
        bench::Problem p = bench::parse_problem(d);
        if (alg && p.op != Op::conv2d) {
            p.problem.alg = *alg;
            p.op = is_average(*alg) ? Op::avgpool2d : Op::maxpool2d;
        }
        pooling_descriptor = pooling_descriptor || p.op != Op::conv2d;
        problems.push_back(p);
        report.sources.push_back("descriptor " + d);
    }
    if (alg && !pooling_descriptor)
        throw UsageError("--alg " + alg_text + ": no pooling descriptor to apply it to (sets and batch files "
                         "carry their own --alg=)");
    if (problems.empty())
        throw UsageError("no problems: give --set NAME, --batch FILE or DESCRIPTORs");
    for (bench::Problem& p : problems) {
        if (report.mb) p.problem.mb = *report.mb;
        if (layout) p.problem.layout = *layout;
        if (wlayout) p.problem.weights_layout = *wlayout;
    }
    const bool anything = std::any_of(problems.begin(), problems.end(), [&](const bench::Problem& p) {
        return std::any_of(dirs.begin(), dirs.end(), [&](const Direction& d) { return d.op == p.op; });
    });
    if (!anything) throw UsageError("--dir: no direction given applies to the problems given");
    // A file that cannot be written, or that would replace a file the problems came from (a
    // --batch file, a built-in set's shape file), is an error now, not after the measuring.
    std::vector<std::filesystem::path> inputs(batches.begin(), batches.end());
    for (const auto& set : sets)
        for (const auto& file : bench::set_files(set)) inputs.push_back(file);
    reports.check(inputs);

    const Variant* onednn = nullptr;
    for (const Variant* v : chosen)
        if (v->name() == "onednn") onednn = v;
    if (!onednn) report.notes.push_back("onednn is not among the variants measured: no ratios");
    else if (auto why = onednn->unsupported(Call(direction_of(Op::conv2d, Pass::forward, true), report.dtype, {})))
        report.notes.push_back("onednn does not run " + std::string(to_string(report.dtype)) + " (" +
                               *why + "): no ratios");

    convconf::set_threads(report.threads);
    // Keep freed memory in the process. Variants allocate their workspace on every call;
    // glibc would hand large blocks back to the kernel (munmap, heap trimming) and every
    // call would then fault its pages in afresh, which times the kernel's page clearing,
    // not the variant (measured: onednn on ic64ih56oc64kh1 mb2, 1 thread, 2.9 ms -> 0.94 ms;
    // two thirds of it was faulting in its reorder buffers and scratchpad).
    // 32 MiB is the largest threshold glibc accepts on 64-bit; blocks above it stay mmapped.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
    report.hardware_threads = int(cores);
    report.load_start = load_average();
    // Others' work on the cores: a thread may wait for a core at every parallel region (on
    // a 2-core VM under load, measured: in steps of the 4 ms scheduler tick).
    if (report.load_start[0] > double(cores) - double(report.threads) + 0.5) {
        char busy[200];
        std::snprintf(busy, sizeof busy,
                      "the machine is busy (load average %.2f on %u cores, %d thread%s asked): "
                      "timings are noisy%s",
                      report.load_start[0], cores, report.threads, report.threads == 1 ? "" : "s",
                      report.threads > 1 ? "; --threads 1 is less affected" : "");
        report.notes.push_back(busy);
    }
    const bench::Budget budget{report.reps, report.warmup, report.max_seconds};
    int errors = 0;
    // A worker's cost per call beyond its kernel: the round trip of a request that does
    // nothing (ping), timed as the calls are, median of up to 1000 or max-time's worth.
    for (const Variant* v : chosen) {
        if (!worker::is_worker(*v)) continue;
        std::vector<double> us;
        const Clock::time_point until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                           std::chrono::duration<double>(report.max_seconds));
        try {
            while (us.size() < 1000 && (us.size() < 20 || Clock::now() < until)) {
                const Clock::time_point t0 = Clock::now();
                worker::ping(*v);
                us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
            }
        } catch (const std::exception& e) {
            report.notes.push_back("variant " + v->name() + ": its worker failed a ping: " + e.what());
            ++errors;
            continue;
        }
        std::sort(us.begin(), us.end());
        char line[200];
        std::snprintf(line, sizeof line, "worker round trip of variant %s: median %.1f us, min %.1f us over %zu null "
                      "requests (ping), the cost of each call beyond its kernel", v->name().c_str(),
                      us[us.size() / 2], us.front(), us.size());
        report.notes.push_back(line);
    }

    std::printf("convconf bench: %s, %d thread%s, each call timed up to %d times after %d warm-up%s, "
                "at most %g s per variant and problem; load average %.2f %.2f %.2f\n",
                std::string(to_string(report.dtype)).c_str(), report.threads, report.threads == 1 ? "" : "s",
                report.reps, report.warmup, report.warmup == 1 ? "" : "s", report.max_seconds,
                report.load_start[0], report.load_start[1], report.load_start[2]);
    for (const std::string& n : report.notes) std::printf("note: %s\n", n.c_str());
    size_t problem_width = 0, variant_width = 0;
    for (const auto& p : problems) problem_width = std::max(problem_width, p.label().size());
    for (const Variant* v : chosen) variant_width = std::max(variant_width, v->name().size());
    const Table table(problem_width, variant_width);
    table.header();
    std::fflush(stdout);

    for (const bench::Problem& problem : problems)
        for (const Direction& d : dirs) {
            if (d.op != problem.op) continue;
            CheckSpec spec;
            spec.op = problem.op;
            spec.problem = problem.problem;
            spec.dtype = report.dtype;
            apply_direction(spec, d.name);
            bench::Workload workload(spec);
            const size_t first = report.rows.size();
            for (const Variant* v : chosen) {
                BenchRow row;
                row.problem = problem.label();
                row.descriptor = problem.descriptor();
                row.op = problem.op;
                row.direction = d.name;
                row.layout = layout_string(spec);
                row.variant = v->name();
                const Call call = call_of(spec, false);
                try {
                    if (auto why = v->unsupported(call)) {  // a worker's answer: it can fail
                        row.outcome = BenchRow::Outcome::skipped;
                        row.message = *why;
                    } else {
                        row.workspace_bytes = v->workspace_bytes(call);
                        row.implementation = v->implementation_info(call);
                        const bench::Timing t = bench::time_variant(workload, *v, budget);
                        row.warmups = t.warmups;
                        for (double s : t.seconds) row.times_ms.push_back(s * 1e3);
                        row.median_ms = t.median() * 1e3;
                        row.work = bench::work(spec);
                        row.throughput = row.work / t.median() / 1e9;
                    }
                } catch (const std::bad_alloc& e) {
                    throw_variant_out_of_memory(*v, spec, e);  // the environment's: exit 2
                } catch (const std::exception& e) {
                    row.outcome = BenchRow::Outcome::error;
                    row.message = e.what();
                    ++errors;
                }
                report.rows.push_back(row);
            }
            // Ratios to onednn as measured in this group: same problem, direction, inputs.
            const BenchRow* base = nullptr;
            for (size_t i = first; i < report.rows.size(); ++i)
                if (report.rows[i].variant == "onednn" &&
                    report.rows[i].outcome == BenchRow::Outcome::measured)
                    base = &report.rows[i];
            for (size_t i = first; i < report.rows.size(); ++i) {
                BenchRow& r = report.rows[i];
                if (base && r.outcome == BenchRow::Outcome::measured) r.ratio = r.throughput / base->throughput;
                table.row(r);
            }
            std::fflush(stdout);
        }

    report.summaries = summarise(report, dirs);
    print_summary(report.summaries, variant_width);
    report.load_end = load_average();
    report.elapsed_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    int64_t measured = 0, skipped = 0;
    for (const BenchRow& r : report.rows) {
        measured += r.outcome == BenchRow::Outcome::measured;
        skipped += r.outcome == BenchRow::Outcome::skipped;
    }
    std::printf("\n%lld measured, %lld skipped, %d errors in %.1f s; load average %.2f %.2f %.2f at the end\n",
                (long long)measured, (long long)skipped, errors, report.elapsed_seconds, report.load_end[0],
                report.load_end[1], report.load_end[2]);
    reports.write("--csv", [&] { return csv_text(report); });
    reports.write("--json", [&] { return json_text(report); });
    reports.write("--svg", [&] { return svg_text(report); });
    // A variant that threw first (1), then a lost file (2), then the empty run's rule.
    if (const int written = exit_status(errors > 0, reports.all_written()); written != 0) return written;
    if (measured == 0 && !allow_empty) {
        std::fprintf(stderr, "convconf: nothing was measured: all %lld were skipped (the reasons are above); "
                             "--allow-empty accepts an empty run (exit 0)\n", (long long)skipped);
        return 2;
    }
    return 0;
}

}  // namespace

const Command kBench{"bench", "time the variants against each other and against oneDNN",
    "usage: convconf bench [--set resnet50|mobilenet|notebooks]... [--batch FILE]... [DESCRIPTOR]...\n"
    "                      [--plugin PATH [--isolate]]... [--worker CMD]... [--worker-timeout SECONDS]\n"
    "                      [--variant NAME]... [--dir DIR[,DIR]...]... [--mb N] [--alg max|avg_p|avg_np]\n"
    "                      [--dtype f32|f64] [--layout NCHW|NHWC] [--wlayout OIHW|HWIO]\n"
    "                      [--reps N] [--warmup N] [--max-time SECONDS] [--threads N]\n"
    "                      [--csv FILE] [--json FILE] [--svg FILE] [--allow-empty]\n"
    "  Times each variant's entry point on each problem and direction: the median of up to\n"
    "  --reps timed calls (default 10) after --warmup untimed ones (default 1), within\n"
    "  --max-time seconds per variant and problem (default 2; a slow variant gets fewer\n"
    "  calls, at least one timed, and the reps column says how many). Prints a row per\n"
    "  problem, direction and variant: reps, median ms, GFLOP/s (conv2d: 2*mb*oc*oh*ow*(ic/g)*kh*kw\n"
    "  per pass) or GB/s (poolings: x+y forward, x+dy+dx backward), workspace bytes, and the\n"
    "  ratio of its throughput to onednn's measured in the same run; then per variant and\n"
    "  direction the geometric mean of the throughputs and of the ratios.\n"
    "  Problems: --set resnet50 (benchdnn's ResNet-50 conv and pool shapes), --set mobilenet\n"
    "  (MobileNet v1's and v2's convolutions, depthwise and pointwise), --set notebooks\n"
    "  (the notebooks' shapes), benchdnn batch files (their --mb=, --tag= and --alg= are\n"
    "  followed), DESCRIPTORs (conv2d when it has oc, else maxpool2d, or avgpool2d with --alg\n"
    "  avg_p or avg_np; ceil1 is ceil mode); --mb, --layout, --wlayout override them all.\n"
    "  --dir: FWD_B FWD_D BWD_D BWD_W BWD_WB (conv2d), FWD BWD (maxpool2d and avgpool2d);\n"
    "  default FWD_B,BWD_D,BWD_WB and FWD,BWD. --threads defaults to every core; on a busy\n"
    "  machine every parallel region waits for a core, and --threads 1 is steadier. Inputs\n"
    "  are uniform floats; results are not checked (run and check do that). oneDNN has no\n"
    "  f64: at f64 there are no ratios. --csv, --json and --svg FILEs are checked before the\n"
    "  measuring and replaced atomically after it. Exit 1 if a variant threw (an ERROR row),\n"
    "  2 on bad usage, when a file could not be written and no variant threw, or when\n"
    "  nothing was measured (every row skipped) unless --allow-empty.\n"
    CONVCONF_OUTSIDE_VARIANTS_HELP
    "  For a worker's variant, a note gives the round trip of a request that does nothing (ping):\n"
    "  what each call costs beyond its kernel.\n"
    "examples:\n"
    "  convconf bench --set resnet50 --mb 2\n"
    "  convconf bench --set resnet50 --mb 2 --threads 1 --variant strided --variant onednn \\\n"
    "                 --csv bench.csv --json bench.json --svg bench.svg\n"
    "  convconf bench --set mobilenet --mb 2\n"
    "  convconf bench --set notebooks --dir FWD,BWD --layout NHWC\n"
    "  convconf bench --dir BWD_D --reps 20 mb2ic64ih56oc64kh3ph1\n"
    "  convconf bench --alg avg_p --threads 1 mb16ic64ih56kh3sh2ph1 mb16ic64ih56kh3sh2ph1ceil1\n",
    cmd_bench};

}  // namespace convconf::cli
