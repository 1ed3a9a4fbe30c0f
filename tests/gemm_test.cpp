// gemm against a three-loop product, every transposition, sizes that straddle the blocks,
// and beta == 0 overwriting a NaN-poisoned C.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "impl/core/gemm.hpp"
#include "reference/data.hpp"

namespace convconf {
namespace {

template <class T>
void check_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, T beta) {
    Random r(uint64_t(M * 1000003 + N * 1009 + K));
    // Integer entries keep every product and sum exact: the comparison can be exact.
    auto draw = [&](int64_t n) {
        std::vector<T> v(n);
        for (T& x : v) x = T(r.integer(-3, 3));
        return v;
    };
    const int64_t lda = ta ? M : K, ldb = tb ? K : N;
    const std::vector<T> A = draw(M * K), B = draw(K * N);
    std::vector<T> C = beta == T(0) ? std::vector<T>(M * N, std::numeric_limits<T>::quiet_NaN()) : draw(M * N);
    std::vector<T> want(M * N);
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
            double acc = 0;
            for (int64_t k = 0; k < K; ++k)
                acc += double(ta ? A[k * lda + i] : A[i * lda + k]) * double(tb ? B[j * ldb + k] : B[k * ldb + j]);
            want[i * N + j] = T(double(alpha) * acc + (beta == T(0) ? 0.0 : double(beta) * double(C[i * N + j])));
        }
    gemm<T>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), N);
    for (int64_t e = 0; e < M * N; ++e)
        ASSERT_EQ(C[e], want[e]) << "ta " << ta << " tb " << tb << " M " << M << " N " << N << " K " << K
                                 << " at " << e;
}

template <class T>
void sweep() {
    for (bool ta : {false, true})
        for (bool tb : {false, true})
            for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {3, 5, 7}, {65, 257, 129}, {70, 3, 300}}) {
                check_gemm<T>(ta, tb, M, N, K, T(1), T(0));
                check_gemm<T>(ta, tb, M, N, K, T(2), T(1));
            }
}

TEST(Gemm, F32MatchesThreeLoops) { sweep<float>(); }
TEST(Gemm, F64MatchesThreeLoops) { sweep<double>(); }

}  // namespace
}  // namespace convconf
