// Comparison of a variant's output with the expected one, and the report that explains it.
//
// Two modes. Exact: every element must equal the expected value (integer data with exact
// sums, copies, selections). Bound: |got - want| <= bound per element, the bound derived
// from the problem (expected.hpp), never a magic constant. In both, an expected NaN must be
// NaN and an expected infinity the same infinity; NaN where a number was expected (an
// element left poisoned, say) always fails.
#pragma once

#include <cstdint>
#include <string>

#include "impl/core/tensor.hpp"
#include "impl/core/types.hpp"

namespace convconf {

// Who is being compared, for the report.
struct ReportContext {
    Op op = Op::conv2d;
    Pass pass = Pass::forward;
    std::string variant;
    DType dtype = DType::f32;
    std::string layout;      // e.g. "NHWC/HWIO"
    std::string problem;     // the problem as a descriptor
    std::string output;      // which output: "y", "dx", "dw", "db", "argmax", "col", "x"
    std::string repro;       // one command line that reruns this check
    std::string note;        // anything else worth knowing (e.g. the data fill)
    // Where bound mode's per-element bound comes from, for the report.
    std::string bound_rule = "(gamma_n(u)+gamma_n(u_f64))*sum|terms|";
};

struct Comparison {
    bool ok = true;
    int64_t checked = 0;
    int64_t bad = 0;
    double max_abs_error = 0;  // over finite pairs
    double max_rel_error = 0;
    // Bound mode: the largest |got-want| / bound over finite pairs with a bound above 0, the
    // share of its bound the worst element used (above 1: it failed). 0 in exact mode.
    double max_bound_use = 0;
    std::string report;        // empty when ok
};

// bound == nullptr: exact mode. Otherwise bound has want's shape and order (std::logic_error
// if not: reading it would go out of bounds).
template <class T>
Comparison compare(const Tensor<T>& got, const Tensor<double>& want, const Tensor<double>* bound,
                   const ReportContext& ctx, int max_shown = 5);

// Only the shape (storage order) is asserted: a golden case whose notebook printed a shape.
Comparison compare_shape(const std::vector<int64_t>& got, const std::vector<int64_t>& want,
                         const ReportContext& ctx);

}  // namespace convconf
