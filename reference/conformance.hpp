// One check: one variant, one op and pass, one dtype, one problem in one layout, one data
// fill. Builds deterministic inputs, hands the variant poisoned outputs, computes the
// expected result with the naive reference in double, and compares.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <new>
#include <stdexcept>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "impl/core/problem.hpp"
#include "impl/core/variant.hpp"
#include "reference/compare.hpp"
#include "reference/data.hpp"
#include "reference/expected.hpp"

namespace convconf {

struct CheckSpec {
    Op op = Op::conv2d;
    Pass pass = Pass::forward;
    DType dtype = DType::f32;
    // One meaning: the direction has its bias tensor, the row of the direction table with
    // bias set (direction_of()). That tensor is an input in forward (b: FWD_B, not FWD_D)
    // and an output in backward_weights (db: BWD_WB, not BWD_W); the table says which.
    // Ignored where the op and pass have no bias tensor.
    bool bias = false;
    // The problem with its layouts. Its WindowProblem part is the problem of maxpool2d,
    // im2col and col2im; oc and weights_layout matter to conv2d only.
    ConvProblem problem;
    Fill fill = Fill::integers;
    uint64_t seed = 1;
};

// Throws ProblemError (naming the field) for an invalid problem, std::invalid_argument for a
// pass the op lacks or a fill the op does not take. Nothing is computed before this passes.
void validate(const CheckSpec&);

// The check's row of the direction table (impl/core/call.hpp).
const Direction& direction_of(const CheckSpec&);
// The call the check makes, without its tensors: what Variant::unsupported(),
// workspace_bytes() and implementation_info() see. nan_data: the inputs hold NaN or
// infinities (fill special, or a golden case's).
Call call_of(const CheckSpec&, bool nan_data);

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
    double max_bound_use = 0;  // the largest share of its bound an element used (Comparison)
};

// Throws OutOfMemory when a check cannot get the memory it needs (see there); any other
// exception the variant throws is its failed result.
CheckResult run_check(const Variant&, const CheckSpec&);

// A check could not get its memory: an allocation the harness makes (the inputs, the
// poisoned outputs with their guards, the reference's tensors, the comparison's bounds), or
// the variant's own inside its run. Not a verdict on the variant but on the environment
// (convconf exits 2): what() names what was being allocated, its size, and the problem.
// The variant's own counts too: the harness cannot tell a variant that asks for too much
// from a machine (or a ulimit) that grants too little, so it blames neither the variant's
// results nor passes it; the message gives the variant's declared workspace to judge by.
struct OutOfMemory : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Runs `allocate`, an allocation the harness makes for check `spec` (`what`: "x", "the
// reference's tensors"), turning std::bad_alloc into OutOfMemory naming it.
[[noreturn]] void throw_out_of_memory(const std::string& what, const std::bad_alloc&, const CheckSpec& spec);
// The variant's own allocation failed while it ran `spec`: OutOfMemory saying so.
[[noreturn]] void throw_variant_out_of_memory(const Variant&, const CheckSpec& spec, const std::bad_alloc&);
template <class F>
auto harness_allocation(const std::string& what, const CheckSpec& spec, F&& allocate) -> decltype(allocate()) {
    try {
        return allocate();
    } catch (const std::bad_alloc& e) {
        throw_out_of_memory(what, e, spec);
    }
}

// ---- The steps of a check, shared by generated checks and golden cases ----------------

// Tensors by their contract name: Inputs (reference/expected.hpp).

// The same tensors in another element type (a golden case's double inputs at the dtype
// under test; the variant's inputs back in double for the reference).
template <class To, class From>
Inputs<To> convert(const Inputs<From>& in) {
    Inputs<To> out;
    for (const auto& [name, t] : in) out.emplace(name, t.template cast<To>());
    return out;
}

template <class T>
struct Outputs {
    std::map<std::string, Tensor<T>, std::less<>> tensors;
    Tensor<int64_t> argmax;  // maxpool2d forward only (integer, so kept apart)
    // What the variant did outside its outputs' values: writes into the guard regions
    // around an output, elements it never wrote. Each names the output and where.
    std::vector<std::string> violations;
    // Optional outputs the variant said it left out (Call::leave_out): neither inspected nor
    // compared, and the check's detail says so.
    std::set<std::string, std::less<>> left_out;

    // Storage-order shape of the output called `name`.
    const std::vector<int64_t>& shape(std::string_view name) const;
};

// The inputs run_check generates for `spec`: each tensor filled by (spec.seed, its name),
// integers small enough that every sum the op forms stays exact in spec.dtype.
template <class T>
Inputs<T> generated_inputs(const CheckSpec& spec);

// Fresh outputs of spec's direction, every element poisoned and guard regions around each
// (the harness's allocations: running out of memory is OutOfMemory naming the output).
template <class T>
Outputs<T> poisoned_outputs(const CheckSpec&);
// spec's call with `in` and `out` bound; both must outlive it and stay where they are.
template <class T>
Call bound_call(const CheckSpec&, const Inputs<T>& in, Outputs<T>& out, bool nan_data = false);

// Hands the variant `inputs` and freshly poisoned outputs in one Call of spec's direction
// (spec.bias: conv2d forward gets b, backward_weights computes db). The problem must have
// passed validate(); inputs must have the problem's shapes.
template <class T>
Outputs<T> invoke(const Variant&, const CheckSpec&, const Inputs<T>&);
// The same, telling the variant whether the inputs hold NaN or infinities (Call::nan_data;
// the overload above says so for fill special).
template <class T>
Outputs<T> invoke(const Variant&, const CheckSpec&, const Inputs<T>&, bool nan_data);

// Every output of spec's op and pass as the naive reference computes it in double from
// `inputs`, with the sum|terms| its error bound is derived from (expect()).
Expectations reference_outputs(const CheckSpec&, const Inputs<double>&);
// The same from the inputs the variant received, as a check computes it: converted to
// double, watched by a progress::Task ("reference (naive, f64) conv2d FWD_B mb2ic3..."),
// and running out of memory is OutOfMemory.
template <class T>
Expectations reference_of(const CheckSpec&, const Inputs<T>&);

struct Tolerance {
    double abs = 0, rel = 0;  // element passes when |got-want| <= abs + rel*|want|
};

// How far an output may be from its expected value. A tolerance replaces everything else;
// otherwise copies and selections (no sum|terms|) compare exactly, and so does an output of
// integer inputs whose every sum|terms| is at most 2^p (all its partial sums are exact
// integers), or for average pooling at most 2^p / its largest divisor where every divisor
// is a power of two (Expected::exact_divisor); the rest is held to derived_bound().
struct Allowance {
    bool integer_data = false;
    std::optional<Tolerance> tolerance;
};

// The report header every comparison of this variant on this spec shares (the output name
// and the repro line are the caller's). nan_data: the inputs hold NaN or infinities.
ReportContext report_context(const Variant&, const CheckSpec&, bool nan_data);

// Compares each output named in `expected` with the variant's (after reporting any
// out-of-bounds write or unwritten element in out.violations), adding the outcome (errors,
// status, mismatch reports) to `result`.
template <class T>
void compare_outputs(const Outputs<T>&, const Expectations& expected, const Allowance&,
                     const ReportContext&, CheckResult& result);

// Adds one comparison's outcome to `result`.
void add_comparison(const Comparison&, CheckResult& result);

// The failed result of a variant that threw instead of returning.
CheckResult variant_threw(const ReportContext&, const std::exception&);

// Who agrees with whom on one check, when variants disagree (ruy's test.h: "these paths
// all agree with each other"). Each variant that runs the check is run once more on its
// generated inputs; two agree when every output element of one is within twice the
// allowed error of the other's (each may lie up to the bound from the exact result;
// exactly equal where the comparison is exact, NaN where the other is NaN). Groups in the
// variants' order, each variant in the first group whose first member it agrees with; a
// variant that threw or declined the check is in no group.
std::vector<std::vector<const Variant*>> agreement(const std::vector<const Variant*>&, const CheckSpec&);
// "naive, im2col and strided agree with each other; onednn with none of them"
std::string agreement_text(const std::vector<std::vector<const Variant*>>&);

// The conformance plan: the named problem table (conformance.cpp) expanded over every op
// and pass, both dtypes, layouts and the data fills that exercise each.
std::vector<CheckSpec> default_plan();

}  // namespace convconf
