#include "impl/strided/strided.hpp"

#include <algorithm>
#include <cassert>

#include <vector>

#include "impl/core/lowering.hpp"
#include "impl/core/parallel.hpp"
#include "impl/strided/depthwise.hpp"
#include "impl/strided/pool.hpp"

namespace convconf::strided {
namespace {

using lowering::AxisSpan;
using lowering::for_each_tap;
using lowering::Lowered;
using lowering::Matrix;
using lowering::TapSlice;

// One position of a tap's slice: output-grid index (n, c, oh, ow) and the x index it reads.
struct SlicePoint {
    int64_t n, c, oh, ow, ih, iw;
};

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

// ---- Convolution: per-tap weights and blocks ----------------------------------------------

// The slice of one tap for a block of output positions and one group: an ic/g x positions
// matrix in the activation layout, like the im2col family's lowered blocks with a single
// tap. y's block (oc x positions) is accumulated tap by tap while it stays in cache; with
// groups, group q's part of it, of dy and of each tap's weights are row ranges (its output
// channels, rows()), multiplied by that group's slice. Depthwise convolution, where that
// would be a 1x1 GEMM per channel and tap, goes straight to the tensors (depthwise.hpp).
struct ConvBlocks {
    bool channels_last, identity;
    int64_t taps, positions, icg, ocg;
    Pieces blocks;

    explicit ConvBlocks(const ConvProblem& p)
        : channels_last(p.layout == Layout::nhwc),
          identity(lowering::lowering_is_identity(p)),
          taps(p.kh * p.kw),
          positions(p.oh() * p.ow()),
          icg(p.icg()),
          ocg(p.ocg()),
          blocks(lowering::position_blocks(positions, p.icg() + p.oc)) {}

    int64_t slice_elements(const ConvProblem& p) const { return identity ? 0 : p.icg() * blocks.grain; }
    // Group q's output channels of a matrix whose rows are oc channels (y, dy, a tap's W).
    template <class E>
    Matrix<E> rows(Matrix<E> m, int64_t q) const { return m.row_range(q * ocg, (q + 1) * ocg); }
    // How many tasks a pass runs (the conv_*_t below): at most this many slices are in use
    // at once. backward_weights: one per group of images and tap.
    int64_t tasks(const ConvProblem& p, Pass pass, int64_t groups) const {
        if (pass == Pass::backward_weights) return groups * taps;
        if (pass == Pass::backward_data && !identity) return p.mb;
        return p.mb * blocks.count();
    }
    template <class E>
    Lowered<E> slice(const ConvProblem& p, E* data, int64_t p0, int64_t p1) const {
        return {data, p.icg(), 1, p1 - p0, channels_last};
    }
    // Tap t's slice of group q's channels of image n for positions [p0, p1): gathered into
    // `scratch`, or x itself.
    template <class T>
    Matrix<const T> gather(const ConvProblem& p, const Tensor<T>& x, int64_t n, int64_t q, int64_t t, int64_t p0,
                           int64_t p1, T* scratch) const {
        if (identity) return lowering::image(x, n).row_range(q * icg, (q + 1) * icg).columns(p0, p1);
        const Lowered<T> s = slice(p, scratch, p0, p1);
        lowering::gather_tap(p, x, n, q * icg, t, p0, p1, T(0), s, 0);
        return s.matrix();
    }
};

// W[:, :, i, j], tap t = i*kw + j, as an oc x ic/g matrix, stored tap after tap either as
// OIHW's single tap stores it ([oc][ic], plain) or as HWIO does ([ic][oc], transposed).
// Forward and backward_weights use w in place when it stores its taps so (HWIO, or a
// 1x1 OIHW), else an [oc][ic] copy. backward_data multiplies by each tap's transpose, which
// the GEMM wants plain (lowering::plain): HWIO is that, anything else is copied as HWIO.
struct TapWeights {
    int64_t oc, ic, taps;
    bool hwio_order, in_place;

    TapWeights(const ConvProblem& p, Pass pass)
        : oc(p.oc), ic(p.icg()), taps(p.kh * p.kw),
          hwio_order(pass == Pass::backward_data || p.weights_layout == WeightsLayout::hwio),
          in_place(p.weights_layout == WeightsLayout::hwio || (taps == 1 && !hwio_order)) {}

    int64_t scratch_elements() const { return in_place ? 0 : taps * oc * ic; }
    // Tap t of weights stored as hwio_order says (w's own storage, or the copy).
    template <class E>
    Matrix<E> tap(E* data, int64_t t) const {
        if (hwio_order) return {data + t * ic * oc, oc, ic, oc, true};
        return {data + t * oc * ic, oc, ic, ic, false};
    }
    // f(k, c, i, j, e) for every weight: e is its index in an [oc][ic] copy.
    template <class F>
    void for_each(const ConvProblem& p, F&& f) const {
        for (int64_t t = 0; t < taps; ++t)
            for (int64_t k = 0; k < oc; ++k)
                for (int64_t c = 0; c < ic; ++c) f(k, c, t / p.kw, t % p.kw, (t * oc + k) * ic + c);
    }
    template <class T>
    const T* storage(const ConvProblem& p, const Tensor<T>& w, lowering::Scratch<T>& scratch) const {
        if (in_place) return w.data();
        T* copy = lowering::allocate(scratch, scratch_elements());
        if (!hwio_order) {
            for_each(p, [&](int64_t k, int64_t c, int64_t i, int64_t j, int64_t e) { copy[e] = w.at(k, c, i, j); });
            return copy;
        }
        // OIHW into HWIO: tap t of w is an oc x ic matrix with strides (ic*taps, taps).
        parallel_for(taps, [&](int64_t t) {
            lowering::transpose(w.data() + t, oc, ic, ic * taps, taps, copy + t * ic * oc, oc);
        });
        return copy;
    }
};

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
    int64_t workspace_bytes(const Call& c) const override {
        const ConvProblem& p = c.problem();
        const int64_t element = c.dtype() == DType::f32 ? sizeof(float) : sizeof(double);
        switch (c.op()) {
            case Op::conv2d: {
                if (depthwise::applies(p)) return depthwise::workspace_elements(p, c.pass()) * element;
                // Per thread running one tap's slice of a block; a copy of the weights unless w
                // stores each tap as a matrix; backward-weights: a partial dW per group of
                // images, group 0's in dw itself when w stores each tap as a matrix.
                const ConvBlocks cb(p);
                const TapWeights tw(p, c.pass());
                const int64_t dw = cb.taps * p.oc * p.icg(), groups = lowering::image_groups(p.mb, dw * element).count();
                int64_t elements = std::min<int64_t>(parallel_slots(), cb.tasks(p, c.pass(), groups)) * cb.slice_elements(p);
                if (c.pass() == Pass::backward_weights) {
                    elements += (groups - (tw.in_place ? 1 : 0)) * dw;
                } else {
                    elements += tw.scratch_elements();
                }
                return elements * element;
            }
            case Op::maxpool2d:
            case Op::avgpool2d: return pool_workspace_bytes(p, c.pass(), c.dtype());
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
    void avg_forward_t(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y) const {
        strided::avg_forward(p, x, y);
    }
    template <class T>
    void avg_backward_t(const PoolProblem& p, const Tensor<T>& dy, Tensor<T>& dx) const {
        strided::avg_backward(p, dy, dx);
    }
    template <class T>
    void im2col_t(const WindowProblem& p, const Tensor<T>& x, Tensor<T>& col) const;
    template <class T>
    void col2im_t(const WindowProblem& p, const Tensor<T>& col, Tensor<T>& x) const;
};

// Per block of output positions of one image: y = sum over taps of W[:, :, i, j] * slice,
// group by group, then + b. Tasks: (image, block). Taps that read only padding add nothing
// and are skipped.
template <class T>
void StridedVariant::conv_forward_t(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& w,
                                    const Tensor<T>* b, Tensor<T>& y) const {
    if (depthwise::applies(p)) return depthwise::forward(p, x, w, b, y);
    const ConvBlocks cb(p);
    const TapWeights tw(p, Pass::forward);
    lowering::Scratch<T> w_scratch;
    const T* W = tw.storage(p, w, w_scratch);
    lowering::PerSlot<T> scratch(cb.slice_elements(p));
    const int64_t blocks = cb.blocks.count();
    parallel_for(p.mb * blocks, [&](int64_t task, int slot) {
        const int64_t n = task / blocks, p0 = cb.blocks.begin(task % blocks), p1 = cb.blocks.end(task % blocks);
        const Matrix<T> y_block = lowering::image(y, n).columns(p0, p1);
        bool first = true;
        for_each_tap(p, [&](int64_t i, int64_t j, const TapSlice& s) {
            if (s.empty()) return;
            const int64_t t = i * p.kw + j;
            for (int64_t q = 0; q < p.g; ++q)
                lowering::multiply_add(cb.rows(y_block, q), cb.rows(tw.tap(W, t), q),
                                       cb.gather(p, x, n, q, t, p0, p1, scratch.get(slot)), first ? T(0) : T(1));
            first = false;
        });
        if (first)  // every tap reads only padding
            for (int64_t k = 0; k < p.oc; ++k)
                for (int64_t q = 0; q < y_block.cols; ++q) y_block(k, q) = T(0);
        if (b) lowering::add_bias(y_block, b->data());
    });
}

// Per block and tap: slice = W[:, :, i, j]^T * dy, added into dx where the tap reads x.
// Tasks: images (the taps of one image overlap in dx), or (image, block) for a 1x1
// stride-1 convolution, whose only slice is dx itself.
template <class T>
void StridedVariant::conv_backward_data_t(const ConvProblem& p, const Tensor<T>& w,
                                          const Tensor<T>& dy, Tensor<T>& dx) const {
    if (depthwise::applies(p)) return depthwise::backward_data(p, w, dy, dx);
    const ConvBlocks cb(p);
    const TapWeights tw(p, Pass::backward_data);
    lowering::Scratch<T> w_scratch;
    const T* W = tw.storage(p, w, w_scratch);
    const int64_t blocks = cb.blocks.count();
    if (cb.identity) {
        parallel_for(p.mb * blocks, [&](int64_t task) {
            const int64_t n = task / blocks, p0 = cb.blocks.begin(task % blocks), p1 = cb.blocks.end(task % blocks);
            for (int64_t q = 0; q < p.g; ++q)
                lowering::multiply_add(lowering::image(dx, n).row_range(q * cb.icg, (q + 1) * cb.icg).columns(p0, p1),
                                       cb.rows(tw.tap(W, 0), q).t(), cb.rows(lowering::image(dy, n), q).columns(p0, p1),
                                       T(0));
        });
        return;
    }
    lowering::PerSlot<T> scratch(cb.slice_elements(p));
    parallel_for(p.mb, [&](int64_t n, int slot) {
        lowering::zero_image(dx, n);
        for (int64_t blk = 0; blk < blocks; ++blk) {
            const int64_t p0 = cb.blocks.begin(blk), p1 = cb.blocks.end(blk);
            const Lowered<T> slice = cb.slice(p, scratch.get(slot), p0, p1);
            for_each_tap(p, [&](int64_t i, int64_t j, const TapSlice& s) {
                if (s.empty()) return;
                const int64_t t = i * p.kw + j;
                for (int64_t q = 0; q < p.g; ++q) {
                    lowering::multiply_add(slice.matrix(), cb.rows(tw.tap(W, t), q).t(),
                                           cb.rows(lowering::image(dy, n), q).columns(p0, p1), T(0));
                    lowering::scatter_add_tap<T>(p, slice, 0, n, q * cb.icg, t, p0, p1, dx);
                }
            });
        }
    });
}

// dW[:, :, i, j] = the sum over images and blocks of dy * slice^T. Tasks: (group of
// images, tap); each group (lowering::image_groups, fixed by the problem) sums into its own
// partial dW, added up in group order (lowering::Partials). db = the sums of dy.
template <class T>
void StridedVariant::conv_backward_weights_t(const ConvProblem& p, const Tensor<T>& x,
                                             const Tensor<T>& dy, Tensor<T>& dw,
                                             Tensor<T>* db) const {
    if (depthwise::applies(p)) return depthwise::backward_weights(p, x, dy, dw, db);
    const ConvBlocks cb(p);
    const TapWeights tw(p, Pass::backward_weights);
    const int64_t dw_elements = cb.taps * p.oc * p.icg(), blocks = cb.blocks.count();
    const Pieces groups = lowering::image_groups(p.mb, dw_elements * int64_t(sizeof(T)));
    lowering::Partials<T> sums(groups.count(), dw_elements, tw.in_place ? dw.data() : nullptr);
    lowering::PerSlot<T> scratch(cb.slice_elements(p));
    parallel_for(groups.count() * cb.taps, [&](int64_t task, int slot) {
        const int64_t g = task / cb.taps, t = task % cb.taps;
        const Matrix<T> dW = tw.tap(sums.get(g), t);
        if (lowering::tap_slice(p, t / p.kw, t % p.kw).empty()) {  // no position reads x
            for (int64_t k = 0; k < p.oc; ++k)
                for (int64_t c = 0; c < p.icg(); ++c) dW(k, c) = T(0);
            return;
        }
        for (int64_t n = groups.begin(g); n < groups.end(g); ++n)
            for (int64_t blk = 0; blk < blocks; ++blk) {
                const int64_t p0 = cb.blocks.begin(blk), p1 = cb.blocks.end(blk);
                const bool first = n == groups.begin(g) && blk == 0;
                for (int64_t q = 0; q < p.g; ++q)
                    lowering::multiply_add(cb.rows(dW, q), cb.rows(lowering::image(dy, n), q).columns(p0, p1),
                                           cb.gather(p, x, n, q, t, p0, p1, scratch.get(slot)).t(), first ? T(0) : T(1));
            }
    });
    sums.add_up();
    if (!tw.in_place) {
        const T* sum = sums.get(0);
        tw.for_each(p, [&](int64_t k, int64_t c, int64_t i, int64_t j, int64_t e) { dw.at(k, c, i, j) = sum[e]; });
    }
    if (db) lowering::bias_gradient(p, dy, *db);
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
