// What every convconf subcommand shares: argument parsing, variant selection, tallies.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "impl/core/variant.hpp"
#include "reference/conformance.hpp"
#include "reference/output_file.hpp"

namespace convconf::cli {

// Bad usage: exit status 2, with the subcommand's usage.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The one parser of numeric option values, so every subcommand words its errors alike
// (`--mb: "-1" is not an integer >= 1`). The whole text must be the number: no sign other
// than a leading '-', no spaces, no trailing characters; out of range is the same error.
int64_t parse_integer(const std::string& option, const std::string& text, int64_t min,
                      int64_t max = std::numeric_limits<int64_t>::max());
// A data seed: any 64-bit unsigned integer (the repro lines print them so).
uint64_t parse_seed(const std::string& option, const std::string& text);
// A finite number >= min (> min when `exclusive`); `meaning` completes "is not ...".
double parse_real(const std::string& option, const std::string& text, double min, bool exclusive,
                  const std::string& meaning);

// Pulls "--name VALUE" options off argv; everything else is positional. An option given
// an empty value is an error (nothing here means anything by ""), and so is a single-valued
// option or a flag given twice.
class Args {
public:
    Args(int argc, char** argv, int first) {
        for (int i = first; i < argc; ++i) args_.emplace_back(argv[i]);
    }
    bool flag(const std::string& name);
    // Every value of a repeatable option, in order.
    std::vector<std::string> values(const std::string& name);
    // Takes `name` off the front ("golden add ..."): true when it was the first argument.
    bool word(const std::string& name);
    // A single-valued option, or nullopt when absent.
    std::optional<std::string> optional(const std::string& name);
    std::string value(const std::string& name, const std::string& fallback) {
        return optional(name).value_or(fallback);
    }
    int64_t integer(const std::string& name, int64_t fallback, int64_t min,
                    int64_t max = std::numeric_limits<int64_t>::max()) {
        const auto text = optional(name);
        return text ? parse_integer(name, *text, min, max) : fallback;
    }
    // What remains; options nobody asked for are errors.
    std::vector<std::string> positional() const;

private:
    std::vector<std::string> args_;
};

// Loads the libraries of --plugin PATH (repeatable) after those of CONVCONF_PLUGINS (in
// workers of convconf's own under --isolate), and starts the workers of --worker 'COMMAND'
// (repeatable) after those of CONVCONF_WORKERS, with --worker-timeout SECONDS, before the
// list of variants is used; one that cannot be used is an error naming it (exit 2).
void load_plugins(Args& args);
// The plugins (load_plugins), then --variant NAME (repeatable), or every registered variant.
std::vector<const Variant*> selected_variants(Args& args);

struct Tally {
    int64_t passed = 0, failed = 0, skipped = 0;
    void add(Status s) { (s == Status::passed ? passed : s == Status::failed ? failed : skipped)++; }
};

// "N passed, M failed, K skipped", the closing line every subcommand ends with.
void print_closing(const Tally&);

// The files a subcommand writes when its work is done (run --junit, bench --csv ...).
class Reports {
public:
    // Takes each of `options` that is given (OPTION FILE) off `args`.
    Reports(Args& args, std::initializer_list<const char*> options);
    // No file was asked for.
    bool empty() const { return given_.empty(); }
    // Checks every file now, before any work: OutputError (exit 2) when one cannot be
    // written, when two options name one file (the second would replace the first), or when
    // one is a file the work reads (`inputs`: a golden file, a batch file), which a report
    // written over it would destroy.
    void check(const std::vector<std::filesystem::path>& inputs = {});
    // Writes `option`'s file, when given, with `text()`. A file that cannot be written (a
    // full disk) is said on stderr, and the subcommand goes on: its other files are still
    // written and its closing line still printed.
    void write(const std::string& option, const std::function<std::string()>& text);
    bool all_written() const { return all_written_; }

private:
    std::vector<std::pair<std::string, std::string>> given_;  // option, path
    std::vector<OutputFile> files_;                           // given_'s, once checked
    bool all_written_ = true;
};

// The exit status of work that has a verdict (checks, measurements) and writes files:
// 1 when the verdict is a failure, even if a file was lost too: what the code under test
// did is the news, and CI must not read it as a broken environment; else 2 when a file
// could not be written (a passing run whose report is missing is not a pass); else 0.
int exit_status(bool failed, bool all_written);

// A check's detail (a skip reason, a failure report) under its verdict line, indented as
// a reason when it is one line, and always ending in a newline.
void print_detail(const CheckResult&);

// The exit status of a run of checks: 1 when one failed; 2 when none was checked (none
// passed or failed: no checks, or every one skipped) unless the user said --allow-empty
// (`allow_empty`): a run that checks nothing must not look like one that passed.
// `what_ran` says what the user asked for, so the message names what to change.
// `reasons`: where the skip reasons are ("above", "in --json reports").
int exit_status(const Tally&, bool allow_empty, const std::string& what_ran, const std::string& reasons = "above");

// A subcommand: its name, one line for the overview, its --help text, its body.
// The --help text of the options that add outside variants, shared by every command that
// takes them (load_plugins).
#define CONVCONF_OUTSIDE_VARIANTS_HELP                                                                      \
    "  --plugin PATH adds a shared library's variants (the C ABI of impl/plugin/convconf_plugin.h;\n"     \
    "  CONVCONF_PLUGINS=PATH:PATH too); docs/plugins.md. --isolate runs each library in a worker\n"      \
    "  process of convconf's own, where a crash fails one check. --worker 'COMMAND' adds the variants\n" \
    "  of a program in any language, spoken to over its stdin and stdout (CONVCONF_WORKERS='CMD;CMD'\n"  \
    "  too); docs/worker-protocol.md. --worker-timeout SECONDS (default 60) fails a check whose\n"       \
    "  worker takes longer.\n"

struct Command {
    const char* name;
    const char* summary;
    const char* usage;
    int (*run)(Args&);
    // A command with subcommands ("golden add"): the one `args` names, its word taken off;
    // its usage is then what --help and a usage error show.
    const Command* (*subcommand)(Args&) = nullptr;
};

extern const Command kRun, kCheck, kGolden, kVariants, kBench, kWorker;

}  // namespace convconf::cli
