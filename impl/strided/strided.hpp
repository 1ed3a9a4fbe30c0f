// The strided-slice variant: shift-and-accumulate over kernel taps (the notebooks'
// `img[:, :, y:y_max:stride, x:x_max:stride]` idiom made an algorithm of its own).
//
// For tap (i, j), output position (oh, ow) reads x at (oh*sh - pt + i*dh, ow*sw - pl + j*dw):
// over the output grid that is a strided slice of the padded input. Every op loops over the
// taps in row-major order and, per tap, over the slice's positions that lie inside x (the
// rest are padding: they contribute zero to conv and are never chosen by pooling):
//   conv forward           y          += W[:,:,i,j] * slice      (one GEMM per block)
//   conv backward_data     slice       = W[:,:,i,j]^T * dy, then added into dx
//   conv backward_weights  dW[:,:,i,j] = sum over images and blocks of dy * slice^T
//   maxpool                a running max and argmax across taps; backward scatters dy into
//                          the slice of the chosen tap (pool.hpp)
//   im2col / col2im        the slice fills (adds back) column (c, i, j) of every row
// Convolution works on blocks of output positions of one image (impl/core/lowering.hpp),
// so that y's block stays in cache while the taps add into it. Working memory
// (workspace_bytes) is one tap's slice of a block per thread running; for forward a copy
// of the weights tap by tap unless w is HWIO (each tap a matrix already) or 1x1, for
// backward_data one unless w is HWIO (the GEMM wants each tap's transpose plain), and for
// backward_weights a partial dW per group of images (but the first when w is HWIO or 1x1); for maxpool the running choice (a value and a tap index
// per output) of one block of output rows per task running at once (pool.hpp): never the
// kh*kw-times-larger column matrix. Work is split into tasks fixed by the problem
// (parallel.hpp), so results do not depend on the thread count.
// Accumulation is in T, unlike the naive reference.
#pragma once

#include <memory>

#include "impl/core/variant.hpp"

namespace convconf::strided {

std::unique_ptr<Variant> make_variant();

}  // namespace convconf::strided
