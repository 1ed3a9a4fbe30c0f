#include "impl/core/problem.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <tuple>
#include <utility>

namespace convconf {

ProblemError::ProblemError(std::string field, const std::string& message)
    : std::invalid_argument("invalid problem: " + field + ": " + message),
      field_(std::move(field)),
      message_(message) {}

int64_t max_tensor_bytes() {
    constexpr int64_t kDefault = int64_t{8} << 30;
    const char* env = std::getenv("CONVCONF_MAX_BYTES");
    if (!env || !*env) return kDefault;
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(env, &end, 10);
    if (*end != '\0' || errno != 0 || v < 1)
        throw std::invalid_argument("CONVCONF_MAX_BYTES=\"" + std::string(env) + "\" is not a whole number of bytes >= 1");
    return v;
}

namespace {
std::string cap_message(int64_t bytes) {
    return "needs " + std::to_string(bytes) + " bytes, more than the cap of " + std::to_string(max_tensor_bytes()) +
           " (CONVCONF_MAX_BYTES raises it)";
}
}  // namespace

void require_within_memory_cap(int64_t count, int64_t element_bytes, const std::string& what) {
    int64_t bytes = 0;
    if (__builtin_mul_overflow(count, element_bytes, &bytes))
        throw std::invalid_argument(what + ": byte count overflows 64 bits");
    if (bytes > max_tensor_bytes()) throw std::invalid_argument(what + " " + cap_message(bytes));
}

int64_t checked_count(const std::string& field, std::initializer_list<int64_t> extents,
                      int64_t element_bytes) {
    int64_t count = 1;
    for (int64_t e : extents) {
        if (e < 0) throw ProblemError(field, "negative extent " + std::to_string(e));
        if (__builtin_mul_overflow(count, e, &count))
            throw ProblemError(field, "element count overflows 64 bits");
    }
    int64_t bytes = 0;
    if (__builtin_mul_overflow(count, element_bytes, &bytes))
        throw ProblemError(field, "byte count overflows 64 bits (" + std::to_string(count) +
                                      " elements of " + std::to_string(element_bytes) +
                                      " bytes)");
    if (bytes > max_tensor_bytes()) throw ProblemError(field, "tensor " + cap_message(bytes));
    return count;
}

namespace {

void require_at_least(const char* field, int64_t value, int64_t minimum, const char* meaning) {
    if (value < minimum)
        throw ProblemError(field, std::string(meaning) + " must be >= " + std::to_string(minimum) +
                                      ", got " + std::to_string(value));
}

// Output extent along one axis; may be < 1 for an invalid problem (validate rejects it).
int64_t out_extent(int64_t in, int64_t k, int64_t stride, int64_t pad_lo, int64_t pad_hi,
                   int64_t dilation, bool ceil_mode) {
    const int64_t span = in + pad_lo + pad_hi - (dilation * (k - 1) + 1);
    if (span < 0 || stride < 1) return 0;  // window larger than the padded input
    if (!ceil_mode) return span / stride + 1;
    int64_t out = (span + stride - 1) / stride + 1;
    if ((out - 1) * stride >= in + pad_lo) out -= 1;  // the last window would start past x
    return out;
}

void require_window_fits(const char* k_field, int64_t in, int64_t k, int64_t pad_lo,
                         int64_t pad_hi, int64_t dilation) {
    const int64_t extent = dilation * (k - 1) + 1;
    if (extent > in + pad_lo + pad_hi)
        throw ProblemError(k_field, "window extent " + std::to_string(extent) +
                                        " (dilation*(kernel-1)+1) is larger than the padded input " +
                                        std::to_string(in + pad_lo + pad_hi));
}

// Sum over i in [0, n) of floor((a*i + b) / m), for n >= 0 and m >= 1, in O(log m) steps
// (the Euclid-like reduction of AtCoder Library's floor_sum). As called below, a*n and |b|
// are at most 2^42, so no intermediate comes near 2^127.
__extension__ typedef __int128 Wide;
Wide floor_sum(Wide n, Wide m, Wide a, Wide b) {
    auto floor_div = [](Wide x, Wide y) { return x / y - Wide(x % y != 0 && (x < 0) != (y < 0)); };
    Wide sum = 0;
    for (;;) {
        const Wide qa = floor_div(a, m), qb = floor_div(b, m);  // a, b into [0, m)
        sum += n * (n - 1) / 2 * qa + n * qb;
        a -= qa * m, b -= qb * m;
        const Wide top = a * n + b;
        if (top < m) return sum;
        n = top / m, b = top % m;
        std::swap(m, a);
    }
}

// Names the field to blame when some output position's window along this axis has no tap
// inside [0, in): the low pad when the window lies before the input, the high pad when
// after it, the dilation when its taps skip over the input. Empty when every window hits.
// Blames the first such window, in output order.
std::string window_missing_input(int64_t in, int64_t k, int64_t stride, int64_t pad_lo,
                                 int64_t dilation, int64_t out, const char* lo_field,
                                 const char* hi_field, const char* dilation_field) {
    // Windows move forward, so only the first can lie wholly before the input and only the
    // last wholly after it.
    if (-pad_lo + (k - 1) * dilation < 0) return lo_field;
    // A window starting inside the input hits at its first tap. One starting in the low pad
    // reaches row 0 (the first window does), so its first tap at or after row 0 is at
    // (start mod dilation): it hits iff that is below `in`, always when the taps are no
    // further apart than the input is long. Counting the hits in closed form, rather than
    // visiting up to 2^40 windows, keeps validate() instant for any problem it accepts:
    // [x mod d < in] = floor(x/d) - floor((x-in)/d) for 0 < in <= d.
    const int64_t in_low_pad = std::min(out, (pad_lo + stride - 1) / stride);
    if (dilation > in && in_low_pad > 0) {
        const Wide hits = floor_sum(in_low_pad, dilation, stride, -pad_lo) -
                          floor_sum(in_low_pad, dilation, stride, Wide{-pad_lo} - in);
        if (hits != in_low_pad) return dilation_field;
    }
    if ((out - 1) * stride - pad_lo >= in) return hi_field;
    return {};
}

}  // namespace

int64_t WindowProblem::oh() const { return out_extent(ih, kh, sh, pt, pb, dh, ceil_mode); }
int64_t WindowProblem::ow() const { return out_extent(iw, kw, sw, pl, pr, dw, ceil_mode); }

void WindowProblem::validate() const {
    require_at_least("mb", mb, 1, "minibatch");
    require_at_least("ic", ic, 1, "input channels");
    require_at_least("ih", ih, 1, "input height");
    require_at_least("iw", iw, 1, "input width");
    require_at_least("kh", kh, 1, "kernel height");
    require_at_least("kw", kw, 1, "kernel width");
    require_at_least("sh", sh, 1, "stride height");
    require_at_least("sw", sw, 1, "stride width");
    require_at_least("dh", dh, 1, "dilation height (1 = dense)");
    require_at_least("dw", dw, 1, "dilation width (1 = dense)");
    require_at_least("pt", pt, 0, "pad top");
    require_at_least("pl", pl, 0, "pad left");
    require_at_least("pb", pb, 0, "pad bottom");
    require_at_least("pr", pr, 0, "pad right");
    // Extents and padded sizes are formed below; keep every intermediate in range first.
    constexpr int64_t kLimit = int64_t{1} << 40;
    for (auto [field, v] : {std::pair{"ih", ih}, {"iw", iw}, {"kh", kh}, {"kw", kw}, {"sh", sh},
                            {"sw", sw}, {"pt", pt}, {"pl", pl}, {"pb", pb}, {"pr", pr},
                            {"dh", dh}, {"dw", dw}})
        if (v > kLimit) throw ProblemError(field, "value " + std::to_string(v) + " exceeds 2^40");
    // Extent products, not tensors: only overflow matters here, not the memory cap.
    for (auto [field, d, k] : {std::tuple{"kh", dh, kh}, {"kw", dw, kw}})
        if (int64_t extent = 0; __builtin_mul_overflow(d, k, &extent))
            throw ProblemError(field, "dilation * kernel overflows 64 bits");
    require_window_fits("kh", ih, kh, pt, pb, dh);
    require_window_fits("kw", iw, kw, pl, pr, dw);
    checked_count("x", {mb, ic, ih, iw});
    checked_count("col", {mb, oh(), ow(), ic, kh, kw});
}

void ConvProblem::validate() const {
    WindowProblem::validate();
    require_at_least("oc", oc, 1, "output channels");
    require_at_least("g", g, 1, "groups");
    for (auto [what, channels] : {std::pair{"ic", ic}, {"oc", oc}})
        if (channels % g != 0)
            throw ProblemError("g", "groups " + std::to_string(g) + " does not divide " + what + " " +
                                        std::to_string(channels));
    checked_count("w", {oc, icg(), kh, kw});
    checked_count("y", {mb, oc, oh(), ow()});
}

void PoolProblem::validate() const {
    WindowProblem::validate();
    const std::string rows = window_missing_input(ih, kh, sh, pt, dh, oh(), "pt", "pb", "dh");
    if (!rows.empty())
        throw ProblemError(rows, "a pooling window covers no element of x (no row of it is "
                                 "inside the input, so it has nothing to choose or average)");
    const std::string cols = window_missing_input(iw, kw, sw, pl, dw, ow(), "pl", "pr", "dw");
    if (!cols.empty())
        throw ProblemError(cols, "a pooling window covers no element of x (no column of it is "
                                 "inside the input, so it has nothing to choose or average)");
}

std::string_view to_string(PoolAlg a) {
    switch (a) {
        case PoolAlg::max: return "max";
        case PoolAlg::avg_p: return "avg_p";
        case PoolAlg::avg_np: return "avg_np";
    }
    return "?";
}

PoolAlg parse_pool_alg(std::string_view text, std::string_view what) {
    std::string lower(text);
    for (char& ch : lower) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    for (PoolAlg a : {PoolAlg::max, PoolAlg::avg_p, PoolAlg::avg_np})
        if (lower == to_string(a)) return a;
    // oneDNN's names, which benchdnn also takes.
    if (lower == "pooling_max") return PoolAlg::max;
    if (lower == "pooling_avg_include_padding") return PoolAlg::avg_p;
    if (lower == "pooling_avg_exclude_padding") return PoolAlg::avg_np;
    throw std::invalid_argument(std::string(what) + ": \"" + std::string(text) +
                                "\" is not a pooling algorithm (expected max, avg_p or avg_np)");
}

PoolProblem pool_problem(const WindowProblem& p) {
    PoolProblem pp;
    static_cast<WindowProblem&>(pp) = p;
    return pp;
}

int64_t taps_between(int64_t o, int64_t stride, int64_t pad, int64_t dilation, int64_t k, int64_t lo, int64_t hi) {
    // Tap t reads start + t*dilation; count the t in [0, k) with lo <= that < hi.
    const int64_t start = o * stride - pad;
    auto ceil_div = [](int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -(-a / b); };
    const int64_t first = std::max<int64_t>(0, ceil_div(lo - start, dilation));
    const int64_t end = std::min(k, ceil_div(hi - start, dilation));
    return std::max<int64_t>(0, end - first);
}

int64_t pool_divisor(const WindowProblem& p, int64_t oh, int64_t ow) {
    const bool padding_counts = p.alg == PoolAlg::avg_p;
    const int64_t rows = padding_counts ? taps_between(oh, p.sh, p.pt, p.dh, p.kh, -p.pt, p.ih + p.pb)
                                        : taps_between(oh, p.sh, p.pt, p.dh, p.kh, 0, p.ih);
    const int64_t cols = padding_counts ? taps_between(ow, p.sw, p.pl, p.dw, p.kw, -p.pl, p.iw + p.pr)
                                        : taps_between(ow, p.sw, p.pl, p.dw, p.kw, 0, p.iw);
    return rows * cols;
}

ConvProblem as_conv_problem(const WindowProblem& p) {
    ConvProblem c;
    static_cast<WindowProblem&>(c) = p;
    return c;
}

}  // namespace convconf
