// convconf run: the conformance run: every variant on every golden case and the named problem table
#include <unistd.h>

#include <atomic>
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
#include "impl/core/registry.hpp"
#include "impl/core/threads.hpp"
#include "reference/conformance.hpp"
#include "reference/golden/golden.hpp"
#include "reference/sweep.hpp"

#include <nlohmann/json.hpp>
#include "tools/cli.hpp"

namespace convconf::cli {
namespace {

// One check of the run: a variant on a golden case at one dtype, or on a generated spec.
struct Item {
    const Variant* variant = nullptr;
    const golden::File* file = nullptr;  // golden case when set
    const golden::Case* golden_case = nullptr;
    DType dtype = DType::f32;
    CheckSpec spec;     // generated check otherwise
    std::string group;  // summary row: "golden conv2d forward", "conv2d FWD_B", "sweep conv2d FWD_B"
    std::string name;   // readable and unique within the group
};

struct Outcome {
    Status status;
    std::string detail;
    double seconds;
};

// "I/N" with 1 <= I <= N.
std::pair<int64_t, int64_t> parse_shard(const std::string& text) {
    const size_t slash = text.find('/');
    try {
        if (slash != std::string::npos) {
            size_t a = 0, b = 0;
            const int64_t i = std::stoll(text.substr(0, slash), &a), n = std::stoll(text.substr(slash + 1), &b);
            if (a == slash && b == text.size() - slash - 1 && n >= 1 && i >= 1 && i <= n) return {i, n};
        }
    } catch (const std::exception&) {
    }
    throw UsageError("--shard: \"" + text + "\" is not I/N with 1 <= I <= N (e.g. 2/4)");
}

int64_t parse_count(const std::string& flag, const std::string& text) {
    try {
        size_t used = 0;
        const long long v = std::stoll(text, &used);
        if (used == text.size() && v >= 0) return v;
    } catch (const std::exception&) {
    }
    throw UsageError(flag + ": \"" + text + "\" is not a whole number >= 0");
}

std::string xml_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default:
                // XML 1.0 forbids most control characters; keep tabs and newlines.
                if (uint8_t(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') out += '?';
                else out += c;
        }
    }
    return out;
}

std::string junit_text(const std::vector<Item>& items, const std::vector<Outcome>& outcomes, const Tally& total) {
    std::ostringstream out;
    double seconds = 0;
    for (const Outcome& o : outcomes) seconds += o.seconds;
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<testsuites name=\"convconf run\" tests=\"" << outcomes.size() << "\" failures=\"" << total.failed
        << "\" skipped=\"" << total.skipped << "\" time=\"" << seconds << "\">\n"
        << "  <testsuite name=\"convconf\" tests=\"" << outcomes.size() << "\" failures=\"" << total.failed
        << "\" skipped=\"" << total.skipped << "\" time=\"" << seconds << "\">\n";
    for (size_t k = 0; k < outcomes.size(); ++k) {
        const Item& it = items[k];
        const Outcome& o = outcomes[k];
        out << "    <testcase classname=\"" << xml_escape(it.variant->name() + "." + it.group) << "\" name=\""
            << xml_escape(it.name) << "\" time=\"" << o.seconds << "\"";
        if (o.status == Status::passed) {
            out << "/>\n";
            continue;
        }
        out << ">\n";
        const std::string first_line = o.detail.substr(0, o.detail.find('\n'));
        if (o.status == Status::failed)
            out << "      <failure message=\"" << xml_escape(first_line) << "\">" << xml_escape(o.detail)
                << "</failure>\n";
        else
            out << "      <skipped message=\"" << xml_escape(first_line) << "\"/>\n";
        out << "    </testcase>\n";
    }
    out << "  </testsuite>\n</testsuites>\n";
    return out.str();
}

std::string json_text(const std::vector<Item>& items, const std::vector<Outcome>& outcomes, const Tally& total) {
    nlohmann::ordered_json checks = nlohmann::ordered_json::array();
    for (size_t k = 0; k < outcomes.size(); ++k)
        checks.push_back({{"variant", items[k].variant->name()},
                          {"group", items[k].group},
                          {"name", items[k].name},
                          {"status", to_string(outcomes[k].status)},
                          {"seconds", outcomes[k].seconds},
                          {"detail", outcomes[k].detail}});
    const nlohmann::ordered_json doc = {{"passed", total.passed},
                                        {"failed", total.failed},
                                        {"skipped", total.skipped},
                                        {"checks", std::move(checks)}};
    // Invalid UTF-8 in a report is replaced, not thrown: the report is still written.
    return doc.dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

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
    const std::filesystem::path dir = args.value("--golden", golden::default_directory().string());
    const std::string op_text = args.value("--op", "");
    const uint64_t seed = uint64_t(parse_count("--seed", args.value("--seed", "1")));
    const int64_t count = parse_count("--count", args.value("--count", "200"));
    const auto [shard, shards] = parse_shard(args.value("--shard", "1/1"));
    Reports reports(args, {"--junit", "--json"});
    const int64_t threads = parse_count("--threads", args.value("--threads", "1"));
    if (threads < 1 || threads > 256) throw UsageError("--threads: must be from 1 to 256");
    if (!args.positional().empty()) throw UsageError("run takes no positional arguments");
    const bool filter_op = !op_text.empty();
    const Op only_op = filter_op ? parse_op(op_text, "--op") : Op::conv2d;
    reports.check();  // a report that cannot be written is an error now, not after every check

    std::vector<golden::File> files;
    for (const auto& path : golden::list_files(dir))
        files.push_back(golden::load_file(path, golden::display_name(dir, path)));
    const auto plan = default_plan();
    const auto sweep = sweep_plan(seed, count);

    // Every check in a fixed order; shard I of N takes every N-th, so the shards' union is
    // the whole run and no check runs twice.
    std::vector<Item> items;
    int64_t index = 0;
    auto add = [&](Item it, Op op) {
        if (filter_op && op != only_op) return;
        if (index++ % shards == shard - 1) items.push_back(std::move(it));
    };
    for (const Variant* v : chosen) {
        for (const golden::File& f : files)
            for (const golden::Case& c : f.cases)
                for (DType dt : c.dtypes)
                    add({v, &f, &c, dt, {},
                         "golden " + std::string(to_string(c.op)) + " " + std::string(to_string(c.pass)),
                         f.name + " " + c.name + " " + std::string(to_string(dt))},
                        c.op);
        for (const auto& s : plan)
            add({v, nullptr, nullptr, s.dtype, s, std::string(to_string(s.op)) + " " + direction(s), check_name(s)},
                s.op);
        for (const auto& s : sweep)
            add({v, nullptr, nullptr, s.dtype, s, "sweep " + std::string(to_string(s.op)) + " " + direction(s),
                 check_name(s) + " seed " + std::to_string(s.seed)},
                s.op);
    }
    if (list) {
        for (const Item& it : items) std::cout << it.variant->name() << "  " << it.group << "  " << it.name << "\n";
        std::cout << items.size() << " checks\n";
        return 0;
    }

    std::map<std::string, std::map<std::string, Tally>> rows;  // variant -> group -> tally
    Tally total;
    std::vector<Outcome> outcomes(items.size());
    Progress progress(items.size());
    // Workers take checks in order from a shared counter; each outcome lands at its
    // check's index, so reports, tables, JUnit and JSON are the same for any thread count
    // (only the live order of failure reports may differ).
    std::atomic<size_t> next{0};
    std::mutex lock;
    size_t done = 0;
    auto work = [&] {
        set_threads(1);  // one OpenMP thread inside each check (impl/core/threads.hpp)
        for (size_t k; (k = next++) < items.size();) {
            const Item& it = items[k];
            const auto start = std::chrono::steady_clock::now();
            const CheckResult r = it.golden_case ? golden::run_case(*it.golden_case, *it.variant, it.dtype)
                                                 : run_check(*it.variant, it.spec);
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const std::lock_guard<std::mutex> guard(lock);
            outcomes[k] = {r.status, r.detail, seconds};
            rows[it.variant->name()][it.group].add(r.status);
            total.add(r.status);
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
    std::printf("%-10s %-32s %8s %8s %8s\n", "variant", "checks", "passed", "failed", "skipped");
    for (const auto& [variant, groups] : rows)
        for (const auto& [group, t] : groups)
            std::printf("%-10s %-32s %8lld %8lld %8lld\n", variant.c_str(), group.c_str(), (long long)t.passed,
                        (long long)t.failed, (long long)t.skipped);
    reports.write("--junit", [&] { return junit_text(items, outcomes, total); });
    reports.write("--json", [&] { return json_text(items, outcomes, total); });
    print_closing(total);
    return exit_status(total.failed > 0, reports.all_written());
}

}  // namespace

const Command kRun{"run", "the conformance run: every variant on every golden case and the named problem table",
    "usage: convconf run [--variant NAME]... [--op conv2d|maxpool2d|im2col|col2im] [--golden DIR]\n"
    "                    [--seed N] [--count N] [--shard I/N] [--threads N] [--junit FILE] [--json FILE]\n"
    "                    [--list]\n"
    "  Every registered variant (or each --variant) on every golden case (golden/, or the\n"
    "  files of DIR) at each of its dtypes, on the named problem table (every op and pass,\n"
    "  f32 and f64, all layouts, integer and float data) and on a deterministic sweep of\n"
    "  --count generated problems (default 200) drawn from --seed (default 1), each against\n"
    "  the naive reference (onednn's checks compare naive's results with oneDNN's too).\n"
    "  --shard I/N runs every N-th check starting at the I-th: the N shards together are the\n"
    "  whole run. --threads N runs N checks at a time (the results are the same for any N).\n"
    "  --junit and --json write one record per check (each FILE is checked before the run;\n"
    "  replaced atomically after it).\n"
    "  Prints each failure's report and repro line, a table per variant, and\n"
    "  'N passed, M failed, K skipped'. Exit 1 on any failure, 2 on bad usage; 2 also when a\n"
    "  report could not be written and no check failed (a failure's 1 wins).\n"
    "examples:\n"
    "  convconf run\n"
    "  convconf run --variant strided --op maxpool2d --junit report.xml\n"
    "  convconf run --seed 7 --count 5000 --shard 3/8     # one machine of a soak matrix\n"
    "  convconf run --golden ../other-project/golden --list\n",
    cmd_run};

}  // namespace convconf::cli
