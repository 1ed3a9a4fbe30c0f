#include "tools/cli.hpp"

#include <cstdio>

#include "impl/core/registry.hpp"

namespace convconf::cli {

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

Reports::Reports(Args& args, std::initializer_list<const char*> options) {
    for (const char* option : options) {
        const std::string path = args.value(option, "");
        if (!path.empty()) given_.emplace_back(option, path);
    }
}

void Reports::check() {
    files_.clear();
    for (const auto& [option, path] : given_) {
        OutputFile file(option, path);
        for (const OutputFile& other : files_)
            if (!file.in_place() && file.target() == other.target())
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

}  // namespace convconf::cli
