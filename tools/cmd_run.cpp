// convconf run: the conformance run: every variant on every golden case and the named problem table
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <chrono>
#include <mutex>
#include <thread>
#include <cstdio>
#include <optional>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "impl/core/descriptor.hpp"
#include "reference/registry.hpp"
#include "impl/core/threads.hpp"
#include "reference/conformance.hpp"
#include "reference/golden/golden.hpp"
#include "reference/sweep.hpp"

#include "tools/cli.hpp"
#include "tools/progress.hpp"
#include "tools/run_report.hpp"

namespace convconf::cli {
namespace {

// Whether a passed check is evidence against golden values, the naive reference, or naive
// itself (run_report.hpp).
Evidence evidence_of(const Variant& v, bool golden_case) {
    if (golden_case) return Evidence::golden;
    return &v == &naive_variant() ? Evidence::self : Evidence::reference;
}

// One check of the run: a variant on a golden case at one dtype, or on a generated spec.
struct Item {
    const Variant* variant = nullptr;
    const golden::File* file = nullptr;  // golden case when set
    const golden::Case* golden_case = nullptr;
    DType dtype = DType::f32;
    CheckSpec spec;     // generated check otherwise
    std::string group;  // summary row: "golden conv2d forward", "conv2d FWD_B", "sweep conv2d FWD_B"
    std::string name;   // readable and unique within the group
    Evidence evidence() const { return evidence_of(*variant, golden_case != nullptr); }
};

// "I/N" with 1 <= I <= N.
std::pair<int64_t, int64_t> parse_shard(const std::string& text) {
    const size_t slash = text.find('/');
    const std::string usage = "--shard: \"" + text + "\" is not I/N with 1 <= I <= N (e.g. 2/4)";
    if (slash == std::string::npos) throw UsageError(usage);
    try {
        const int64_t n = parse_integer("--shard", text.substr(slash + 1), 1);
        const int64_t i = parse_integer("--shard", text.substr(0, slash), 1, n);
        return {i, n};
    } catch (const UsageError&) {
        throw UsageError(usage);
    }
}

// The largest --count: index arithmetic over (variants x checks) stays far inside 64 bits.
constexpr int64_t kMaxCount = int64_t{1} << 40;

// The run's checks in their fixed order, computed on demand: for each variant the golden
// cases at each dtype, the problem table, then the sweep; with --op, only that op's. Shard
// I of N is every N-th check of that order starting at the I-th, so the shards' union is
// the whole run and no check runs twice. The golden cases and the table are small and
// held; sweep check i is computed from (seed, i) alone (reference/sweep.hpp), so a shard
// of --count 1000000000 holds no more than a shard of --count 10. With --op, finding the
// j-th sweep check of that op reads the op of every sweep check before it (one draw each,
// no problem is built): time grows with --count there, memory does not.
class Schedule {
public:
    struct Fixed {
        const golden::File* file = nullptr;  // golden case when set
        const golden::Case* golden_case = nullptr;
        DType dtype = DType::f32;
        CheckSpec spec;  // generated check otherwise
        std::string group, name;
    };

    Schedule(std::vector<const Variant*> variants, std::vector<Fixed> fixed, uint64_t seed, int64_t count,
             std::optional<Op> op, int64_t shard, int64_t shards)
        : variants_(std::move(variants)), fixed_(std::move(fixed)), seed_(seed), count_(count), op_(op),
          shards_(shards), next_(shard - 1) {
        sweep_ = count_;
        if (op_) {
            sweep_ = 0;
            for (int64_t i = 0; i < count_; ++i) sweep_ += sweep_op(seed_, i) == *op_;
        }
        per_variant_ = int64_t(fixed_.size()) + sweep_;
        const int64_t whole = per_variant_ * int64_t(variants_.size());
        size_ = whole > shard - 1 ? (whole - shard) / shards_ + 1 : 0;
    }

    // Checks in this shard.
    int64_t size() const { return size_; }

    // The shard's next check, in order; false after the last. Not thread-safe.
    bool next(Item& it) {
        if (taken_ == size_) return false;
        ++taken_;
        const int64_t g = next_;
        next_ += shards_;
        const Variant* v = variants_[size_t(g / per_variant_)];
        const int64_t r = g % per_variant_;
        if (r < int64_t(fixed_.size())) {
            const Fixed& f = fixed_[size_t(r)];
            it = {v, f.file, f.golden_case, f.dtype, f.spec, f.group, f.name};
            return true;
        }
        const CheckSpec s = sweep_check(seed_, sweep_index(r - int64_t(fixed_.size())));
        it = {v,
              nullptr,
              nullptr,
              s.dtype,
              s,
              "sweep " + std::string(to_string(s.op)) + " " + direction(s),
              check_name(s) + " seed " + std::to_string(s.seed)};
        return true;
    }

private:
    // The index in the sweep of its j-th check that --op keeps.
    int64_t sweep_index(int64_t j) {
        if (!op_) return j;
        if (j < cursor_j_) cursor_i_ = -1, cursor_j_ = -1;  // the next variant's sweep: from the start
        while (cursor_j_ < j)
            if (sweep_op(seed_, ++cursor_i_) == *op_) ++cursor_j_;
        return cursor_i_;
    }

    std::vector<const Variant*> variants_;
    std::vector<Fixed> fixed_;
    uint64_t seed_;
    int64_t count_;
    std::optional<Op> op_;
    int64_t shards_, next_;
    int64_t sweep_ = 0, per_variant_ = 0, size_ = 0, taken_ = 0;
    int64_t cursor_i_ = -1, cursor_j_ = -1;  // sweep index cursor_i_ is the cursor_j_-th of op_
};

// Progress: a line rewritten in place on a terminal; plain lines at every tenth otherwise.
class Progress {
public:
    explicit Progress(size_t total) : total_(total), tty_(isatty(STDOUT_FILENO)) {}
    void update(size_t done, const Tally& t, const Item& current) {
        if (tty_) {
            const auto now = std::chrono::steady_clock::now();
            if (done != total_ && now - last_ < std::chrono::milliseconds(100)) return;
            last_ = now;
            std::printf("\r\033[K[%zu/%zu] %lld passed, %lld failed, %lld skipped  %s %s", done, total_,
                        (long long)t.passed, (long long)t.failed, (long long)t.skipped,
                        current.variant->name().c_str(), current.group.c_str());
            std::fflush(stdout);
        } else if (total_ >= 10 && done % (total_ / 10) == 0 && done != total_) {
            std::printf("progress: %zu/%zu checks, %lld passed, %lld failed, %lld skipped\n", done, total_,
                        (long long)t.passed, (long long)t.failed, (long long)t.skipped);
        }
    }
    // Clears the live line before other output.
    void clear() {
        if (tty_) std::printf("\r\033[K");
    }

private:
    size_t total_;
    bool tty_;
    std::chrono::steady_clock::time_point last_{};
};

int cmd_run(Args& args) {
    const auto chosen = selected_variants(args);
    const bool list = args.flag("--list");
    const bool allow_empty = args.flag("--allow-empty");
    const auto golden_dir = args.optional("--golden");
    const std::filesystem::path dir = golden_dir.value_or(golden::default_directory().string());
    const auto op_text = args.optional("--op");
    const uint64_t seed = parse_seed("--seed", args.value("--seed", "1"));
    const int64_t count = args.integer("--count", 200, 0, kMaxCount);
    const auto [shard, shards] = parse_shard(args.value("--shard", "1/1"));
    Reports reports(args, {"--junit", "--json"});
    const int64_t threads = args.integer("--threads", 1, 1, 256);
    if (const auto extra = args.positional(); !extra.empty())
        throw UsageError("run takes no positional arguments (got \"" + extra.front() + "\")");
    const std::optional<Op> only_op = op_text ? std::optional<Op>(parse_op(*op_text, "--op")) : std::nullopt;
    if (list && !reports.empty())
        throw UsageError("--list prints what would run and runs nothing: --junit and --json would have nothing to write");
    const std::vector<std::filesystem::path> golden_paths = golden::list_files(dir);
    // A report that cannot be written, or that would replace a golden file the run reads, is
    // an error now, not after every check.
    reports.check(golden_paths);

    std::vector<golden::File> files;
    for (const auto& path : golden_paths)
        files.push_back(golden::load_file(path, golden::display_name(dir, path)));
    if (golden_dir && files.empty() && !allow_empty)
        throw std::runtime_error("--golden " + dir.string() + ": no golden files (*.json) there; --allow-empty runs without them");

    // The checks every variant runs before the sweep: golden cases, then the problem table.
    std::vector<Schedule::Fixed> fixed;
    for (const golden::File& f : files)
        for (const golden::Case& c : f.cases)
            for (DType dt : c.dtypes)
                if (!only_op || c.op == *only_op)
                    fixed.push_back({&f, &c, dt, {},
                                     "golden " + std::string(to_string(c.op)) + " " + std::string(to_string(c.pass)),
                                     f.name + " " + c.name + " " + std::string(to_string(dt))});
    for (const auto& s : default_plan())
        if (!only_op || s.op == *only_op)
            fixed.push_back({nullptr, nullptr, s.dtype, s, std::string(to_string(s.op)) + " " + direction(s),
                             check_name(s) + " seed " + std::to_string(s.seed)});
    Schedule schedule(chosen, std::move(fixed), seed, count, only_op, shard, shards);
    const std::string what_ran = "shard " + std::to_string(shard) + "/" + std::to_string(shards) + " of the run (" +
                                 std::to_string(schedule.size()) + " checks)";
    if (list) {
        Item it;
        while (schedule.next(it)) std::cout << it.variant->name() << "  " << it.group << "  " << it.name << "\n";
        std::cout << schedule.size() << " checks\n";
        if (schedule.size() == 0 && !allow_empty) return exit_status(Tally{}, false, what_ran);
        return 0;
    }

    struct Row {
        Evidence evidence = Evidence::reference;  // the same for every check of a group
        Tally tally;
    };
    std::map<std::string, std::map<std::string, Row>> rows;  // variant -> group -> row
    std::map<Evidence, int64_t> passed_by;
    Tally total;
    const bool keep_records = !reports.empty();
    std::vector<Record> records;
    if (keep_records) {
        try {
            records.resize(size_t(schedule.size()));
        } catch (const std::bad_alloc&) {
            throw std::runtime_error("out of memory allocating the --junit/--json records of " +
                                     std::to_string(schedule.size()) + " checks (a smaller --count or more --shard)");
        }
    }
    Progress progress(size_t(schedule.size()));
    const ProgressReporter reporter;
    // Workers take checks in order from the schedule; each outcome lands at its check's
    // position, so reports, tables, JUnit and JSON are the same for any thread count (only
    // the live order of failure reports may differ). The first error that is not a check's
    // result (running out of memory) stops every worker and ends the run with it.
    std::mutex lock;
    size_t taken = 0, done = 0;
    std::exception_ptr error;
    auto work = [&] {
        set_threads(1);  // one OpenMP thread inside each check (impl/core/threads.hpp)
        for (;;) {
            Item it;
            size_t k = 0;
            {
                const std::lock_guard<std::mutex> guard(lock);
                if (error || !schedule.next(it)) return;
                k = taken++;
            }
            const auto start = std::chrono::steady_clock::now();
            CheckResult r;
            try {
                r = it.golden_case ? golden::run_case(*it.golden_case, *it.variant, it.dtype)
                                   : run_check(*it.variant, it.spec);
            } catch (...) {
                const std::lock_guard<std::mutex> guard(lock);
                if (!error) error = std::current_exception();
                return;
            }
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const std::lock_guard<std::mutex> guard(lock);
            if (keep_records)
                records[k] = {it.variant->name(), it.group,           it.name,          it.evidence(),
                              r.status,              r.detail,           seconds,          r.max_abs_error,
                              r.max_rel_error,       r.max_bound_use};
            Row& row = rows[it.variant->name()][it.group];
            row.evidence = it.evidence();
            row.tally.add(r.status);
            total.add(r.status);
            if (r.status == Status::passed) ++passed_by[it.evidence()];
            if (r.status == Status::failed) {
                progress.clear();
                std::cout << r.detail << "\n" << std::flush;
            }
            progress.update(++done, total, it);
        }
    };
    std::vector<std::thread> pool;
    for (int64_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();
    progress.clear();
    if (error) std::rethrow_exception(error);
    int width = 10;  // the variant column, wide enough for a plugin's longer names
    for (const auto& [variant, groups] : rows) width = std::max(width, int(variant.size()));
    std::printf("%-*s %-32s %-9s %8s %8s %8s\n", width, "variant", "checks", "evidence", "passed", "failed", "skipped");
    for (const auto& [variant, groups] : rows)
        for (const auto& [group, row] : groups)
            std::printf("%-*s %-32s %-9s %8lld %8lld %8lld\n", width, variant.c_str(), group.c_str(), to_string(row.evidence),
                        (long long)row.tally.passed, (long long)row.tally.failed, (long long)row.tally.skipped);
    // What the passes are worth: a self check passing says only that naive wrote every element
    // of its outputs and nothing around them.
    std::printf("evidence of the passed: %lld against golden values, %lld against the naive reference, "
                "%lld self (naive against itself: guards and poison only)\n",
                (long long)passed_by[Evidence::golden], (long long)passed_by[Evidence::reference],
                (long long)passed_by[Evidence::self]);
    reports.write("--junit", [&] { return junit_text(records, total); });
    reports.write("--json", [&] { return json_text(records, total); });
    print_closing(total);
    // A failure's 1 first, then a lost report's 2, then the empty run's rule.
    if (const int written = exit_status(total.failed > 0, reports.all_written()); written != 0) return written;
    return exit_status(total, allow_empty, what_ran, "in --json and --junit reports");
}

}  // namespace

const Command kRun{"run", "the conformance run: every variant on every golden case and the named problem table",
    "usage: convconf run [--plugin PATH [--isolate]]... [--worker CMD]... [--worker-timeout SECONDS]\n"
    "                    [--variant NAME]... [--op conv2d|maxpool2d|im2col|col2im] [--golden DIR]\n"
    "                    [--seed N] [--count N] [--shard I/N] [--threads N] [--junit FILE] [--json FILE]\n"
    "                    [--list] [--allow-empty]\n"
    "  Every registered variant (or each --variant) on every golden case (golden/, or the\n"
    "  files of DIR) at each of its dtypes, on the named problem table (every op and pass,\n"
    "  f32 and f64, all layouts, integer and float data) and on a deterministic sweep of\n"
    "  --count generated problems (default 200) drawn from --seed (default 1), each against\n"
    "  the naive reference (onednn's checks compare naive's results with oneDNN's too).\n"
    "  --shard I/N runs every N-th check starting at the I-th: the N shards together are the\n"
    "  whole run. --threads N runs N checks at a time (the results are the same for any N).\n"
    "  --junit and --json write one record per check (each FILE is checked before the run;\n"
    "  replaced atomically after it).\n"
    "  Prints each failure's report and repro line, a table per variant whose evidence column\n"
    "  says what each row's passes are worth (golden: against golden values; reference:\n"
    "  against naive; self: naive against itself, which fails only on an out-of-bounds write\n"
    "  or an unwritten element; the same field in --json and --junit), and\n"
    "  'N passed, M failed, K skipped'. Exit 1 on any failure, 2 on bad usage, when memory\n"
    "  runs out, when a report could not be written and no check failed (a failure's 1\n"
    "  wins), or when nothing was checked (an empty shard, every check skipped, a --golden\n"
    "  DIR without golden files) unless --allow-empty. --count is at most 2^40; the sweep is\n"
    "  computed check by check, so a shard's memory does not grow with --count.\n"
    CONVCONF_OUTSIDE_VARIANTS_HELP
    "examples:\n"
    "  convconf run\n"
    "  convconf run --variant strided --op maxpool2d --junit report.xml\n"
    "  convconf run --seed 7 --count 5000 --shard 3/8     # one machine of a soak matrix\n"
    "  convconf run --golden ../other-project/golden --list\n",
    cmd_run};

}  // namespace convconf::cli
