// The im2col + GEMM family: every op lowered to matrices, as the notebooks in
// ../shared/seeds/ do (000 In [90]/[91] my_im2col and my_col2im, MyPooling).
//
// The im2col op's column matrix has rows (n, oh, ow) and columns (c, i, j), in every layout.
// Convolution lowers x the same way, transposed and a block at a time (impl/core/lowering.hpp):
// for a block of output positions of one image, a (c, i, j) x positions matrix, its rows in
// the layout's own order ((c, i, j) for NCHW, (i, j, c) for NHWC) so that filling it copies
// contiguous runs of x; with a 1x1 kernel, stride 1 and no padding that matrix is x itself.
// Convolution is then one GEMM per block with the weights as an [oc x ic*kh*kw] matrix
// (OIHW for NCHW and HWIO for NHWC are that matrix already; other pairings are copied),
// backward_data a GEMM with its transpose followed by col2im, the exact adjoint of im2col,
// and backward_weights a GEMM with the lowered block summed over blocks and images.
// Max-pooling takes the maximum of each row segment of a column matrix padded with
// -infinity. Accumulation is in T throughout (f32 GEMM through oneDNN's dnnl_sgemm, f64
// through convconf's blocked GEMM), unlike the naive reference, so the comparison's derived
// bound is what holds it. Work is split into tasks fixed by the problem (parallel.hpp), so
// results do not depend on the thread count.
#pragma once

#include <memory>

#include "impl/core/variant.hpp"

namespace convconf::im2col {

// The variant "im2col". Its workspace for convolution is one lowered block per thread
// running, plus a copy of w when its layout is not the GEMM's matrix, plus, for
// backward_data, a plain copy of W^T unless W is stored transposed (NHWC with HWIO), and
// for backward_weights a partial dW per group of images but the first; for maxpool2d, one tile of the column matrix per task
// running at once (pool.hpp); im2col and col2im write straight into their outputs.
std::unique_ptr<Variant> make_variant();

}  // namespace convconf::im2col
