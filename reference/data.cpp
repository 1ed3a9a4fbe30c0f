#include "reference/data.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace convconf {

std::string_view to_string(Fill f) {
    switch (f) {
        case Fill::integers: return "int";
        case Fill::floats: return "float";
        case Fill::ties: return "ties";
        case Fill::negative: return "negative";
        case Fill::distinct: return "distinct";
        case Fill::special: return "special";
    }
    return "?";
}

Fill parse_fill(std::string_view text, std::string_view what) {
    for (Fill f : {Fill::integers, Fill::floats, Fill::ties, Fill::negative, Fill::distinct, Fill::special})
        if (to_string(f) == text) return f;
    throw std::invalid_argument(std::string(what) + ": unknown value \"" + std::string(text) +
                                "\" (expected one of int, float, ties, negative, distinct, special)");
}

uint64_t Random::next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double Random::uniform() { return double(next() >> 11) * 0x1p-53; }

int64_t Random::integer(int64_t lo, int64_t hi) {
    const uint64_t span = uint64_t(hi - lo) + 1;
    return lo + int64_t(next() % span);  // bias is negligible for the small spans used here
}

uint64_t role_seed(uint64_t seed, std::string_view role) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a over the role, then mixed with the seed
    for (char c : role) h = (h ^ uint8_t(c)) * 1099511628211ull;
    Random r(seed ^ h);
    return r.next();
}

template <class T>
void fill(Tensor<T>& t, Fill kind, uint64_t seed, int64_t magnitude) {
    Random r(seed);
    if (kind == Fill::distinct) {
        const int64_t n = t.size();
        for (int64_t e = 0; e < n; ++e) t[e] = T(e - n / 2);
        for (int64_t e = n - 1; e > 0; --e) std::swap(t[e], t[r.integer(0, e)]);  // Fisher-Yates
        return;
    }
    for (T& v : t.values()) {
        switch (kind) {
            case Fill::integers: v = T(r.integer(-magnitude, magnitude)); break;
            case Fill::floats: v = T(2.0 * r.uniform() - 1.0); break;
            case Fill::ties: v = T(r.integer(0, 3)); break;
            case Fill::negative: v = T(r.integer(-8, -1)); break;
            case Fill::distinct: break;  // filled above
            case Fill::special: {
                const int64_t pick = r.integer(0, 15);
                v = pick == 0   ? std::numeric_limits<T>::quiet_NaN()
                    : pick == 1 ? std::numeric_limits<T>::infinity()
                    : pick == 2 ? -std::numeric_limits<T>::infinity()
                                : T(2.0 * r.uniform() - 1.0);
                break;
            }
        }
    }
}

template void fill(Tensor<float>&, Fill, uint64_t, int64_t);
template void fill(Tensor<double>&, Fill, uint64_t, int64_t);

int64_t exact_magnitude(int64_t n, DType dtype) {
    const double limit = std::ldexp(1.0, mantissa_digits(dtype));
    int64_t r = 8;
    while (r > 1 && double(n) * double(r) * double(r) + double(r) > limit) --r;
    return r;
}

}  // namespace convconf
