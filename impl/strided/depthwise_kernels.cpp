#include "impl/strided/depthwise.hpp"

// The loops of depthwise.hpp that carry its arithmetic, compiled for AVX-512, AVX2 and
// baseline x86-64 and picked at load time for the CPU (GCC's target_clones). The build
// targets baseline x86-64, whose SSE2 vectors are 4 floats; oneDNN's kernels are JIT-compiled
// for the CPU, so without this the comparison would be one of instruction sets. Each
// element is still one multiply and one add in the same order, whatever the clone: the
// results do not depend on the CPU (no FMA contraction: CMakeLists.txt compiles this file
// with -ffp-contract=off).
namespace convconf::strided::depthwise {

#define CONVCONF_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

CONVCONF_CLONES void axpy(float* dst, const float* src, float a, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dst[i] += a * src[i];
}
CONVCONF_CLONES void axpy(double* dst, const double* src, double a, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dst[i] += a * src[i];
}
CONVCONF_CLONES void multiply_add(float* dst, const float* a, const float* b, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dst[i] += a[i] * b[i];
}
CONVCONF_CLONES void multiply_add(double* dst, const double* a, const double* b, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dst[i] += a[i] * b[i];
}

}  // namespace convconf::strided::depthwise
