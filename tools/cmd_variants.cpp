// convconf variants: the registered variants
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "impl/core/descriptor.hpp"
#include "reference/registry.hpp"
#include "reference/conformance.hpp"
#include "reference/golden/golden.hpp"
#include "tools/cli.hpp"

namespace convconf::cli {
namespace {

int cmd_variants(Args& args) {
    load_plugins(args);
    if (const auto extra = args.positional(); !extra.empty())
        throw UsageError("variants takes no arguments (got \"" + extra.front() + "\")");
    for (const Variant* v : variants()) std::cout << v->name() << "  " << v->description() << "\n";
    return 0;
}

}  // namespace

const Command kVariants{"variants", "the registered variants",
    "usage: convconf variants [--plugin PATH [--isolate]]... [--worker CMD]...\n"
    "  Each registered variant's name and algorithm, the variants of plugins and workers after\n"
    "  the in-tree ones.\n"
    CONVCONF_OUTSIDE_VARIANTS_HELP,
    cmd_variants};

}  // namespace convconf::cli
