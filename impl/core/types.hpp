// Small vocabulary shared by every part of convconf: layouts, dtypes, ops and passes,
// with their spellings in the golden-file contract (../shared/golden-format.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace convconf {

// Axis order of activations (x, y, dx, dy).
enum class Layout { nchw, nhwc };
// Axis order of weights (w, dw).
enum class WeightsLayout { oihw, hwio };
enum class DType { f32, f64 };

// avgpool2d is version 1.1's; it comes last so that the others keep their values.
enum class Op { conv2d, maxpool2d, im2col, col2im, avgpool2d };
// The contract's pass names. conv2d uses forward, backward_data, backward_weights;
// maxpool2d and avgpool2d use forward and backward; im2col and col2im only forward.
enum class Pass { forward, backward_data, backward_weights, backward };

std::string_view to_string(Layout);
std::string_view to_string(WeightsLayout);
std::string_view to_string(DType);
std::string_view to_string(Op);
std::string_view to_string(Pass);

// Parsers accept the contract's spelling, case-insensitively ("NCHW", "nchw").
// They throw std::invalid_argument naming `what` and listing the accepted values.
Layout parse_layout(std::string_view text, std::string_view what = "layout");
WeightsLayout parse_weights_layout(std::string_view text, std::string_view what = "weights_layout");
DType parse_dtype(std::string_view text, std::string_view what = "dtype");
Op parse_op(std::string_view text, std::string_view what = "op");
Pass parse_pass(std::string_view text, std::string_view what = "pass");

// True when `pass` is one of the passes the contract defines for `op` (a row of the
// direction table, impl/core/call.hpp).
bool is_valid_pass(Op op, Pass pass);

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };

// Unit roundoff u = 2^-p of the dtype (p = 24 for f32, 53 for f64).
double unit_roundoff(DType);
// Mantissa digits p: integers up to 2^p are exact in the dtype.
int mantissa_digits(DType);

}  // namespace convconf
