// The im2col + GEMM family: every op lowered to matrices, as the notebooks in
// ../shared/seeds/ do (000 In [90]/[91] my_im2col and my_col2im, MyPooling).
//
// The lowering copies each window of x into one row of the column matrix: rows (n, oh, ow),
// columns (c, i, j), in every layout. Convolution is then one matrix product with the
// weights as an [oc x ic*kh*kw] matrix, its gradients are products with that matrix or
// with the column matrix, and col2im, the exact adjoint of im2col, carries column-shaped
// gradients back onto the image. Max-pooling takes the maximum of each row segment of a
// column matrix padded with -infinity. Accumulation is in T throughout (f32 GEMM through
// oneDNN's dnnl_sgemm, f64 through convconf's blocked GEMM), unlike the naive reference,
// so the comparison's derived bound is what holds it.
#pragma once

#include <memory>

#include "impl/core/variant.hpp"

namespace convconf::im2col {

// The variant "im2col". Its workspace is the whole column matrix of the op, plus, for HWIO
// weights, an OIHW copy of w or dw; for maxpool2d, one tile of the column matrix per task
// running at once (pool.hpp); im2col and col2im write straight into their outputs.
std::unique_ptr<Variant> make_variant();

}  // namespace convconf::im2col
