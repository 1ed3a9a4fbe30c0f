#include "tools/cli.hpp"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "impl/plugin/plugin.hpp"
#include "impl/plugin/worker/worker.hpp"
#include "reference/registry.hpp"

namespace convconf::cli {
namespace {

std::string range_text(int64_t min, int64_t max) {
    if (max == std::numeric_limits<int64_t>::max()) return "an integer >= " + std::to_string(min);
    return "an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

template <class I>
bool whole_number(const std::string& text, I& value) {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

}  // namespace

int64_t parse_integer(const std::string& option, const std::string& text, int64_t min, int64_t max) {
    int64_t v = 0;
    if (!whole_number(text, v) || v < min || v > max)
        throw UsageError(option + ": \"" + text + "\" is not " + range_text(min, max));
    return v;
}

uint64_t parse_seed(const std::string& option, const std::string& text) {
    uint64_t v = 0;
    if (!whole_number(text, v))
        throw UsageError(option + ": \"" + text + "\" is not an integer from 0 to " +
                         std::to_string(std::numeric_limits<uint64_t>::max()));
    return v;
}

double parse_real(const std::string& option, const std::string& text, double min, bool exclusive,
                  const std::string& meaning) {
    // strtod would skip leading spaces and read "inf", "nan" and hexadecimal ("0x10" as 16);
    // none is a value here: only decimal digits, a point and an exponent are.
    char* end = nullptr;
    errno = 0;
    const bool decimal = !text.empty() && text.find_first_not_of("0123456789.eE+-") == std::string::npos;
    const double v = decimal ? std::strtod(text.c_str(), &end) : std::nan("");
    const bool whole = end == text.c_str() + text.size() && errno == 0;
    if (!whole || !std::isfinite(v) || v < min || (exclusive && v == min))
        throw UsageError(option + ": \"" + text + "\" is not " + meaning);
    return v;
}

bool Args::flag(const std::string& name) {
    size_t seen = 0;
    for (size_t i = 0; i < args_.size();)
        if (args_[i] == name) {
            args_.erase(args_.begin() + i);
            ++seen;
        } else {
            ++i;
        }
    if (seen > 1) throw UsageError(name + " given more than once");
    return seen == 1;
}

std::vector<std::string> Args::values(const std::string& name) {
    std::vector<std::string> out;
    for (size_t i = 0; i < args_.size();) {
        if (args_[i] != name) {
            ++i;
            continue;
        }
        if (i + 1 >= args_.size()) throw UsageError(name + " needs a value");
        if (args_[i + 1].empty()) throw UsageError(name + ": empty value (give one, or leave " + name + " out)");
        out.push_back(args_[i + 1]);
        args_.erase(args_.begin() + i, args_.begin() + i + 2);
    }
    return out;
}

bool Args::word(const std::string& name) {
    if (args_.empty() || args_.front() != name) return false;
    args_.erase(args_.begin());
    return true;
}

std::optional<std::string> Args::optional(const std::string& name) {
    auto v = values(name);
    if (v.size() > 1) throw UsageError(name + " given more than once (\"" + v[0] + "\", \"" + v[1] + "\")");
    if (v.empty()) return std::nullopt;
    return v.front();
}

std::vector<std::string> Args::positional() const {
    for (const auto& a : args_)
        if (a.rfind("--", 0) == 0) throw UsageError("unknown option " + a);
    return args_;
}

void load_plugins(Args& args) {
    const std::vector<std::string> paths = args.values("--plugin");
    const bool isolate = args.flag("--isolate");
    const std::vector<std::string> commands = args.values("--worker");
    if (const auto t = args.optional("--worker-timeout")) {
        const double seconds =
            parse_real("--worker-timeout", *t, 0, true, "a number of seconds above 0 (at most 86400)");
        if (seconds > 86400) throw UsageError("--worker-timeout: more than 86400 seconds is not a timeout");
        // Rounded up to whole milliseconds, the clock the exchanges wait by: at least 1 ms.
        worker::set_timeout(std::chrono::milliseconds(int64_t(std::ceil(1000 * seconds))));
    }
    if (isolate && paths.empty()) throw UsageError("--isolate runs the --plugin libraries in workers, and none is given");
    // Each error names where it came from: the environment's say so already.
    auto named = [](const std::string& option, const std::exception& e) {
        const std::string what = e.what();
        return std::runtime_error((what.rfind("CONVCONF_", 0) == 0 ? "" : option + ": ") + what);
    };
    try {
        convconf::load_plugins(paths, isolate);
    } catch (const std::runtime_error& e) {  // PluginError; WorkerFailure under --isolate
        throw named("--plugin", e);
    }
    try {
        convconf::load_workers(commands);
    } catch (const std::runtime_error& e) {
        throw named("--worker", e);
    }
}

std::vector<const Variant*> selected_variants(Args& args) {
    load_plugins(args);
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
        for (const Variant* have : out)
            if (have == v) throw UsageError("--variant: \"" + n + "\" given twice");
        out.push_back(v);
    }
    return out;
}

Reports::Reports(Args& args, std::initializer_list<const char*> options) {
    for (const char* option : options) {
        const std::string path = args.value(option, "");
        if (!path.empty()) given_.emplace_back(option, path);
    }
}

namespace {

// Whether two paths name one file, also where neither exists yet: their directories'
// symlinks resolved (d/r.out and r.out, with d -> .), compared as text.
bool same_file_name(const std::filesystem::path& a, const std::filesystem::path& b) {
    std::error_code ea, eb;
    const auto ca = std::filesystem::weakly_canonical(a, ea), cb = std::filesystem::weakly_canonical(b, eb);
    return ea || eb ? a == b : ca == cb;
}

}  // namespace

void Reports::check(const std::vector<std::filesystem::path>& inputs) {
    files_.clear();
    for (const auto& [option, path] : given_) {
        OutputFile file(option, path);
        std::error_code ec;
        for (const std::filesystem::path& input : inputs)
            if (!file.in_place() && std::filesystem::equivalent(file.target(), input, ec))
                throw OutputError(option + ": \"" + path + "\" is " + input.string() +
                                  ", which this command reads; a report written over it would destroy it");
        for (const OutputFile& other : files_)
            if (!file.in_place() && same_file_name(file.target(), other.target()))
                throw OutputError(option + ": \"" + path + "\" is the file " + other.option() +
                                  " writes too; give each its own");
        files_.push_back(std::move(file));
    }
}

void Reports::write(const std::string& option, const std::function<std::string()>& text) {
    for (const OutputFile& file : files_) {
        if (file.option() != option) continue;
        try {
            file.write(text());
        } catch (const std::exception& e) {
            std::fflush(stdout);
            std::fprintf(stderr, "convconf: %s\n", e.what());
            all_written_ = false;
        }
    }
}

int exit_status(bool failed, bool all_written) { return failed ? 1 : all_written ? 0 : 2; }

void print_closing(const Tally& t) {
    std::printf("%lld passed, %lld failed, %lld skipped\n", (long long)t.passed, (long long)t.failed,
                (long long)t.skipped);
}

void print_detail(const CheckResult& r) {
    if (r.detail.empty()) return;
    const bool one_line = r.detail.find('\n') == std::string::npos || r.detail.find('\n') == r.detail.size() - 1;
    if (r.status == Status::skipped && one_line) std::cout << "  reason: ";
    std::cout << r.detail;
    if (r.detail.back() != '\n') std::cout << "\n";
}

int exit_status(const Tally& t, bool allow_empty, const std::string& what_ran, const std::string& reasons) {
    if (t.failed) return 1;
    if (t.passed || allow_empty) return 0;
    std::cout << std::flush;
    const std::string why = t.skipped == 1 ? "its one check was skipped (the reason is " + reasons + ")"
                            : t.skipped ? "all " + std::to_string(t.skipped) + " checks were skipped (the reasons are " + reasons + ")"
                                        : "there was no check to run";
    std::fprintf(stderr, "convconf: nothing was checked: %s: %s; --allow-empty accepts an empty run (exit 0)\n",
                 what_ran.c_str(), why.c_str());
    return 2;
}

}  // namespace convconf::cli
