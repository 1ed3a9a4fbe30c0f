// Max-pooling in the strided family: a running max and argmax across the kh*kw taps, each
// tap a strided slice of x (tap (i, j) of output (oh, ow) reads x at
// (oh*sh - pt + i*dh, ow*sw - pl + j*dw)); backward adds dy into the slice of each tap at
// the positions that chose it. Tasks are (image, block of channels) (impl/core/pooling.hpp);
// within one, a block of output rows at a time, so the running choice stays in cache.
#pragma once

#include <cstdint>

#include "impl/core/problem.hpp"
#include "impl/core/tensor.hpp"
#include "impl/core/types.hpp"

namespace convconf::strided {

// Entry points with the contract of Variant::pool_forward and pool_backward (variant.hpp):
// overwrite their outputs; the problem and tensors are validated already.
template <class T>
void pool_forward(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y, Tensor<int64_t>& argmax);
template <class T>
void pool_backward(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dx);

// Average pooling the same way: each tap's slice of x added into the running sums of a block
// of output rows, then each sum divided by its divisor (pool_divisor); backward adds
// dy / divisor into each tap's slice of dx.
template <class T>
void avg_forward(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y);
template <class T>
void avg_backward(const PoolProblem& p, const Tensor<T>& dy, Tensor<T>& dx);

// The running choice of one block of output rows (a value and a tap index per output; a
// sum or a share and a divisor for average pooling), for each task running at once.
int64_t pool_workspace_bytes(const WindowProblem& p, Pass pass, DType dtype);

}  // namespace convconf::strided
