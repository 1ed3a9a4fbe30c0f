#include "impl/strided/strided.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "impl/core/gemm.hpp"
#include "impl/strided/pool.hpp"

namespace convconf::strided {
namespace {

// ---- Geometry: a tap's strided slice, and where it reads inside x ----------------------

// Division rounding toward -infinity, for b >= 1 (C++'s / rounds toward zero).
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// One tap along one axis: output position o reads input coordinate o*stride + offset, and
// [begin, end) are the positions where that coordinate lies inside x. Outside it the tap
// reads padding, so computing the span once per tap removes every bounds test from the
// inner loops. A tap that reads only padding has begin == end.
struct AxisSpan {
    int64_t begin = 0, end = 0, offset = 0;
    bool empty() const { return begin == end; }
};

AxisSpan axis_span(int64_t out, int64_t in, int64_t stride, int64_t pad, int64_t dilation,
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

// One position of a tap's slice: output-grid index (n, c, oh, ow) and the x index it reads.
struct SlicePoint {
    int64_t n, c, oh, ow, ih, iw;
};

// Calls f(i, j, slice) for every tap in window order (row-major over i, j): max-pooling's
// first-maximum rule depends on that order.
template <class F>
void for_each_tap(const WindowProblem& p, F&& f) {
    const int64_t OH = p.oh(), OW = p.ow();
    for (int64_t i = 0; i < p.kh; ++i)
        for (int64_t j = 0; j < p.kw; ++j)
            f(i, j, TapSlice{axis_span(OH, p.ih, p.sh, p.pt, p.dh, i),
                             axis_span(OW, p.iw, p.sw, p.pl, p.dw, j)});
}

// Calls f(SlicePoint) for every position of the slice that reads inside x: numpy's
// xp[:, :, i*dh : i*dh + sh*(OH-1) + 1 : sh, j*dw : ... : sw] without the padding.
template <class F>
void for_each_inside(const WindowProblem& p, const TapSlice& s, F&& f) {
    for (int64_t n = 0; n < p.mb; ++n)
        for (int64_t c = 0; c < p.ic; ++c)
            for (int64_t oh = s.rows.begin; oh < s.rows.end; ++oh) {
                const int64_t ih = oh * p.sh + s.rows.offset;
                for (int64_t ow = s.cols.begin; ow < s.cols.end; ++ow)
                    f(SlicePoint{n, c, oh, ow, ih, ow * p.sw + s.cols.offset});
            }
}

// ---- Matrices over tensors, for the per-tap GEMMs --------------------------------------

// A logical rows x cols matrix stored row-major with leading dimension ld, or stored as its
// transpose (element (r, c) at data[c*ld + r]). E is T or const T.
template <class E>
struct Matrix {
    E* data;
    int64_t rows, cols, ld;
    bool transposed;
    Matrix t() const { return {data, cols, rows, ld, !transposed}; }
};

// Image n of an activation-shaped tensor (n, channels, oh, ow) as a channels x positions
// matrix: NCHW stores exactly that, NHWC stores its transpose. This is how the variant
// handles both layouts without reordering anything.
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

// A plain 2-D tensor as a matrix.
template <class T>
Matrix<T> matrix(Tensor<T>& t) { return {t.data(), t.shape()[0], t.shape()[1], t.shape()[1], false}; }

// c = a * b + beta * c with the shared row-major GEMM. A c stored transposed is computed as
// c^T = b^T * a^T, so every combination of layouts is one GEMM call.
template <class T, class A, class B>
void multiply_add(Matrix<T> c, Matrix<A> a, Matrix<B> b, T beta) {
    assert(a.rows == c.rows && b.cols == c.cols && a.cols == b.rows);
    if (c.transposed) return multiply_add(c.t(), b.t(), a.t(), beta);
    gemm<T>(a.transposed, b.transposed, c.rows, c.cols, a.cols, T(1), a.data, a.ld, b.data, b.ld,
            beta, c.data, c.ld);
}

// ---- Per-tap buffers: the whole workspace ----------------------------------------------

// One tap's slice of an activation: (mb, ic, oh, ow), the output grid with x's channels.
Dims4 slice_dims(const WindowProblem& p) { return {p.mb, p.ic, p.oh(), p.ow()}; }
int64_t slice_count(const WindowProblem& p) { return p.mb * p.ic * p.oh() * p.ow(); }

// What every conv direction works in: one tap's slice of x (or of dx), in the activation
// layout so that image() views it like y, and one tap of the weights, W[:, :, i, j] as a
// dense oc x ic matrix (OIHW's tap is not contiguous, so it is copied whatever the layout).
template <class T>
struct TapBuffers {
    Tensor<T> slice;
    Tensor<T> weights;
    explicit TapBuffers(const ConvProblem& p)
        : slice(axis_order(p.layout), slice_dims(p)), weights({p.oc, p.ic}) {}
};
int64_t tap_buffers_count(const ConvProblem& p) { return slice_count(p) + p.oc * p.ic; }

// Copies tap (i, j)'s slice of x into `slice`; positions in the padding read zero.
template <class T>
void gather_slice(const WindowProblem& p, const Tensor<T>& x, const TapSlice& s, Tensor<T>& slice) {
    slice.fill(T(0));
    for_each_inside(p, s, [&](const SlicePoint& q) {
        slice.at(q.n, q.c, q.oh, q.ow) = x.at(q.n, q.c, q.ih, q.iw);
    });
}

template <class T>
void gather_weights(const Tensor<T>& w, int64_t i, int64_t j, Tensor<T>& tap) {
    const int64_t OC = tap.shape()[0], IC = tap.shape()[1];
    for (int64_t k = 0; k < OC; ++k)
        for (int64_t c = 0; c < IC; ++c) tap[k * IC + c] = w.at(k, c, i, j);
}

template <class T>
void scatter_weights(const Tensor<T>& tap, int64_t i, int64_t j, Tensor<T>& w) {
    const int64_t OC = tap.shape()[0], IC = tap.shape()[1];
    for (int64_t k = 0; k < OC; ++k)
        for (int64_t c = 0; c < IC; ++c) w.at(k, c, i, j) = tap[k * IC + c];
}

// ---- im2col's column matrix ----------------------------------------------------------

// Element (row (n, oh, ow), column (c, i, j)) of the column matrix.
int64_t col_index(const WindowProblem& p, const SlicePoint& q, int64_t i, int64_t j) {
    const int64_t row = (q.n * p.oh() + q.oh) * p.ow() + q.ow;
    return row * (p.ic * p.kh * p.kw) + (q.c * p.kh + i) * p.kw + j;
}

// ---- The variant ----------------------------------------------------------------------

class StridedVariant final : public VariantOf<StridedVariant> {
public:
    std::string name() const override { return "strided"; }
    std::string description() const override {
        return "shift-and-accumulate over kernel taps: one strided slice of x per tap, a GEMM per "
               "tap, accumulation in the dtype";
    }
    int64_t workspace_bytes(const CheckKind& k, const ConvProblem& p) const override {
        const int64_t element = k.dtype == DType::f32 ? sizeof(float) : sizeof(double);
        switch (k.op) {
            case Op::conv2d: return tap_buffers_count(p) * element;
            case Op::maxpool2d: return pool_workspace_bytes(p, k.pass, k.dtype);
            // Each tap's slice goes straight into (comes straight out of) col.
            default: return 0;
        }
    }

    template <class T>
    void conv_forward_t(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& w,
                        const Tensor<T>* b, Tensor<T>& y) const;
    template <class T>
    void conv_backward_data_t(const ConvProblem& p, const Tensor<T>& w, const Tensor<T>& dy,
                              Tensor<T>& dx) const;
    template <class T>
    void conv_backward_weights_t(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& dy,
                                 Tensor<T>& dw, Tensor<T>* db) const;
    template <class T>
    void pool_forward_t(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y,
                        Tensor<int64_t>& argmax) const;
    template <class T>
    void pool_backward_t(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy,
                         Tensor<T>& dx) const;
    template <class T>
    void im2col_t(const WindowProblem& p, const Tensor<T>& x, Tensor<T>& col) const;
    template <class T>
    void col2im_t(const WindowProblem& p, const Tensor<T>& col, Tensor<T>& x) const;
};

// y = b, then per tap y_n += W[:, :, i, j] * slice_n for every image n.
template <class T>
void StridedVariant::conv_forward_t(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& w,
                                    const Tensor<T>* b, Tensor<T>& y) const {
    const int64_t OH = p.oh(), OW = p.ow();
    for (int64_t n = 0; n < p.mb; ++n)
        for (int64_t k = 0; k < p.oc; ++k)
            for (int64_t oh = 0; oh < OH; ++oh)
                for (int64_t ow = 0; ow < OW; ++ow) y.at(n, k, oh, ow) = b ? (*b)[k] : T(0);
    TapBuffers<T> buf(p);
    for_each_tap(p, [&](int64_t i, int64_t j, const TapSlice& s) {
        if (s.empty()) return;  // the tap reads only padding: it adds zero
        gather_slice(p, x, s, buf.slice);
        gather_weights(w, i, j, buf.weights);
        for (int64_t n = 0; n < p.mb; ++n)
            multiply_add(image(y, n), matrix(buf.weights), image(buf.slice, n), T(1));
    });
}

// Per tap: slice_n = W[:, :, i, j]^T * dy_n, then the slice's positions inside x are added
// into dx (those in the padding have no element of x to go to).
template <class T>
void StridedVariant::conv_backward_data_t(const ConvProblem& p, const Tensor<T>& w,
                                          const Tensor<T>& dy, Tensor<T>& dx) const {
    dx.fill(T(0));
    TapBuffers<T> buf(p);
    for_each_tap(p, [&](int64_t i, int64_t j, const TapSlice& s) {
        if (s.empty()) return;
        gather_weights(w, i, j, buf.weights);
        for (int64_t n = 0; n < p.mb; ++n)
            multiply_add(image(buf.slice, n), matrix(buf.weights).t(), image(dy, n), T(0));
        for_each_inside(p, s, [&](const SlicePoint& q) {
            dx.at(q.n, q.c, q.ih, q.iw) += buf.slice.at(q.n, q.c, q.oh, q.ow);
        });
    });
}

// Per tap: dW[:, :, i, j] = sum over images of dy_n * slice_n^T; db = the sum of dy.
template <class T>
void StridedVariant::conv_backward_weights_t(const ConvProblem& p, const Tensor<T>& x,
                                             const Tensor<T>& dy, Tensor<T>& dw,
                                             Tensor<T>* db) const {
    TapBuffers<T> buf(p);
    for_each_tap(p, [&](int64_t i, int64_t j, const TapSlice& s) {
        if (s.empty()) {
            buf.weights.fill(T(0));  // no position of the tap reads x
        } else {
            gather_slice(p, x, s, buf.slice);
            for (int64_t n = 0; n < p.mb; ++n)
                multiply_add(matrix(buf.weights), image(dy, n), image(buf.slice, n).t(),
                             n == 0 ? T(0) : T(1));
        }
        scatter_weights(buf.weights, i, j, dw);
    });
    if (!db) return;
    const int64_t OH = p.oh(), OW = p.ow();
    for (int64_t k = 0; k < p.oc; ++k) {
        T sum = 0;
        for (int64_t n = 0; n < p.mb; ++n)
            for (int64_t oh = 0; oh < OH; ++oh)
                for (int64_t ow = 0; ow < OW; ++ow) sum += dy.at(n, k, oh, ow);
        (*db)[k] = sum;
    }
}

template <class T>
void StridedVariant::pool_forward_t(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y,
                                    Tensor<int64_t>& argmax) const {
    strided::pool_forward(p, x, y, argmax);
}

template <class T>
void StridedVariant::pool_backward_t(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy,
                                     Tensor<T>& dx) const {
    strided::pool_backward(p, x, dy, dx);
}

// Per tap: the slice fills column (c, i, j) of every row; rows whose tap is in the padding
// keep the zero written first.
template <class T>
void StridedVariant::im2col_t(const WindowProblem& p, const Tensor<T>& x, Tensor<T>& col) const {
    col.fill(T(0));
    for_each_tap(p, [&](int64_t i, int64_t j, const TapSlice& s) {
        for_each_inside(p, s, [&](const SlicePoint& q) {
            col[col_index(p, q, i, j)] = x.at(q.n, q.c, q.ih, q.iw);
        });
    });
}

// The adjoint: per tap, column (c, i, j) is added back into the slice; padding drops out.
template <class T>
void StridedVariant::col2im_t(const WindowProblem& p, const Tensor<T>& col, Tensor<T>& x) const {
    x.fill(T(0));
    for_each_tap(p, [&](int64_t i, int64_t j, const TapSlice& s) {
        for_each_inside(p, s, [&](const SlicePoint& q) {
            x.at(q.n, q.c, q.ih, q.iw) += col[col_index(p, q, i, j)];
        });
    });
}

}  // namespace

std::unique_ptr<Variant> make_variant() { return std::make_unique<StridedVariant>(); }

}  // namespace convconf::strided
