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

void print_closing(const Tally& t) {
    std::printf("%lld passed, %lld failed, %lld skipped\n", (long long)t.passed, (long long)t.failed,
                (long long)t.skipped);
}

}  // namespace convconf::cli
