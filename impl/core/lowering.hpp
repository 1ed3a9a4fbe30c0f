// What the lowering-based families (im2col, strided) share: the geometry of one kernel
// tap over the output grid, copying a tap's values out of x for a block of output positions
// (and adding them back, the adjoint), and matrix views of tensors for the GEMMs.
//
// Tap (i, j) of output position (oh, ow) reads x at (oh*sh - pt + i*dh, ow*sw - pl + j*dw),
// which is padding outside x. Over the output grid a tap is a strided slice of the padded
// input (the notebooks' `img[:, :, y:y_max:stride, x:x_max:stride]`). Output positions are
// numbered p = oh*OW + ow, and the optimised paths work on blocks [p0, p1) of them, so
// that their scratch matrices stay a fixed size, in cache, whatever the image size.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "impl/core/gemm.hpp"
#include "impl/core/parallel.hpp"
#include "impl/core/tensor.hpp"

namespace convconf::lowering {

// ---- One tap's geometry -------------------------------------------------------------------

// Division rounding toward -infinity, for b >= 1 (C++'s / rounds toward zero).
inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// One tap along one axis: output position o reads input coordinate o*stride + offset, and
// [begin, end) are the positions where that coordinate lies inside x. Outside it the tap
// reads padding, so computing the span once per tap removes every bounds test from the
// inner loops. A tap that reads only padding has begin == end.
struct AxisSpan {
    int64_t begin = 0, end = 0, offset = 0;
    bool empty() const { return begin == end; }
};

inline AxisSpan axis_span(int64_t out, int64_t in, int64_t stride, int64_t pad, int64_t dilation,
                          int64_t tap) {
    AxisSpan s;
    s.offset = tap * dilation - pad;
    // 0 <= o*stride + offset <= in - 1, and 0 <= o < out.
    s.begin = std::max<int64_t>(0, ceil_div(-s.offset, stride));
    s.end = std::max(s.begin, std::min(out, floor_div(in - 1 - s.offset, stride) + 1));
    return s;
}

// Tap (i, j)'s slice of the output grid, cut down to the positions that read inside x.
struct TapSlice {
    AxisSpan rows, cols;
    bool empty() const { return rows.empty() || cols.empty(); }
};

inline TapSlice tap_slice(const WindowProblem& p, int64_t i, int64_t j) {
    return {axis_span(p.oh(), p.ih, p.sh, p.pt, p.dh, i), axis_span(p.ow(), p.iw, p.sw, p.pl, p.dw, j)};
}

// Calls f(i, j, slice) for every tap in window order (row-major over i, j): max-pooling's
// first-maximum rule depends on that order.
template <class F>
void for_each_tap(const WindowProblem& p, F&& f) {
    for (int64_t i = 0; i < p.kh; ++i)
        for (int64_t j = 0; j < p.kw; ++j) f(i, j, tap_slice(p, i, j));
}

// The part of output row oh that a block of positions covers, [begin, end) in ow, and
// where in it the tap reads inside x: [inside_begin, inside_end), at input row ih and
// input column ow*sw + iw_offset. Rows in the padding have an empty inside part.
struct RowSegment {
    int64_t oh, begin, end, inside_begin, inside_end, ih, iw_offset;
};

// Calls f(RowSegment) for each output row that positions [p0, p1) touch, in order.
template <class F>
void for_each_row_segment(const WindowProblem& p, const TapSlice& s, int64_t p0, int64_t p1, F&& f) {
    const int64_t OW = p.ow();
    for (int64_t oh = p0 / OW; oh * OW < p1; ++oh) {
        RowSegment r;
        r.oh = oh;
        r.begin = std::max<int64_t>(p0 - oh * OW, 0);
        r.end = std::min(p1 - oh * OW, OW);
        const bool row_inside = oh >= s.rows.begin && oh < s.rows.end;
        r.inside_begin = row_inside ? std::clamp(s.cols.begin, r.begin, r.end) : r.begin;
        r.inside_end = row_inside ? std::clamp(s.cols.end, r.inside_begin, r.end) : r.begin;
        r.ih = oh * p.sh + s.rows.offset;
        r.iw_offset = s.cols.offset;
        f(r);
    }
}

// True when the only tap reads x itself (1x1 kernel, stride 1, no padding): the lowered
// matrix is x, and the lowering can be skipped.
inline bool lowering_is_identity(const WindowProblem& p) {
    return p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1 && p.pt == 0 && p.pl == 0 &&
           p.oh() == p.ih && p.ow() == p.iw;
}

// ---- Matrices over tensors ------------------------------------------------------------------

// A logical rows x cols matrix stored row-major with leading dimension ld, or stored as its
// transpose (element (r, c) at data[c*ld + r]). E is T or const T.
template <class E>
struct Matrix {
    E* data;
    int64_t rows, cols, ld;
    bool transposed;
    Matrix t() const { return {data, cols, rows, ld, !transposed}; }
    // Columns [c0, c1) of the matrix.
    Matrix columns(int64_t c0, int64_t c1) const {
        return {data + (transposed ? c0 * ld : c0), rows, c1 - c0, ld, transposed};
    }
    // Rows [r0, r1) of the matrix: one group's channels of an image or of the weights.
    Matrix row_range(int64_t r0, int64_t r1) const {
        return {data + (transposed ? r0 : r0 * ld), r1 - r0, cols, ld, transposed};
    }
    E& operator()(int64_t r, int64_t c) const { return transposed ? data[c * ld + r] : data[r * ld + c]; }
    // The same view, read-only.
    operator Matrix<const E>() const
        requires(!std::is_const_v<E>)
    {
        return {data, rows, cols, ld, transposed};
    }
};

// Image n of an activation-shaped tensor (n, channels, oh, ow) as a channels x positions
// matrix: NCHW stores exactly that, NHWC stores its transpose. This is how the families
// handle both layouts without reordering anything.
template <class E>
Matrix<E> image(E* data, AxisOrder order, const Dims4& d, int64_t n) {
    const int64_t channels = d[1], positions = d[2] * d[3];
    E* base = data + n * channels * positions;
    if (order == AxisOrder::nchw) return {base, channels, positions, positions, false};
    return {base, channels, positions, channels, true};
}
template <class T>
Matrix<T> image(Tensor<T>& t, int64_t n) { return image(t.data(), t.order(), t.dims(), n); }
template <class T>
Matrix<const T> image(const Tensor<T>& t, int64_t n) { return image(t.data(), t.order(), t.dims(), n); }

// c = a * b + beta * c with the shared row-major GEMM (on the calling thread). A c stored
// transposed is computed as c^T = b^T * a^T, so every combination of layouts is one call.
template <class T, class A, class B>
void multiply_add(Matrix<T> c, Matrix<A> a, Matrix<B> b, T beta) {
    assert(a.rows == c.rows && b.cols == c.cols && a.cols == b.rows);
    if (c.transposed) return multiply_add(c.t(), b.t(), a.t(), beta);
    gemm<T>(a.transposed, b.transposed, c.rows, c.cols, a.cols, T(1), a.data, a.ld, b.data, b.ld,
            beta, c.data, c.ld);
}

// Scratch memory that is written before it is read. Not a std::vector, which would zero
// it first: a pass over memory for nothing, page faults included.
template <class T>
using Scratch = std::unique_ptr<T[]>;
// Under AddressSanitizer (the asan preset) fresh scratch is filled with NaN, so that a
// value read before it is written shows up in the conformance checks.
template <class T>
T* allocate(Scratch<T>& s, int64_t elements) {
    s.reset(new T[elements]);
#if defined(__SANITIZE_ADDRESS__)
    std::fill(s.get(), s.get() + elements, std::numeric_limits<T>::quiet_NaN());
#endif
    return s.get();
}

// to[c*to_ld + r] = from[r*row_stride + c*col_stride] for r < rows, c < cols: the
// transpose of a strided rows x cols matrix, in 8x8 tiles that stay in L1 (measured on a
// 4608x512 f32 matrix: 1.2 ms, against 3.3 ms for the plain double loop).
template <class T>
void transpose(const T* from, int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride, T* to,
               int64_t to_ld) {
    constexpr int64_t kTile = 8;
    for (int64_t r0 = 0; r0 < rows; r0 += kTile)
        for (int64_t c0 = 0; c0 < cols; c0 += kTile)
            for (int64_t r = r0; r < std::min(r0 + kTile, rows); ++r)
                for (int64_t c = c0; c < std::min(c0 + kTile, cols); ++c)
                    to[c * to_ld + r] = from[r * row_stride + c * col_stride];
}

// m as a plain row-major matrix: m itself when it is stored so already, else a copy in
// `scratch`. dnnl_sgemm runs up to 2.5x slower on a transposed A operand than on a plain
// one (measured here, one thread per image: 1024x256 A transposed times 256x196 in 3.2 ms,
// plain 1.3 ms; 3x3 convolutions' shapes lose 0-10%), which is what backward-data's W^T
// is; copying it once costs far less.
template <class T>
Matrix<const T> plain(Matrix<const T> m, Scratch<T>& scratch) {
    if (!m.transposed) return m;
    T* to = allocate(scratch, m.rows * m.cols);
    // m's storage is a cols x rows matrix; each task transposes a band of its rows.
    const Pieces band{m.cols, 64};
    parallel_for(band.count(), [&](int64_t b) {
        const int64_t c0 = band.begin(b);
        transpose(m.data + c0 * m.ld, band.end(b) - c0, m.rows, m.ld, int64_t(1), to + c0, m.cols);
    });
    return {to, m.rows, m.cols, m.cols, false};
}

// ---- Lowered blocks ------------------------------------------------------------------------

// A block of the lowered input (the column matrix, transposed) for output positions
// [p0, p1) of one image: a (channels*taps) x positions matrix, one row per (channel, tap),
// stored in the activation layout's own order so that filling it copies contiguous runs of
// x: channel-major rows (c, t) stored row by row for NCHW, tap-major rows (t, c) stored
// position by position for NHWC. The weights must use the same row order (row()).
template <class E>
struct Lowered {
    E* data;
    int64_t channels, taps, positions;
    bool channels_last;

    int64_t rows() const { return channels * taps; }
    int64_t row(int64_t c, int64_t t) const { return channels_last ? t * channels + c : c * taps + t; }
    Matrix<E> matrix() const {
        if (channels_last) return {data, rows(), positions, rows(), true};
        return {data, rows(), positions, positions, false};
    }
    // Where the value of channel c, tap t and the block's k-th position is stored.
    E* tap_base(int64_t t) const { return data + (channels_last ? t * channels : t * positions); }
    int64_t channel_stride() const { return channels_last ? 1 : taps * positions; }
    int64_t position_stride() const { return channels_last ? rows() : 1; }
    // The same block, read-only.
    operator Lowered<const E>() const
        requires(!std::is_const_v<E>)
    {
        return {data, channels, taps, positions, channels_last};
    }
};

// Pairs kernel tap `tap` = i*kw + j, for positions [p0, p1) of image n and x's channels
// [c0, c0 + block.channels) (all of them, or one group's), with the rows of
// tap `block_tap` of a lowered block (im2col's blocks hold every tap, strided's one), as
// runs of equally spaced elements: run(x_at, x_step, block_at, block_step, count) for runs
// inside x (flat offsets into x and into the block),
// pad(block_at, block_step, count) for runs in the padding. Runs follow x's memory order:
// along positions for NCHW, along channels for NHWC.
template <class T, class E, class Run, class Pad>
void for_each_tap_run(const WindowProblem& p, const Tensor<T>& x, int64_t n, int64_t c0, int64_t tap, int64_t p0,
                      int64_t p1, const Lowered<E>& block, int64_t block_tap, Run&& run, Pad&& pad) {
    const int64_t sc = x.offset(0, 1, 0, 0), sh = x.offset(0, 0, 1, 0), sw = x.offset(0, 0, 0, 1);
    const int64_t OW = p.ow(), C = block.channels, x_step = p.sw * sw;
    const int64_t b0 = block.tap_base(block_tap) - block.data, cs = block.channel_stride(),
                  ps = block.position_stride();
    const TapSlice s = tap_slice(p, tap / p.kw, tap % p.kw);
    for_each_row_segment(p, s, p0, p1, [&](const RowSegment& r) {
        const int64_t at = b0 + (r.oh * OW - p0) * ps;  // the block's ow = 0 of this row
        if (r.inside_begin == r.inside_end) {  // all padding: no coordinate of x to compute
            for (int64_t c = 0; c < C; ++c) pad(at + c * cs + r.begin * ps, ps, r.end - r.begin);
            return;
        }
        const int64_t row = x.offset(n, c0, 0, 0) + r.ih * sh;
        auto x_at = [&](int64_t ow) { return row + (ow * p.sw + r.iw_offset) * sw; };
        if (sc == 1) {  // NHWC: a run over the channels of each position
            for (int64_t ow = r.begin; ow < r.end; ++ow) {
                if (ow >= r.inside_begin && ow < r.inside_end) run(x_at(ow), 1, at + ow * ps, cs, C);
                else pad(at + ow * ps, cs, C);
            }
            return;
        }
        for (int64_t c = 0; c < C; ++c) {  // NCHW: runs over the positions of each channel
            const int64_t ac = at + c * cs;
            pad(ac + r.begin * ps, ps, r.inside_begin - r.begin);
            run(x_at(r.inside_begin) + c * sc, x_step, ac + r.inside_begin * ps, ps, r.inside_end - r.inside_begin);
            pad(ac + r.inside_end * ps, ps, r.end - r.inside_end);
        }
    });
}

// Fills tap `to_tap` of a lowered block with what kernel tap `tap` reads for positions
// [p0, p1) of image n, channels from c0: x's elements, `padding` outside x. Overwrites every
// value.
template <class T>
void gather_tap(const WindowProblem& p, const Tensor<T>& x, int64_t n, int64_t c0, int64_t tap, int64_t p0,
                int64_t p1, T padding, const Lowered<T>& to, int64_t to_tap) {
    const T* src = x.data();
    T* dst = to.data;
    for_each_tap_run(
        p, x, n, c0, tap, p0, p1, to, to_tap,
        [&](int64_t xa, int64_t xs, int64_t ba, int64_t bs, int64_t count) {
            if (xs == 1 && bs == 1) std::copy(src + xa, src + xa + count, dst + ba);
            else
                for (int64_t q = 0; q < count; ++q) dst[ba + q * bs] = src[xa + q * xs];
        },
        [&](int64_t ba, int64_t bs, int64_t count) {
            for (int64_t q = 0; q < count; ++q) dst[ba + q * bs] = padding;
        });
}

// The adjoint of gather_tap: adds tap `from_tap` of a lowered block into dx at the
// elements kernel tap `tap` reads for positions [p0, p1) of image n, channels from c0;
// padding's are dropped.
template <class T>
void scatter_add_tap(const WindowProblem& p, const Lowered<const T>& from, int64_t from_tap, int64_t n,
                     int64_t c0, int64_t tap, int64_t p0, int64_t p1, Tensor<T>& dx) {
    const T* src = from.data;
    T* dst = dx.data();
    for_each_tap_run(
        p, dx, n, c0, tap, p0, p1, from, from_tap,
        [&](int64_t xa, int64_t xs, int64_t ba, int64_t bs, int64_t count) {
            if (xs == 1 && bs == 1) {  // contiguous on both sides: a loop the compiler vectorises
                T* d = dst + xa;
                const T* f = src + ba;
                for (int64_t q = 0; q < count; ++q) d[q] += f[q];
            } else {
                for (int64_t q = 0; q < count; ++q) dst[xa + q * xs] += src[ba + q * bs];
            }
        },
        [](int64_t, int64_t, int64_t) {});
}

// ---- Blocks of output positions -------------------------------------------------------------

// How many output positions a block holds: enough that a block of `rows` lowered values
// per position stays within a few hundred KiB (in the 1 MiB L2 cache with the GEMM's
// packed panels), but never so few that the GEMM's N dimension gets too thin to run fast.
// Tests shrink the policy so that small problems split into many blocks, some ending in
// the middle of an output row; nothing else changes it.
struct BlockPolicy {
    int64_t elements = 48 * 1024;
    int64_t min_positions = 96;
};
inline BlockPolicy& block_policy() {
    static BlockPolicy policy;
    return policy;
}

// The blocks of [0, positions). Depends on the problem only (and the policy), never on the
// thread count, so task boundaries do not either (parallel.hpp).
inline Pieces position_blocks(int64_t positions, int64_t rows) {
    const BlockPolicy& b = block_policy();
    // Not std::clamp: an image with fewer positions than min_positions has lo > hi.
    const int64_t grain = std::min(std::max(b.elements / std::max<int64_t>(rows, 1), b.min_positions), positions);
    return {positions, std::max<int64_t>(grain, 1)};
}

// Groups of images for a reduction over the batch (backward-weights): each group sums into
// its own partial result, and the partials are added in group order afterwards. The count
// depends on the problem only: at most 8 groups, fewer when one partial is large.
inline Pieces image_groups(int64_t mb, int64_t partial_bytes) {
    constexpr int64_t kPartialBudget = int64_t(64) << 20;
    const int64_t groups = std::clamp<int64_t>(kPartialBudget / std::max<int64_t>(partial_bytes, 1), 1, 8);
    const int64_t count = std::min(mb, groups);
    return {mb, (mb + count - 1) / count};
}

// The partial sums of a reduction split into groups (image_groups): group 0 sums into the
// destination (or into a buffer of its own when there is none), each other group into a
// buffer of its own, all stored alike; add_up() then adds them into group 0's storage in
// group order, element by element, so the result is the same for any thread count.
template <class T>
class Partials {
public:
    Partials(int64_t groups, int64_t elements, T* destination) : elements_(elements) {
        for (int64_t g = 0; g < groups; ++g) {
            if (g == 0 && destination) {
                sums_.push_back(destination);
                continue;
            }
            owned_.emplace_back();
            sums_.push_back(allocate(owned_.back(), elements));  // each group overwrites its own first
        }
    }
    T* get(int64_t g) const { return sums_[g]; }
    void add_up() {
        const Pieces pieces{elements_, 1 << 14};
        if (sums_.size() < 2) return;
        parallel_for(pieces.count(), [&](int64_t piece) {
            for (size_t g = 1; g < sums_.size(); ++g)
                for (int64_t e = pieces.begin(piece); e < pieces.end(piece); ++e) sums_[0][e] += sums_[g][e];
        });
    }

private:
    int64_t elements_;
    std::vector<T*> sums_;
    std::vector<Scratch<T>> owned_;
};

// One scratch buffer per parallel slot, allocated by the first task that needs it.
template <class T>
class PerSlot {
public:
    explicit PerSlot(int64_t elements) : elements_(elements), buffers_(parallel_slots()) {}
    T* get(int slot) {
        Scratch<T>& b = buffers_[slot];
        return b ? b.get() : allocate(b, elements_);
    }

private:
    int64_t elements_;
    std::vector<Scratch<T>> buffers_;
};

// Sets image n of an activation-shaped tensor to zero (contiguous in NCHW and NHWC alike).
template <class T>
void zero_image(Tensor<T>& t, int64_t n) {
    const Dims4 d = t.dims();
    const int64_t count = d[1] * d[2] * d[3];
    std::fill(t.data() + n * count, t.data() + (n + 1) * count, T(0));
}

// ---- Bias ------------------------------------------------------------------------------------

// y(k, :) += b[k] for every row k of a channels x positions block.
template <class T>
void add_bias(Matrix<T> y, const T* b) {
    for (int64_t k = 0; k < y.rows; ++k)
        for (int64_t q = 0; q < y.cols; ++q) y(k, q) += b[k];
}

// db[k] = the sum of dy over images and positions, in that order, accumulated in T.
template <class T>
void bias_gradient(const ConvProblem& p, const Tensor<T>& dy, Tensor<T>& db) {
    const Pieces channels{p.oc, 64};
    parallel_for(channels.count(), [&](int64_t blk) {
        for (int64_t k = channels.begin(blk); k < channels.end(blk); ++k) {
            T sum = 0;
            for (int64_t n = 0; n < p.mb; ++n) {
                const Matrix<const T> d = image(dy, n);
                for (int64_t q = 0; q < d.cols; ++q) sum += d(k, q);
            }
            db[k] = sum;
        }
    });
}

}  // namespace convconf::lowering
