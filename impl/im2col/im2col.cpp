#include "impl/im2col/im2col.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "impl/core/gemm.hpp"
#include "impl/im2col/pool.hpp"

namespace convconf::im2col {
namespace {

// One spatial axis of the window geometry: tap t of output position o reads input
// position o*stride - pad + t*dilation, which is padding unless it lies in [0, extent).
struct Axis {
    int64_t extent, stride, pad, dilation, taps;

    int64_t source(int64_t o, int64_t t) const { return o * stride - pad + t * dilation; }
    bool inside(int64_t o, int64_t t) const {
        const int64_t s = source(o, t);
        return s >= 0 && s < extent;
    }
};

Axis height(const WindowProblem& p) { return {p.ih, p.sh, p.pt, p.dh, p.kh}; }
Axis width(const WindowProblem& p) { return {p.iw, p.sw, p.pl, p.dw, p.kw}; }

int64_t column_elements(const WindowProblem& p) {
    const auto d = p.col_dims();
    return d[0] * d[1];
}

// Visits the column matrix in row-major order, rows (n, oh, ow) and columns (c, i, j):
// f(entry, source), source being the flat offset in x of the element the entry copies, or
// -1 for a tap in the padding. The one place the lowering's geometry lives; x only lends
// its layout, so NHWC gets the same (c, i, j) columns as NCHW.
template <class T, class F>
void for_each_column_entry(const WindowProblem& p, const Tensor<T>& x, F&& f) {
    const Axis h = height(p), w = width(p);
    const int64_t OH = p.oh(), OW = p.ow();
    int64_t entry = 0;
    for (int64_t n = 0; n < p.mb; ++n)
        for (int64_t oh = 0; oh < OH; ++oh)
            for (int64_t ow = 0; ow < OW; ++ow)
                for (int64_t c = 0; c < p.ic; ++c)
                    for (int64_t i = 0; i < p.kh; ++i)
                        for (int64_t j = 0; j < p.kw; ++j) {
                            const bool inside = h.inside(oh, i) && w.inside(ow, j);
                            f(entry++, inside ? x.offset(n, c, h.source(oh, i), w.source(ow, j)) : -1);
                        }
}

// im2col: overwrites every entry of col; taps in the padding get `padding` (0 for
// convolution, -infinity for max-pooling).
template <class T>
void image_to_columns(const WindowProblem& p, const Tensor<T>& x, T padding, T* col) {
    for_each_column_entry(p, x, [&](int64_t e, int64_t source) {
        col[e] = source < 0 ? padding : x[source];
    });
}

// col2im, the exact adjoint of image_to_columns: zeroes x, then adds each entry into the
// element it was copied from, so overlapping windows accumulate; padding taps are dropped.
template <class T>
void columns_to_image(const WindowProblem& p, const T* col, Tensor<T>& x) {
    x.fill(T(0));
    for_each_column_entry(p, x, [&](int64_t e, int64_t source) {
        if (source >= 0) x[source] += col[e];
    });
}

template <class T>
std::vector<T> columns_of(const WindowProblem& p, const Tensor<T>& x, T padding) {
    std::vector<T> col(column_elements(p));
    image_to_columns(p, x, padding, col.data());
    return col;
}

template <class F>
void for_each_index(const Dims4& d, F&& f) {
    for (int64_t a = 0; a < d[0]; ++a)
        for (int64_t b = 0; b < d[1]; ++b)
            for (int64_t c = 0; c < d[2]; ++c)
                for (int64_t e = 0; e < d[3]; ++e) f(a, b, c, e);
}

// Copies `from` into `to` at the same logical indices: a change of axis order.
template <class T>
void reorder(const Tensor<T>& from, Tensor<T>& to) {
    for_each_index(from.dims(), [&](int64_t a, int64_t b, int64_t c, int64_t d) {
        to.at(a, b, c, d) = from.at(a, b, c, d);
    });
}

// The weights as the GEMM's row-major [oc x ic*kh*kw] matrix, whose columns (c, i, j)
// match the column matrix's. OIHW is that matrix already; HWIO is reordered into scratch.
template <class T>
const T* weights_matrix(const Tensor<T>& w, Tensor<T>& scratch) {
    if (w.order() == AxisOrder::oihw) return w.data();
    scratch = Tensor<T>(AxisOrder::oihw, w.dims());
    reorder(w, scratch);
    return scratch.data();
}

int64_t weights_scratch_elements(const ConvProblem& p) {
    return p.weights_layout == WeightsLayout::oihw ? 0 : p.oc * p.ic * p.kh * p.kw;
}

// The GEMMs of a convolution, block by block. y (or dy) is the matrix with rows (n, oh, ow)
// and columns k. NHWC stores it whole, row-major: one block. NCHW stores each image's
// rows transposed, [oc x oh*ow]: one block per image. Block b is rows b*rows onward of
// both that matrix and the column matrix, which has ic*kh*kw columns.
struct Blocks {
    int64_t count, rows, oc, columns;
    bool transposed;

    int64_t y_offset(int64_t b) const { return b * rows * oc; }
    int64_t col_offset(int64_t b) const { return b * rows * columns; }
    // Leading dimension of a stored block of y.
    int64_t ld() const { return transposed ? rows : oc; }
};

Blocks gemm_blocks(const ConvProblem& p) {
    const int64_t spatial = p.oh() * p.ow(), columns = p.ic * p.kh * p.kw;
    if (p.layout == Layout::nhwc) return {1, p.mb * spatial, p.oc, columns, false};
    return {p.mb, spatial, p.oc, columns, true};
}

class Im2colVariant final : public VariantOf<Im2colVariant> {
public:
    std::string name() const override { return "im2col"; }
    std::string description() const override {
        return "im2col lowering + GEMM (f32 dnnl_sgemm, f64 blocked), col2im for gradients, "
               "accumulation in T";
    }

    int64_t workspace_bytes(const CheckKind& k, const ConvProblem& p) const override {
        const int64_t element = k.dtype == DType::f32 ? sizeof(float) : sizeof(double);
        switch (k.op) {
            case Op::im2col:
            case Op::col2im: return 0;  // the lowering itself, straight into the output
            case Op::maxpool2d: return pool_workspace_bytes(p, k.pass, k.dtype);
            case Op::conv2d: break;
        }
        return (column_elements(p) + weights_scratch_elements(p)) * element;
    }

    std::string implementation_info(const CheckKind& k, const ConvProblem&) const override {
        if (k.op != Op::conv2d) return {};
        return k.dtype == DType::f32 ? "GEMM: oneDNN dnnl_sgemm" : "GEMM: convconf blocked f64";
    }

    // y = col * W^T (+ b).
    template <class T>
    void conv_forward_t(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& w,
                        const Tensor<T>* b, Tensor<T>& y) const {
        const std::vector<T> col = columns_of(p, x, T(0));
        Tensor<T> scratch;
        const T* W = weights_matrix(w, scratch);
        const Blocks g = gemm_blocks(p);
        for (int64_t blk = 0; blk < g.count; ++blk) {
            const T* col_b = col.data() + g.col_offset(blk);
            T* y_b = y.data() + g.y_offset(blk);
            // A transposed block is computed as its transpose, W * col^T.
            if (g.transposed)
                gemm<T>(false, true, p.oc, g.rows, g.columns, T(1), W, g.columns, col_b, g.columns, T(0),
                        y_b, g.ld());
            else
                gemm<T>(false, true, g.rows, p.oc, g.columns, T(1), col_b, g.columns, W, g.columns, T(0),
                        y_b, g.ld());
        }
        if (!b) return;
        for_each_index(p.y_dims(), [&](int64_t n, int64_t k, int64_t oh, int64_t ow) {
            y.at(n, k, oh, ow) += (*b)[k];
        });
    }

    // dcol = dy * W, then col2im.
    template <class T>
    void conv_backward_data_t(const ConvProblem& p, const Tensor<T>& w, const Tensor<T>& dy,
                              Tensor<T>& dx) const {
        std::vector<T> dcol(column_elements(p));
        Tensor<T> scratch;
        const T* W = weights_matrix(w, scratch);
        const Blocks g = gemm_blocks(p);
        for (int64_t blk = 0; blk < g.count; ++blk)
            gemm<T>(g.transposed, false, g.rows, g.columns, p.oc, T(1), dy.data() + g.y_offset(blk),
                    g.ld(), W, g.columns, T(0), dcol.data() + g.col_offset(blk), g.columns);
        columns_to_image(p, dcol.data(), dx);
    }

    // dW = dy^T * col, summed over the blocks; db = sums of dy.
    template <class T>
    void conv_backward_weights_t(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& dy,
                                 Tensor<T>& dw, Tensor<T>* db) const {
        const std::vector<T> col = columns_of(p, x, T(0));
        const bool in_place = dw.order() == AxisOrder::oihw;
        Tensor<T> scratch;
        if (!in_place) scratch = Tensor<T>(AxisOrder::oihw, dw.dims());
        T* dW = in_place ? dw.data() : scratch.data();
        const Blocks g = gemm_blocks(p);
        for (int64_t blk = 0; blk < g.count; ++blk) {
            const T beta = blk == 0 ? T(0) : T(1);  // the first block overwrites the poison
            gemm<T>(!g.transposed, false, p.oc, g.columns, g.rows, T(1), dy.data() + g.y_offset(blk),
                    g.ld(), col.data() + g.col_offset(blk), g.columns, beta, dW, g.columns);
        }
        if (!in_place) reorder(scratch, dw);
        if (!db) return;
        db->fill(T(0));
        for_each_index(p.y_dims(), [&](int64_t n, int64_t k, int64_t oh, int64_t ow) {
            (*db)[k] += dy.at(n, k, oh, ow);
        });
    }

    template <class T>
    void pool_forward_t(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y,
                        Tensor<int64_t>& argmax) const {
        im2col::pool_forward(p, x, y, argmax);
    }

    template <class T>
    void pool_backward_t(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy,
                         Tensor<T>& dx) const {
        im2col::pool_backward(p, x, dy, dx);
    }

    template <class T>
    void im2col_t(const WindowProblem& p, const Tensor<T>& x, Tensor<T>& col) const {
        image_to_columns(p, x, T(0), col.data());
    }

    template <class T>
    void col2im_t(const WindowProblem& p, const Tensor<T>& col, Tensor<T>& x) const {
        columns_to_image(p, col.data(), x);
    }
};

}  // namespace

std::unique_ptr<Variant> make_variant() { return std::make_unique<Im2colVariant>(); }

}  // namespace convconf::im2col
