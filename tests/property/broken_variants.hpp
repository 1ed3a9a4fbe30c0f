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
};

std::string to_string(Defect);
std::vector<Defect> all_defects();
// Naive everywhere except the one entry point the defect lives in.
std::unique_ptr<Variant> make_broken(Defect);

}  // namespace convconf::property
