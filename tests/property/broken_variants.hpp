// Test-only variants, each with one bug that real implementations have had. They are
// registered only in the test binary (never in the tool's registry) to show that the
// properties catch each bug and shrink it to a small problem.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "impl/core/variant.hpp"

namespace convconf::property {

enum class Defect {
    pad_off_by_one,       // conv forward never reads the last input column (a bound off by one on one side)
    stride_swapped,       // conv forward steps rows by sw and columns by sh
    last_maximum,         // max-pool forward breaks ties toward the last maximum (>= for >)
    overlap_assigned,     // max-pool backward assigns dy where overlapping windows must accumulate
    bias_gradient_dropped,  // conv backward_weights leaves db at zero
    nhwc_as_nchw,         // conv forward indexes x as NCHW whatever its layout
    f64_accumulates_in_f32,  // conv forward at f64 rounds its accumulator to f32 after every term
    backward_data_kernel_mirrored,  // conv backward_data reads w at the mirrored tap (kh-1-i, kw-1-j)
    col2im_assigned,      // col2im assigns where overlapping taps must accumulate
    backward_weights_kernel_mirrored,  // conv backward_weights writes dw at the mirrored tap
    minus_infinity_picks_last,  // max-pool forward: a window of -inf chooses its last element of x
    pool_dilation_zero_accepted,  // max-pool backward takes dilation 0 as dense (oneDNN counts from 0)
    avg_divisor_excludes_padding,  // avg_p forward divides by the taps inside x (avg_np's divisor)
    avg_backward_excludes_padding,  // avg_p backward divides by the taps inside x (forward is right)
};

std::string to_string(Defect);
std::vector<Defect> all_defects();
// Naive everywhere except the one entry point the defect lives in.
std::unique_ptr<Variant> make_broken(Defect);
// Naive except that conv backward_data's dx is multiplied by `factor`: 0 (the gradient
// lost), -1 (its sign flipped), 2 (doubled). Named broken_backward_data_times_<factor>.
std::unique_ptr<Variant> make_backward_data_scaled(double factor);

}  // namespace convconf::property
