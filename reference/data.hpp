// Deterministic input data for checks. The same (seed, role) gives the same values on every
// machine: the generator is splitmix64 and the mapping to values is our own, not a
// standard-library distribution (whose output differs between implementations).
#pragma once

#include <cstdint>
#include <string_view>

#include "impl/core/tensor.hpp"

namespace convconf {

enum class Fill {
    integers,  // small integers in [-r, r]: sums stay exact, so comparisons are exact
    floats,    // uniform in [-1, 1): rounding happens, comparisons use the derived bound
    ties,      // integers in [0, 3]: many equal maxima, for max-pooling's first-maximum rule
    negative,  // integers in [-8, -1]: max-pooling must pad with -inf, not 0, next to these
    distinct,  // a shuffle of the integers -n/2 .. n-1-n/2: no ties, for gradient checks
    special,   // floats with some NaN, +inf and -inf, for max-pooling's NaN rules
};

std::string_view to_string(Fill);
Fill parse_fill(std::string_view text, std::string_view what = "fill");  // "int", "float", "ties", "negative", "distinct", "special"

class Random {
public:
    explicit Random(uint64_t seed) : state_(seed) {}
    uint64_t next();
    // Uniform in [0, 1) with 53 random bits.
    double uniform();
    // Uniform integer in [lo, hi].
    int64_t integer(int64_t lo, int64_t hi);

private:
    uint64_t state_;
};

// A seed for one tensor of one check: mixes the check's seed with the tensor's role
// ("x", "w", "dy", ...) so tensors of the same check differ.
uint64_t role_seed(uint64_t seed, std::string_view role);

// Fills t. For Fill::integers, values lie in [-magnitude, magnitude].
template <class T>
void fill(Tensor<T>& t, Fill kind, uint64_t seed, int64_t magnitude = 4);

// The largest integer magnitude r such that an n-term sum of products of two values in
// [-r, r] (plus a bias in [-r, r]) stays within 2^p, p the dtype's mantissa digits, so every
// partial sum is exact (benchdnn's rule). At least 1, at most 8.
int64_t exact_magnitude(int64_t n, DType dtype);

}  // namespace convconf
