#include "impl/core/gemm.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

namespace convconf {

template <>
void gemm<float>(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc) {
    if (M == 0 || N == 0) return;
    // One thread (parallel.hpp): with more available, sgemm may split K across threads and
    // round differently. The setting is this thread's own and is put back.
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    const dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha,
                                        A, lda, B, ldb, beta, C, ldc);
    omp_set_num_threads(threads);
    if (st != dnnl_success)
        throw std::runtime_error("dnnl_sgemm failed with status " + std::to_string(int(st)));
}

template <>
void gemm<double>(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
                  const double* A, int64_t lda, const double* B, int64_t ldb, double beta,
                  double* C, int64_t ldc) {
    if (M == 0 || N == 0) return;
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0 ? 0.0 : beta * C[i * ldc + j];
    // Blocks of op(A) and op(B) are packed row-major so the inner loop runs over
    // contiguous memory whatever the transposition.
    constexpr int64_t kBlockM = 64, kBlockN = 256, kBlockK = 128;
    // Sized to the problem, not the block: small per-tap products stay small.
    std::vector<double> a_pack(std::min(kBlockM, M) * std::min(kBlockK, K)),
        b_pack(std::min(kBlockK, K) * std::min(kBlockN, N));
    for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
        const int64_t kb = std::min(kBlockK, K - k0);
        for (int64_t j0 = 0; j0 < N; j0 += kBlockN) {
            const int64_t nb = std::min(kBlockN, N - j0);
            for (int64_t k = 0; k < kb; ++k)
                for (int64_t j = 0; j < nb; ++j)
                    b_pack[k * nb + j] = trans_b ? B[(j0 + j) * ldb + k0 + k] : B[(k0 + k) * ldb + j0 + j];
            for (int64_t i0 = 0; i0 < M; i0 += kBlockM) {
                const int64_t mb = std::min(kBlockM, M - i0);
                for (int64_t i = 0; i < mb; ++i)
                    for (int64_t k = 0; k < kb; ++k)
                        a_pack[i * kb + k] = alpha * (trans_a ? A[(k0 + k) * lda + i0 + i]
                                                              : A[(i0 + i) * lda + k0 + k]);
                for (int64_t i = 0; i < mb; ++i) {
                    double* c = C + (i0 + i) * ldc + j0;
                    for (int64_t k = 0; k < kb; ++k) {
                        const double a = a_pack[i * kb + k];
                        const double* b = &b_pack[k * nb];
                        for (int64_t j = 0; j < nb; ++j) c[j] += a * b[j];
                    }
                }
            }
        }
    }
}

}  // namespace convconf
