// What every convconf subcommand shares: argument parsing, variant selection, tallies.
#pragma once

#include <cstdint>
#include <functional>
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
    // Takes `name` off the front ("golden add ..."): true when it was the first argument.
    bool word(const std::string& name) {
        if (args_.empty() || args_.front() != name) return false;
        args_.erase(args_.begin());
        return true;
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


// --variant NAME (repeatable), or every registered variant.
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
    // Checks every file now, before any work: OutputError (exit 2) when one cannot be
    // written, or when two options name one file (the second would replace the first).
    void check();
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

// A subcommand: its name, one line for the overview, its --help text, its body.
struct Command {
    const char* name;
    const char* summary;
    const char* usage;
    int (*run)(Args&);
    // A command with subcommands ("golden add"): the one `args` names, its word taken off;
    // its usage is then what --help and a usage error show.
    const Command* (*subcommand)(Args&) = nullptr;
};

extern const Command kRun, kCheck, kGolden, kVariants, kBench;

}  // namespace convconf::cli
