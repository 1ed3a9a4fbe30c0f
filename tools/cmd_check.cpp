// convconf check: one problem, as a benchdnn descriptor, through every variant
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "impl/core/descriptor.hpp"
#include "impl/core/registry.hpp"
#include "reference/conformance.hpp"
#include "reference/golden/golden.hpp"
#include "tools/cli.hpp"

namespace convconf::cli {
namespace {

int cmd_check(Args& args) {
    const auto chosen = selected_variants(args);
    const std::string op_text = args.value("--op", "");
    const std::string dir = args.value("--dir", "");
    const std::string dtype = args.value("--dtype", "f32");
    const std::string layout = args.value("--layout", "NCHW");
    const std::string wlayout = args.value("--wlayout", "OIHW");
    const std::string fill_text = args.value("--fill", "");
    const std::string seed = args.value("--seed", "1");
    const auto pos = args.positional();
    if (pos.size() != 1) throw UsageError("check takes exactly one DESCRIPTOR");

    CheckSpec s;
    const bool has_oc = pos[0].find("oc") != std::string::npos;
    s.op = op_text.empty() ? (has_oc ? Op::conv2d : Op::maxpool2d) : parse_op(op_text, "--op");
    if (s.op == Op::conv2d) {
        s.problem = parse_conv_descriptor(pos[0]).problem;
    } else {
        static_cast<WindowProblem&>(s.problem) = parse_pool_descriptor(pos[0]).problem;
    }
    s.problem.layout = parse_layout(layout, "--layout");
    s.problem.weights_layout = parse_weights_layout(wlayout, "--wlayout");
    s.dtype = parse_dtype(dtype, "--dtype");
    apply_direction(s, dir.empty() ? (s.op == Op::conv2d ? "FWD_B" : "FWD") : dir);
    s.fill = !fill_text.empty() ? parse_fill(fill_text)
             : s.op == Op::maxpool2d ? Fill::ties : Fill::integers;
    try {
        size_t used = 0;
        s.seed = std::stoull(seed, &used);
        if (used != seed.size()) throw std::invalid_argument(seed);
    } catch (const std::exception&) {
        throw UsageError("--seed: \"" + seed + "\" is not a non-negative integer");
    }

    std::cout << check_name(s) << " seed " << s.seed << "\n";
    Tally total;
    for (const Variant* v : chosen) {
        const CheckResult r = run_check(*v, s);
        total.add(r.status);
        const int64_t workspace = v->workspace_bytes({s.op, s.pass, s.dtype, s.fill == Fill::special}, s.problem);
        std::printf("  %-10s %-8s max abs err %-12.6g max rel err %-12.6g workspace %lld bytes\n",
                    v->name().c_str(), std::string(to_string(r.status)).c_str(), r.max_abs_error,
                    r.max_rel_error, (long long)workspace);
        if (r.status != Status::passed) std::cout << r.detail;
    }
    print_closing(total);
    return total.failed ? 1 : 0;
}

}  // namespace

const Command kCheck{"check", "one problem, as a benchdnn descriptor, through every variant",
    "usage: convconf check [--variant NAME]... [--op conv2d|maxpool2d|im2col|col2im]\n"
    "                      [--dir FWD_B|FWD_D|BWD_D|BWD_W|BWD_WB (conv2d), FWD|BWD (maxpool2d)]\n"
    "                      [--dtype f32|f64] [--layout NCHW|NHWC] [--wlayout OIHW|HWIO]\n"
    "                      [--fill int|float|ties|negative|distinct|special] [--seed N] DESCRIPTOR\n"
    "  One benchdnn descriptor through every variant: the verdict, max abs and rel error\n"
    "  against naive, and the workspace of each. op defaults to conv2d when the descriptor\n"
    "  has oc, maxpool2d otherwise. benchdnn's dilation counts from 0 (dh0 = dense).\n"
    "examples:\n"
    "  convconf check mb2ic3ih5oc4kh3ph1\n"
    "  convconf check --dir BWD_D --layout NHWC --wlayout HWIO --fill float mb2ic3ih5oc4kh3ph1\n"
    "  convconf check --dir BWD --fill ties mb1ic2ih4kh2sh2\n",
    cmd_check};

}  // namespace convconf::cli
