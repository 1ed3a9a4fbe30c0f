// Reads an array as numpy prints it, so expected values can be pasted from a notebook:
//   [[[[13. 17. 21.]
//      [29. 33. 37.]]]]
//   array([[ 0,  1], [ 2,  3]])
//   array([1., nan, -inf], dtype=float32)
// Numbers may be separated by spaces or commas; nan, inf, -inf and -0. are accepted.
// A summarised array ("...") is refused: numpy left values out.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace convconf {

struct NumpyArray {
    std::vector<int64_t> shape;  // numpy's .shape; {} for a scalar
    std::vector<double> data;    // row-major
};

// Throws std::invalid_argument "SOURCE:LINE:COLUMN: message" for text that is not one
// rectangular numpy array.
NumpyArray parse_numpy(std::string_view text, std::string_view source = "<text>");

}  // namespace convconf
