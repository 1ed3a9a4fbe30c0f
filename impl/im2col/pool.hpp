// Max-pooling in the im2col family, as the notebook's MyPooling: windows lowered into the
// column matrix (rows (n, oh, ow), columns (c, i, j)) padded with -infinity, and each row
// segment of kh*kw columns, one window, reduced to the element the contract chooses.
// Backward is col2im of the gradient matrix that holds each dy at its window's chosen column.
// The column matrix is never whole: each task (image, block of channels; impl/core/pooling.hpp)
// lowers a tile of it at a time, the rows of a block of output rows and its channels' columns.
#pragma once

#include <cstdint>

#include "impl/core/problem.hpp"
#include "impl/core/tensor.hpp"
#include "impl/core/types.hpp"

namespace convconf::im2col {

// Entry points with the contract of Variant::pool_forward and pool_backward (variant.hpp):
// overwrite their outputs; the problem and tensors are validated already.
template <class T>
void pool_forward(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y, Tensor<int64_t>& argmax);
template <class T>
void pool_backward(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dx);

// Average pooling the same way: windows lowered with zeros for padding, each row segment
// summed and divided by its divisor (pool_divisor). Backward is col2im of the gradient
// matrix whose row holds dy / divisor in every column, formed a window at a time.
template <class T>
void avg_forward(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y);
template <class T>
void avg_backward(const PoolProblem& p, const Tensor<T>& dy, Tensor<T>& dx);

// One tile of the column matrix for each task running at once (average pooling backward
// needs none).
int64_t pool_workspace_bytes(const WindowProblem& p, Pass pass, DType dtype);

}  // namespace convconf::im2col
