// oneDNN as the industrial reference: the variant `onednn` runs every conv2d and maxpool2d
// pass through Debian's libdnnl (2.6), so each other variant, naive included, is held
// against the kernels users actually run, and oneDNN against naive.
//
// f32 only (oneDNN 2.6 has no f64 convolution or pooling on CPU); no im2col/col2im; no
// NaN guarantee for max-pooling, so the contract's NaN and infinity checks are not asked
// of it. Convolutions let oneDNN choose its own layouts (format_tag::any) and reorder in
// and out, so its optimised, blocked kernels are what gets checked.
#pragma once

#include <memory>

#include "impl/core/variant.hpp"

namespace convconf::onednn {

std::unique_ptr<Variant> make_variant();

}  // namespace convconf::onednn
