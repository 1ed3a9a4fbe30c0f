// One check: one variant, one op and pass, one dtype, one problem in one layout, one data
// fill. Builds deterministic inputs, hands the variant poisoned outputs, computes the
// expected result with the naive reference in double, and compares.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "impl/core/problem.hpp"
#include "impl/core/variant.hpp"
#include "reference/data.hpp"

namespace convconf {

struct CheckSpec {
    Op op = Op::conv2d;
    Pass pass = Pass::forward;
    DType dtype = DType::f32;
    // conv2d forward: add a bias (benchdnn FWD_B vs FWD_D); backward_weights: also compute
    // db (BWD_WB vs BWD_W). Ignored elsewhere.
    bool bias = false;
    // The problem with its layouts. Its WindowProblem part is the problem of maxpool2d,
    // im2col and col2im; oc and weights_layout matter to conv2d only.
    ConvProblem problem;
    Fill fill = Fill::integers;
    uint64_t seed = 1;
};

// The problem as a benchdnn descriptor: a conv descriptor for conv2d, a pool-style one
// (no oc) for maxpool2d, im2col and col2im.
std::string descriptor(const CheckSpec&);
// benchdnn's --dir: FWD_B FWD_D BWD_D BWD_W BWD_WB for conv2d, FWD BWD for maxpool2d, and
// FWD for im2col and col2im.
std::string direction(const CheckSpec&);
// Sets op-dependent fields of `spec` from a --dir value; throws std::invalid_argument
// naming the value when it does not belong to spec.op.
void apply_direction(CheckSpec& spec, std::string_view dir);
// "NCHW/OIHW" for conv2d, "NCHW" otherwise.
std::string layout_string(const CheckSpec&);
// A one-line command that reruns exactly this check.
std::string repro_command(const CheckSpec&, std::string_view variant);
// A stable, readable identifier: "conv2d FWD_B f32 NHWC/HWIO int mb2ic3ih5oc4kh3ph1".
std::string check_name(const CheckSpec&);

enum class Status { passed, failed, skipped };
std::string_view to_string(Status);

struct CheckResult {
    Status status = Status::passed;
    // The skip reason, or every failed output's mismatch report (or the exception a
    // variant threw), each ending in a repro line. Empty when passed.
    std::string detail;
    double max_abs_error = 0;  // over all outputs, against the reference
    double max_rel_error = 0;
};

CheckResult run_check(const Variant&, const CheckSpec&);

// The conformance plan: the named problem table (conformance.cpp) expanded over every op
// and pass, both dtypes, layouts and the data fills that exercise each.
std::vector<CheckSpec> default_plan();

}  // namespace convconf
