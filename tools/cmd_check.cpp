// convconf check: one problem, as a benchdnn descriptor, through every variant
#include <cctype>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "impl/core/descriptor.hpp"
#include "reference/registry.hpp"
#include "reference/batch.hpp"
#include "reference/conformance.hpp"
#include "reference/golden/golden.hpp"
#include "tools/cli.hpp"
#include "tools/progress.hpp"

namespace convconf::cli {
namespace {

// The settings a problem is checked with: the command line's, overridden per batch entry.
struct Settings {
    std::string op, dir, dtype, layout, wlayout, fill, seed, mb, alg;
};

// A descriptor is a convolution when it has oc; a pool descriptor parsed as a convolution
// fails on exactly that token, or on a pooling's own (ceil1), so the parser itself decides
// (a name containing "oc" does not).
Op descriptor_op(const std::string& text) {
    try {
        parse_conv_descriptor(text);
        return Op::conv2d;
    } catch (const DescriptorError& e) {
        if (e.token() == "oc" || e.token().rfind("ceil", 0) == 0) return Op::maxpool2d;
        throw;
    }
}

std::string lower(std::string text) {
    for (char& c : text) c = char(std::tolower(uint8_t(c)));
    return text;
}
CheckSpec make_spec(const std::string& descriptor, const Settings& o) {
    CheckSpec s;
    s.op = o.op.empty() ? descriptor_op(descriptor) : parse_op(o.op, "--op");
    // --alg names the pooling: max is maxpool2d's, avg_p and avg_np avgpool2d's; without
    // --op it picks the op of a pool descriptor.
    std::optional<PoolAlg> alg;
    if (!o.alg.empty()) alg = parse_pool_alg(o.alg, "--alg");
    if (alg && o.op.empty() && s.op == Op::maxpool2d && is_average(*alg)) s.op = Op::avgpool2d;
    if (s.op == Op::avgpool2d && !alg)
        throw UsageError("--op avgpool2d needs --alg avg_p (padding counts in the divisor) or avg_np");
    if (alg && s.op != Op::maxpool2d && s.op != Op::avgpool2d)
        throw UsageError("--alg " + o.alg + ": " + std::string(to_string(s.op)) + " is not a pooling");
    if (alg && is_average(*alg) != (s.op == Op::avgpool2d))
        throw UsageError("--alg " + o.alg + " is not an algorithm of " + std::string(to_string(s.op)) +
                         (s.op == Op::avgpool2d ? " (avg_p or avg_np)" : " (max)"));
    if (s.op == Op::conv2d)
        s.problem = parse_conv_descriptor(descriptor).problem;
    else
        static_cast<WindowProblem&>(s.problem) = parse_pool_descriptor(descriptor).problem;
    if (alg) s.problem.alg = *alg;
    if (!o.mb.empty()) {
        s.problem.mb = parse_integer("--mb", o.mb, 1);
        s.problem.validate();
    }
    s.problem.layout = parse_layout(o.layout, "--layout");
    s.problem.weights_layout = parse_weights_layout(o.wlayout, "--wlayout");
    s.dtype = parse_dtype(o.dtype, "--dtype");
    // benchdnn's FWD_I (inference) computes what forward training does: FWD_B for conv, FWD for pool.
    const std::string dir = o.dir.empty() || o.dir == "FWD_I" ? (s.op == Op::conv2d ? "FWD_B" : "FWD") : o.dir;
    apply_direction(s, dir);
    s.fill = !o.fill.empty() ? parse_fill(o.fill, "--fill") : s.op == Op::maxpool2d ? Fill::ties : Fill::integers;
    validate(s);  // the pooling fields against the op
    s.seed = parse_seed("--seed", o.seed);
    return s;
}

// One problem through every chosen variant: verdict, what it was checked against, errors
// against naive, workspace. naive is the reference, so its row is naive against itself
// ("self"): its f32 result is checked against its own double one, its guard regions and
// poison; only golden cases (convconf run) check its values from outside.
void check_one(const CheckSpec& s, const std::vector<const Variant*>& chosen, Tally& total) {
    std::cout << check_name(s) << " seed " << s.seed << std::endl;  // what runs, before a long wait
    bool failed = false;
    int width = 10;  // the names column, wide enough for a plugin's longer names
    for (const Variant* v : chosen) width = std::max(width, int(v->name().size()));
    for (const Variant* v : chosen) {
        const CheckResult r = run_check(*v, s);
        total.add(r.status);
        failed = failed || r.status == Status::failed;
        const int64_t workspace = v->workspace_bytes(call_of(s, s.fill == Fill::special));
        std::printf("  %-*s %-8s %-9s  max abs err %-12.6g max rel err %-12.6g workspace %lld bytes\n",
                    width, v->name().c_str(), std::string(to_string(r.status)).c_str(),
                    v == &naive_variant() ? "self" : "reference", r.max_abs_error,
                    r.max_rel_error, (long long)workspace);
        print_detail(r);
        std::fflush(stdout);  // each verdict as it comes: the next variant may take long
    }
    // Who agrees with whom, when some variant failed: the naive reference may be the one
    // alone (then the other variants' agreement is the evidence to weigh).
    if (failed && chosen.size() > 1) std::printf("  agreement: %s\n", agreement_text(agreement(chosen, s)).c_str());
}

int cmd_check(Args& args) {
    const auto chosen = selected_variants(args);
    Settings base{args.value("--op", ""),       args.value("--dir", ""),    args.value("--dtype", "f32"),
                  args.value("--layout", "NCHW"), args.value("--wlayout", "OIHW"), args.value("--fill", ""),
                  args.value("--seed", "1"),     args.value("--mb", ""),     args.value("--alg", "")};
    const auto batches = args.values("--batch");
    const bool allow_empty = args.flag("--allow-empty");
    const auto descriptors = args.positional();
    if (descriptors.empty() && batches.empty()) throw UsageError("check needs a DESCRIPTOR or --batch FILE");
    // Settings that apply to every problem are checked now, before any batch file is read
    // and whether or not a problem follows: a bad --seed is an error even for an empty batch.
    parse_seed("--seed", base.seed);
    if (!base.mb.empty()) parse_integer("--mb", base.mb, 1);
    if (!base.fill.empty()) parse_fill(base.fill, "--fill");

    const ProgressReporter reporter;
    Tally total;
    for (const std::string& d : descriptors) check_one(make_spec(d, base), chosen, total);
    // Batch entries carry benchdnn options; those convconf follows override the command
    // line's (but an --mb given on the command line overrides the batch's), the rest are
    // named once and ignored.
    std::set<std::string> ignored;
    for (const std::string& file : batches)
        for (const BatchEntry& e : read_batch(file)) {
            Settings o = base;
            for (const auto& [name, value] : e.options) {
                if (name == "dir") o.dir = value;
                else if (name == "mb") o.mb = !base.mb.empty() ? base.mb : value == "0" ? "" : value;  // ours wins; benchdnn's 0 = as written
                else if (name == "alg") o.alg = value;
                else if (name == "cfg" || name == "dt") o.dtype = value;
                else if ((name == "tag" || name == "stag") && (lower(value) == "nhwc" || value == "axb")) o.layout = "NHWC";
                else if ((name == "tag" || name == "stag") && (lower(value) == "nchw" || value == "abx")) o.layout = "NCHW";
                else ignored.insert("--" + name + "=" + value);
            }
            try {
                check_one(make_spec(e.descriptor, o), chosen, total);
            } catch (const std::exception& err) {
                throw std::invalid_argument(e.location() + ": " + err.what());
            }
        }
    for (const std::string& name : ignored)
        std::printf("note: benchdnn option %s is not one convconf follows; ignored\n", name.c_str());
    print_closing(total);
    std::string asked;
    for (const std::string& d : descriptors) asked += (asked.empty() ? "" : ", ") + ("descriptor " + d);
    for (const std::string& b : batches) asked += (asked.empty() ? "" : ", ") + ("--batch " + b);
    return exit_status(total, allow_empty, asked);
}

}  // namespace

const Command kCheck{"check", "one problem, as a benchdnn descriptor, through every variant",
    "usage: convconf check [--plugin PATH [--isolate]]... [--worker CMD]... [--worker-timeout SECONDS]\n"
    "                      [--variant NAME]... [--op conv2d|maxpool2d|avgpool2d|im2col|col2im]\n"
    "                      [--dir FWD_B|FWD_D|BWD_D|BWD_W|BWD_WB (conv2d), FWD|BWD (poolings)]\n"
    "                      [--alg max|avg_p|avg_np] [--dtype f32|f64] [--layout NCHW|NHWC]\n"
    "                      [--wlayout OIHW|HWIO]\n"
    "                      [--fill int|float|ties|negative|distinct|special] [--seed N] [--mb N]\n"
    "                      [--batch FILE]... [--allow-empty] [DESCRIPTOR]...\n"
    "  Each benchdnn descriptor (and each of a benchdnn batch file: one descriptor a line, #\n"
    "  comments, --dir= --mb= --alg= --tag= --cfg= honoured) through every variant: the verdict,\n"
    "  the evidence (reference: against naive; self: naive's own row, its f32 against its f64),\n"
    "  max abs and rel error, and the workspace of each. op defaults to conv2d when the\n"
    "  descriptor has oc, else maxpool2d, or avgpool2d with --alg avg_p (the padding counts in\n"
    "  the divisor) or avg_np (it does not). ceil1 in a pool descriptor is ceil mode (convconf's\n"
    "  token; benchdnn has none). benchdnn's dilation counts from 0 (dh0 = dense). Exit 0 all passed, 1 a check failed, 2 bad usage or input, or nothing\n"
    "  checked (no problem in the batch files, or every check skipped) unless --allow-empty.\n"
    CONVCONF_OUTSIDE_VARIANTS_HELP
    "examples:\n"
    "  convconf check mb2ic3ih5oc4kh3ph1\n"
    "  convconf check --dir BWD_D --layout NHWC --wlayout HWIO --fill float mb2ic3ih5oc4kh3ph1\n"
    "  convconf check --dir BWD --alg max --fill ties mb1ic2ih4kh2sh2 mb2ic3ih7kh3sh2\n"
    "  convconf check --alg avg_np mb2ic3ih7kh3sh2ph1ceil1\n"
    "  convconf check --mb 1 --batch reference/benchdnn/shapes_resnet_50_pool\n",
    cmd_check};

}  // namespace convconf::cli
