#include "impl/im2col/im2col.hpp"

#include <algorithm>
#include <vector>

#include "impl/core/lowering.hpp"
#include "impl/core/parallel.hpp"
#include "impl/im2col/pool.hpp"

namespace convconf::im2col {
namespace {

// One spatial axis of the window geometry: tap t of output position o reads input
// position o*stride - pad + t*dilation, which is padding unless it lies in [0, extent).
struct Axis {
    int64_t extent, stride, pad, dilation;

    int64_t source(int64_t o, int64_t t) const { return o * stride - pad + t * dilation; }
    bool inside(int64_t o, int64_t t) const {
        const int64_t s = source(o, t);
        return s >= 0 && s < extent;
    }
};

Axis height(const WindowProblem& p) { return {p.ih, p.sh, p.pt, p.dh}; }
Axis width(const WindowProblem& p) { return {p.iw, p.sw, p.pl, p.dw}; }

// Visits the column matrix in row-major order, rows (n, oh, ow) and columns (c, i, j):
// f(entry, source), source being the flat offset in x of the element the entry copies, or
// -1 for a tap in the padding: the im2col and col2im ops, whole. x only lends
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

using lowering::Lowered;
using lowering::Matrix;

// How a convolution is lowered here: blocks of output positions of one image, each a
// (ic*kh*kw) x positions matrix with rows (c, i, j) in the layout's order (lowering.hpp),
// sized for the cache. With a 1x1 kernel, stride 1 and no padding the lowered matrix is x.
// With groups, each group is lowered and multiplied on its own: a block then holds one
// group's ic/g channels, and the group's weights, y and dy are row ranges of the whole
// ones (its output channels), so nothing is copied per group.
struct ConvLowering {
    bool channels_last, identity;
    int64_t taps, rows, positions, icg, ocg;
    Pieces blocks;

    explicit ConvLowering(const ConvProblem& p)
        : channels_last(p.layout == Layout::nhwc),
          identity(lowering::lowering_is_identity(p)),
          taps(p.kh * p.kw),
          rows(p.icg() * p.kh * p.kw),
          positions(p.oh() * p.ow()),
          icg(p.icg()),
          ocg(p.ocg()),
          blocks(lowering::position_blocks(positions, rows)) {}

    // Scratch for one block (none when x is the lowered matrix).
    int64_t block_elements() const { return identity ? 0 : rows * blocks.grain; }
    // How many tasks a pass runs (the conv_*_t below): at most this many blocks are in use
    // at once. backward_weights: one per group of images.
    int64_t tasks(const ConvProblem& p, Pass pass, int64_t groups) const {
        if (pass == Pass::backward_weights) return groups;
        if (pass == Pass::backward_data && !identity) return p.mb;
        return p.mb * blocks.count();
    }
    template <class E>
    Lowered<E> block(E* data, int64_t p0, int64_t p1) const {
        return {data, rows / taps, taps, p1 - p0, channels_last};
    }

    // Block [p0, p1) of group q's part of image n's lowered matrix: im2col into `scratch`,
    // or x itself.
    template <class T>
    Matrix<const T> lower(const ConvProblem& p, const Tensor<T>& x, int64_t n, int64_t q, int64_t p0, int64_t p1,
                          T* scratch) const {
        if (identity) return in_group(lowering::image(x, n), q, icg).columns(p0, p1);
        const Lowered<T> b = block(scratch, p0, p1);
        for (int64_t t = 0; t < taps; ++t) lowering::gather_tap(p, x, n, q * icg, t, p0, p1, T(0), b, t);
        return b.matrix();
    }
    // Group q's rows of a matrix whose rows are channels, `per_group` of them a group.
    template <class E>
    static Matrix<E> in_group(Matrix<E> m, int64_t q, int64_t per_group) {
        return m.row_range(q * per_group, (q + 1) * per_group);
    }

    // The weights (or their gradient) as the oc x (ic/g*kh*kw) matrix whose columns follow the
    // lowered rows: OIHW is that matrix for NCHW, and HWIO its transpose for NHWC. Any other
    // pairing goes through a copy.
    bool weights_are_matrix(WeightsLayout l) const {
        return channels_last ? l == WeightsLayout::hwio : l == WeightsLayout::oihw;
    }
    template <class E>
    Matrix<E> weights(E* data, int64_t oc) const {
        if (channels_last) return {data, oc, rows, oc, true};
        return {data, oc, rows, rows, false};
    }
    // f(k, c, i, j, e) for every weight of output channels [k0, k1): e is its index in the
    // oc x rows row-major matrix. Copies between w and that matrix, in either direction.
    template <class T, class F>
    void for_each_weight(const ConvProblem& p, int64_t k0, int64_t k1, F&& f) const {
        const Lowered<const T> order = block<const T>(nullptr, 0, 0);
        for (int64_t k = k0; k < k1; ++k)
            for (int64_t c = 0; c < p.icg(); ++c)
                for (int64_t t = 0; t < taps; ++t) f(k, c, t / p.kw, t % p.kw, k * rows + order.row(c, t));
    }
};

template <class T>
Matrix<const T> weights_matrix(const ConvProblem& p, const ConvLowering& l, const Tensor<T>& w,
                               lowering::Scratch<T>& scratch) {
    if (l.weights_are_matrix(p.weights_layout)) return l.weights<const T>(w.data(), p.oc);
    T* copy = lowering::allocate(scratch, p.oc * l.rows);
    l.for_each_weight<T>(p, 0, p.oc,
                         [&](int64_t k, int64_t c, int64_t i, int64_t j, int64_t e) { copy[e] = w.at(k, c, i, j); });
    return {copy, p.oc, l.rows, l.rows, false};
}

class Im2colVariant final : public VariantOf<Im2colVariant> {
public:
    std::string name() const override { return "im2col"; }
    std::string description() const override {
        return "im2col lowering + GEMM (f32 dnnl_sgemm, f64 blocked), col2im for gradients, "
               "accumulation in T";
    }

    int64_t workspace_bytes(const Call& c) const override {
        const ConvProblem& p = c.problem();
        const int64_t element = c.dtype() == DType::f32 ? sizeof(float) : sizeof(double);
        switch (c.op()) {
            case Op::im2col:
            case Op::col2im: return 0;  // the lowering itself, straight into the output
            case Op::maxpool2d:
            case Op::avgpool2d: return pool_workspace_bytes(p, c.pass(), c.dtype());
            case Op::conv2d: break;
        }
        // Per thread running one lowered block; a copy of the weights unless their layout already is
        // the GEMM's matrix; backward_data a plain copy of W^T unless W is stored
        // transposed (NHWC with HWIO); backward_weights one partial dW per group of images.
        const ConvLowering l(p);
        const int64_t dw = p.oc * l.rows, groups = lowering::image_groups(p.mb, dw * element).count();
        int64_t elements = std::min<int64_t>(parallel_slots(), l.tasks(p, c.pass(), groups)) * l.block_elements();
        if (c.pass() == Pass::backward_weights) {
            // Group 0 sums into dw itself when dw's layout is the GEMM's matrix.
            elements += (groups - (l.weights_are_matrix(p.weights_layout) ? 1 : 0)) * dw;
        } else {
            if (!l.weights_are_matrix(p.weights_layout)) elements += dw;  // weights_matrix's copy
            const bool w_transposed = l.channels_last && p.weights_layout == WeightsLayout::hwio;
            if (c.pass() == Pass::backward_data && !w_transposed) elements += dw;  // plain W^T
        }
        return elements * element;
    }

    std::string implementation_info(const Call& c) const override {
        if (c.op() != Op::conv2d) return {};
        return c.dtype() == DType::f32 ? "GEMM: oneDNN dnnl_sgemm" : "GEMM: convconf blocked f64";
    }

    // Per block of output positions and group: y = W * lowered (+ b). Tasks: (image, block).
    template <class T>
    void conv_forward_t(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& w,
                        const Tensor<T>* b, Tensor<T>& y) const {
        const ConvLowering l(p);
        lowering::Scratch<T> w_scratch;
        const Matrix<const T> W = weights_matrix(p, l, w, w_scratch);
        lowering::PerSlot<T> scratch(l.block_elements());
        const int64_t blocks = l.blocks.count();
        parallel_for(p.mb * blocks, [&](int64_t task, int slot) {
            const int64_t n = task / blocks, p0 = l.blocks.begin(task % blocks), p1 = l.blocks.end(task % blocks);
            const Matrix<T> y_block = lowering::image(y, n).columns(p0, p1);
            for (int64_t q = 0; q < p.g; ++q)
                lowering::multiply_add(l.in_group(y_block, q, l.ocg), l.in_group(W, q, l.ocg),
                                       l.lower(p, x, n, q, p0, p1, scratch.get(slot)), T(0));
            if (b) lowering::add_bias(y_block, b->data());
        });
    }

    // Per block and group: dlowered = W^T * dy, then col2im adds it into dx. Tasks: images
    // (blocks of one image overlap in dx), or (image, block) when col2im is the identity.
    // Group q's W^T is columns of the whole W^T: its output channels.
    template <class T>
    void conv_backward_data_t(const ConvProblem& p, const Tensor<T>& w, const Tensor<T>& dy,
                              Tensor<T>& dx) const {
        const ConvLowering l(p);
        lowering::Scratch<T> w_scratch, wt_scratch;
        const Matrix<const T> WT = lowering::plain(weights_matrix(p, l, w, w_scratch).t(), wt_scratch);
        auto WT_of = [&](int64_t q) { return WT.columns(q * l.ocg, (q + 1) * l.ocg); };
        auto dy_of = [&](int64_t n, int64_t q, int64_t p0, int64_t p1) {
            return l.in_group(lowering::image(dy, n), q, l.ocg).columns(p0, p1);
        };
        const int64_t blocks = l.blocks.count();
        if (l.identity) {
            parallel_for(p.mb * blocks, [&](int64_t task) {
                const int64_t n = task / blocks, p0 = l.blocks.begin(task % blocks), p1 = l.blocks.end(task % blocks);
                for (int64_t q = 0; q < p.g; ++q)
                    lowering::multiply_add(l.in_group(lowering::image(dx, n), q, l.icg).columns(p0, p1), WT_of(q),
                                           dy_of(n, q, p0, p1), T(0));
            });
            return;
        }
        lowering::PerSlot<T> scratch(l.block_elements());
        parallel_for(p.mb, [&](int64_t n, int slot) {
            lowering::zero_image(dx, n);
            for (int64_t blk = 0; blk < blocks; ++blk) {
                const int64_t p0 = l.blocks.begin(blk), p1 = l.blocks.end(blk);
                const Lowered<T> d = l.block(scratch.get(slot), p0, p1);
                for (int64_t q = 0; q < p.g; ++q) {
                    lowering::multiply_add(d.matrix(), WT_of(q), dy_of(n, q, p0, p1), T(0));
                    for (int64_t t = 0; t < l.taps; ++t)
                        lowering::scatter_add_tap<T>(p, d, t, n, q * l.icg, t, p0, p1, dx);
                }
            }
        });
    }

    // dW = the sum over images and blocks of dy * lowered^T, group by group (rows of dW and
    // dy, the group's lowered block). Images are split into groups
    // fixed by the problem (lowering::image_groups): the first sums into dW itself, the
    // others into partial matrices stored like it, added to it in group order afterwards
    // (lowering::Partials). db = sums of dy.
    template <class T>
    void conv_backward_weights_t(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& dy,
                                 Tensor<T>& dw, Tensor<T>* db) const {
        const ConvLowering l(p);
        const int64_t dw_elements = p.oc * l.rows, blocks = l.blocks.count();
        const Pieces groups = lowering::image_groups(p.mb, dw_elements * int64_t(sizeof(T)));
        const bool in_place = l.weights_are_matrix(p.weights_layout);
        lowering::Partials<T> sums(groups.count(), dw_elements, in_place ? dw.data() : nullptr);
        lowering::PerSlot<T> scratch(l.block_elements());
        parallel_for(groups.count(), [&](int64_t g, int slot) {
            const Matrix<T> dW = l.weights(sums.get(g), p.oc);
            for (int64_t n = groups.begin(g); n < groups.end(g); ++n)
                for (int64_t blk = 0; blk < blocks; ++blk) {
                    const int64_t p0 = l.blocks.begin(blk), p1 = l.blocks.end(blk);
                    const bool first = n == groups.begin(g) && blk == 0;
                    for (int64_t q = 0; q < p.g; ++q)
                        lowering::multiply_add(l.in_group(dW, q, l.ocg),
                                               l.in_group(lowering::image(dy, n), q, l.ocg).columns(p0, p1),
                                               l.lower(p, x, n, q, p0, p1, scratch.get(slot)).t(),
                                               first ? T(0) : T(1));
                }
        });
        sums.add_up();
        if (!in_place) {
            // The sum was made in the lowered order, stored as l.weights() stores it.
            const Matrix<const T> sum = l.weights<const T>(sums.get(0), p.oc);
            l.for_each_weight<T>(p, 0, p.oc, [&](int64_t k, int64_t c, int64_t i, int64_t j, int64_t e) {
                dw.at(k, c, i, j) = sum(k, e - k * l.rows);
            });
        }
        if (db) lowering::bias_gradient(p, dy, *db);
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
    void avg_forward_t(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y) const {
        im2col::avg_forward(p, x, y);
    }

    template <class T>
    void avg_backward_t(const PoolProblem& p, const Tensor<T>& dy, Tensor<T>& dx) const {
        im2col::avg_backward(p, dy, dx);
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
