// Matrix multiply for the lowering-based families (im2col, strided):
//   C[M x N] = alpha * op(A) * op(B) + beta * C, all row-major, op(X) = X or X^T.
// f32 goes to oneDNN's dnnl_sgemm; f64 to a plain cache-blocked loop nest of our own
// (oneDNN 2.6 has no f64 GEMM). Both run on the calling thread only: callers get their
// parallelism from parallel_for's tasks (parallel.hpp), which keeps results independent of
// the thread count. beta == 0 overwrites C without reading it, so a C that
// holds NaN (a poisoned output) is not propagated.
#pragma once

#include <cstdint>

namespace convconf {

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

}  // namespace convconf
