// The naive-loops variant: the reference every other implementation is compared with.
//
// One function per direction, nothing but loops over the problem's dimensions, signed
// indices with explicit bounds skips, accumulation in double, no fast paths. It must stay
// obviously correct by reading; speed belongs in the other variants.
#pragma once

#include <memory>

#include "impl/core/variant.hpp"

namespace convconf::naive {

// y[n,k,oh,ow] = b[k] + sum_{c,i,j} xp[n,c,oh*sh+i*dh, ow*sw+j*dw] * w[k,c,i,j]
template <class T>
void conv_forward(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& w,
                  const Tensor<T>* b, Tensor<T>& y);
// dx[n,c,h,w] = sum of dy[n,k,oh,ow] * w[k,c,i,j] over the (k,i,j,oh,ow) whose tap lands on (h,w)
template <class T>
void conv_backward_data(const ConvProblem& p, const Tensor<T>& w, const Tensor<T>& dy,
                        Tensor<T>& dx);
// dw[k,c,i,j] = sum_{n,oh,ow} dy[n,k,oh,ow] * xp[n,c,oh*sh+i*dh, ow*sw+j*dw]; db[k] = sum dy
template <class T>
void conv_backward_weights(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& dy,
                           Tensor<T>& dw, Tensor<T>* db);
template <class T>
void pool_forward(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y, Tensor<int64_t>& argmax);
template <class T>
void pool_backward(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dx);
// Average pooling (p.alg avg_p or avg_np): y = (sum of the window's taps inside x) / divisor;
// backward gives every tap inside x of every window dy / divisor.
template <class T>
void avg_forward(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y);
template <class T>
void avg_backward(const PoolProblem& p, const Tensor<T>& dy, Tensor<T>& dx);
template <class T>
void im2col(const WindowProblem& p, const Tensor<T>& x, Tensor<T>& col);
// The exact adjoint of im2col: x[n,c,h,w] = sum of the col entries that im2col copied from (h,w).
template <class T>
void col2im(const WindowProblem& p, const Tensor<T>& col, Tensor<T>& x);

std::unique_ptr<Variant> make_variant();

}  // namespace convconf::naive
