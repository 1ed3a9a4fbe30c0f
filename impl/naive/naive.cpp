#include "impl/naive/naive.hpp"

#include <cmath>

#include "impl/core/progress.hpp"

namespace convconf::naive {

// Each function copies the problem's fields into short constants and its tensors into
// views (Tensor::view) first, as benchdnn's reference does: the loops then read values
// the compiler keeps in registers, instead of reloading them from the problem and the
// tensors at every term.
//
// progress::begin(steps) and the progress::step() in the second loop's increment count the
// outer iterations (one per image and channel) for the progress line of a long check
// (impl/core/progress.hpp); they do nothing to the arithmetic.

// Groups: output channel k belongs to group g = k / OCG and sums over that group's ICG input
// channels g*ICG + c, c < ICG, with w(k, c, i, j); input channel c of group g receives from
// that group's OCG output channels. With one group these are the plain convolution's sums.

template <class T>
void conv_forward(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& w,
                  const Tensor<T>* b, Tensor<T>& y) {
    const int64_t MB = p.mb, ICG = p.icg(), OC = p.oc, OCG = p.ocg(), IH = p.ih, IW = p.iw;
    const int64_t OH = p.oh(), OW = p.ow(), KH = p.kh, KW = p.kw;
    const int64_t SH = p.sh, SW = p.sw, PT = p.pt, PL = p.pl, DH = p.dh, DW = p.dw;
    const auto X = x.view(), Wt = w.view();
    const auto Y = y.view();
    progress::begin(MB * OC);
    for (int64_t n = 0; n < MB; ++n)
        for (int64_t k = 0; k < OC; ++k, progress::step())
            for (int64_t oh = 0; oh < OH; ++oh)
                for (int64_t ow = 0; ow < OW; ++ow) {
                    const int64_t g = k / OCG;
                    double acc = b ? double((*b)[k]) : 0.0;
                    for (int64_t c = 0; c < ICG; ++c)
                        for (int64_t i = 0; i < KH; ++i) {
                            const int64_t ih = oh * SH - PT + i * DH;
                            if (ih < 0 || ih >= IH) continue;
                            for (int64_t j = 0; j < KW; ++j) {
                                const int64_t iw = ow * SW - PL + j * DW;
                                if (iw < 0 || iw >= IW) continue;
                                acc += double(X(n, g * ICG + c, ih, iw)) * double(Wt(k, c, i, j));
                            }
                        }
                    Y(n, k, oh, ow) = T(acc);
                }
}

template <class T>
void conv_backward_data(const ConvProblem& p, const Tensor<T>& w, const Tensor<T>& dy,
                        Tensor<T>& dx) {
    const int64_t MB = p.mb, IC = p.ic, ICG = p.icg(), OCG = p.ocg(), IH = p.ih, IW = p.iw;
    const int64_t OH = p.oh(), OW = p.ow(), KH = p.kh, KW = p.kw;
    const int64_t SH = p.sh, SW = p.sw, PT = p.pt, PL = p.pl, DH = p.dh, DW = p.dw;
    const auto Wt = w.view(), DY = dy.view();
    const auto DX = dx.view();
    progress::begin(MB * IC);
    for (int64_t n = 0; n < MB; ++n)
        for (int64_t c = 0; c < IC; ++c, progress::step())
            for (int64_t ih = 0; ih < IH; ++ih)
                for (int64_t iw = 0; iw < IW; ++iw) {
                    const int64_t g = c / ICG;
                    double acc = 0.0;
                    for (int64_t k = g * OCG; k < (g + 1) * OCG; ++k)
                        for (int64_t i = 0; i < KH; ++i) {
                            // Tap i of output row oh reads row ih when oh*sh = ih + pt - i*dh.
                            const int64_t oh_strided = ih + PT - i * DH;
                            if (oh_strided < 0 || oh_strided % SH != 0) continue;
                            const int64_t oh = oh_strided / SH;
                            if (oh >= OH) continue;
                            for (int64_t j = 0; j < KW; ++j) {
                                const int64_t ow_strided = iw + PL - j * DW;
                                if (ow_strided < 0 || ow_strided % SW != 0) continue;
                                const int64_t ow = ow_strided / SW;
                                if (ow >= OW) continue;
                                acc += double(DY(n, k, oh, ow)) * double(Wt(k, c - g * ICG, i, j));
                            }
                        }
                    DX(n, c, ih, iw) = T(acc);
                }
}

template <class T>
void conv_backward_weights(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& dy,
                           Tensor<T>& dw, Tensor<T>* db) {
    const int64_t MB = p.mb, ICG = p.icg(), OC = p.oc, OCG = p.ocg(), IH = p.ih, IW = p.iw;
    const int64_t OH = p.oh(), OW = p.ow(), KH = p.kh, KW = p.kw;
    const int64_t SH = p.sh, SW = p.sw, PT = p.pt, PL = p.pl, DH = p.dh, DW = p.dw;
    const auto X = x.view(), DY = dy.view();
    const auto grad_w = dw.view();  // dw, the gradient (not DW, the dilation)
    progress::begin(OC * ICG);
    for (int64_t k = 0; k < OC; ++k)
        for (int64_t c = 0; c < ICG; ++c, progress::step())
            for (int64_t i = 0; i < KH; ++i)
                for (int64_t j = 0; j < KW; ++j) {
                    const int64_t g = k / OCG;
                    double acc = 0.0;
                    for (int64_t n = 0; n < MB; ++n)
                        for (int64_t oh = 0; oh < OH; ++oh) {
                            const int64_t ih = oh * SH - PT + i * DH;
                            if (ih < 0 || ih >= IH) continue;
                            for (int64_t ow = 0; ow < OW; ++ow) {
                                const int64_t iw = ow * SW - PL + j * DW;
                                if (iw < 0 || iw >= IW) continue;
                                acc += double(DY(n, k, oh, ow)) * double(X(n, g * ICG + c, ih, iw));
                            }
                        }
                    grad_w(k, c, i, j) = T(acc);
                }
    if (!db) return;
    for (int64_t k = 0; k < OC; ++k) {
        double acc = 0.0;
        for (int64_t n = 0; n < MB; ++n)
            for (int64_t oh = 0; oh < OH; ++oh)
                for (int64_t ow = 0; ow < OW; ++ow) acc += double(DY(n, k, oh, ow));
        (*db)[k] = T(acc);
    }
}

namespace {

struct Choice {
    int64_t i = -1, j = -1;  // window-local tap; -1 when the window covers no element of x
};

// The element max-pooling chooses in one window, per the contract: the first maximum in
// window order (row-major over i, j); a NaN beats everything and the first NaN is kept;
// padding (-infinity) is never chosen, so an all -inf window picks its first element of x.
template <class T>
Choice choose(const PoolProblem& p, const Tensor<T>& x, int64_t n, int64_t c, int64_t oh,
              int64_t ow) {
    Choice best;
    T best_value{};
    for (int64_t i = 0; i < p.kh; ++i) {
        const int64_t ih = oh * p.sh - p.pt + i * p.dh;
        if (ih < 0 || ih >= p.ih) continue;
        for (int64_t j = 0; j < p.kw; ++j) {
            const int64_t iw = ow * p.sw - p.pl + j * p.dw;
            if (iw < 0 || iw >= p.iw) continue;
            const T v = x.at(n, c, ih, iw);
            bool take;
            if (best.i < 0) take = true;                    // first element of x in the window
            else if (std::isnan(best_value)) take = false;  // the first NaN stays chosen
            else if (std::isnan(v)) take = true;
            else take = v > best_value;                     // strict: ties keep the first
            if (take) {
                best = {i, j};
                best_value = v;
            }
        }
    }
    return best;
}

}  // namespace

template <class T>
void pool_forward(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y, Tensor<int64_t>& argmax) {
    const int64_t OH = p.oh(), OW = p.ow();
    progress::begin(p.mb * p.ic);
    for (int64_t n = 0; n < p.mb; ++n)
        for (int64_t c = 0; c < p.ic; ++c, progress::step())
            for (int64_t oh = 0; oh < OH; ++oh)
                for (int64_t ow = 0; ow < OW; ++ow) {
                    const Choice ch = choose(p, x, n, c, oh, ow);
                    // validate() guarantees every window covers an element of x.
                    const int64_t ih = oh * p.sh - p.pt + ch.i * p.dh;
                    const int64_t iw = ow * p.sw - p.pl + ch.j * p.dw;
                    y.at(n, c, oh, ow) = x.at(n, c, ih, iw);
                    argmax.at(n, c, oh, ow) = ch.i * p.kw + ch.j;
                }
}

template <class T>
void pool_backward(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dx) {
    const int64_t OH = p.oh(), OW = p.ow();
    // Overlapping windows (stride < kernel) accumulate; sum in double, round once.
    Tensor<double> acc(dx.order(), dx.dims(), 0.0);
    progress::begin(p.mb * p.ic);
    for (int64_t n = 0; n < p.mb; ++n)
        for (int64_t c = 0; c < p.ic; ++c, progress::step())
            for (int64_t oh = 0; oh < OH; ++oh)
                for (int64_t ow = 0; ow < OW; ++ow) {
                    const Choice ch = choose(p, x, n, c, oh, ow);
                    const int64_t ih = oh * p.sh - p.pt + ch.i * p.dh;
                    const int64_t iw = ow * p.sw - p.pl + ch.j * p.dw;
                    acc.at(n, c, ih, iw) += double(dy.at(n, c, oh, ow));
                }
    for (int64_t e = 0; e < dx.size(); ++e) dx[e] = T(acc[e]);
}

namespace {

// Average pooling's divisor of window (oh, ow), counted tap by tap: the taps inside x, and
// with avg_p (count_include_pad) those in the padding too, but never a tap beyond the
// padded input (ceil mode's last window can reach past it).
int64_t divisor(const PoolProblem& p, int64_t oh, int64_t ow) {
    int64_t count = 0;
    for (int64_t i = 0; i < p.kh; ++i) {
        const int64_t ih = oh * p.sh - p.pt + i * p.dh;
        for (int64_t j = 0; j < p.kw; ++j) {
            const int64_t iw = ow * p.sw - p.pl + j * p.dw;
            const bool in_x = ih >= 0 && ih < p.ih && iw >= 0 && iw < p.iw;
            const bool in_padded = ih >= -p.pt && ih < p.ih + p.pb && iw >= -p.pl && iw < p.iw + p.pr;
            if (in_x || (p.alg == PoolAlg::avg_p && in_padded)) ++count;
        }
    }
    return count;
}

}  // namespace

template <class T>
void avg_forward(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y) {
    const int64_t OH = p.oh(), OW = p.ow();
    progress::begin(p.mb * p.ic);
    for (int64_t n = 0; n < p.mb; ++n)
        for (int64_t c = 0; c < p.ic; ++c, progress::step())
            for (int64_t oh = 0; oh < OH; ++oh)
                for (int64_t ow = 0; ow < OW; ++ow) {
                    double sum = 0.0;
                    for (int64_t i = 0; i < p.kh; ++i) {
                        const int64_t ih = oh * p.sh - p.pt + i * p.dh;
                        if (ih < 0 || ih >= p.ih) continue;
                        for (int64_t j = 0; j < p.kw; ++j) {
                            const int64_t iw = ow * p.sw - p.pl + j * p.dw;
                            if (iw < 0 || iw >= p.iw) continue;
                            sum += double(x.at(n, c, ih, iw));
                        }
                    }
                    // validate() guarantees every window has a tap inside x: divisor >= 1.
                    y.at(n, c, oh, ow) = T(sum / double(divisor(p, oh, ow)));
                }
}

template <class T>
void avg_backward(const PoolProblem& p, const Tensor<T>& dy, Tensor<T>& dx) {
    const int64_t OH = p.oh(), OW = p.ow();
    // Overlapping windows (stride < kernel) accumulate; sum in double, round once.
    Tensor<double> acc(dx.order(), dx.dims(), 0.0);
    progress::begin(p.mb * p.ic);
    for (int64_t n = 0; n < p.mb; ++n)
        for (int64_t c = 0; c < p.ic; ++c, progress::step())
            for (int64_t oh = 0; oh < OH; ++oh)
                for (int64_t ow = 0; ow < OW; ++ow) {
                    const double share = double(dy.at(n, c, oh, ow)) / double(divisor(p, oh, ow));
                    for (int64_t i = 0; i < p.kh; ++i) {
                        const int64_t ih = oh * p.sh - p.pt + i * p.dh;
                        if (ih < 0 || ih >= p.ih) continue;
                        for (int64_t j = 0; j < p.kw; ++j) {
                            const int64_t iw = ow * p.sw - p.pl + j * p.dw;
                            if (iw < 0 || iw >= p.iw) continue;
                            acc.at(n, c, ih, iw) += share;
                        }
                    }
                }
    for (int64_t e = 0; e < dx.size(); ++e) dx[e] = T(acc[e]);
}

template <class T>
void im2col(const WindowProblem& p, const Tensor<T>& x, Tensor<T>& col) {
    const int64_t OH = p.oh(), OW = p.ow(), KH = p.kh, KW = p.kw;
    const int64_t cols = p.ic * KH * KW;
    progress::begin(p.mb * OH);
    for (int64_t n = 0; n < p.mb; ++n)
        for (int64_t oh = 0; oh < OH; ++oh, progress::step())
            for (int64_t ow = 0; ow < OW; ++ow) {
                const int64_t row = (n * OH + oh) * OW + ow;
                for (int64_t c = 0; c < p.ic; ++c)
                    for (int64_t i = 0; i < KH; ++i)
                        for (int64_t j = 0; j < KW; ++j) {
                            const int64_t ih = oh * p.sh - p.pt + i * p.dh;
                            const int64_t iw = ow * p.sw - p.pl + j * p.dw;
                            const bool inside = ih >= 0 && ih < p.ih && iw >= 0 && iw < p.iw;
                            col[row * cols + (c * KH + i) * KW + j] = inside ? x.at(n, c, ih, iw) : T(0);
                        }
            }
}

template <class T>
void col2im(const WindowProblem& p, const Tensor<T>& col, Tensor<T>& x) {
    const int64_t OH = p.oh(), OW = p.ow(), KH = p.kh, KW = p.kw;
    const int64_t cols = p.ic * KH * KW;
    progress::begin(p.mb * p.ic);
    for (int64_t n = 0; n < p.mb; ++n)
        for (int64_t c = 0; c < p.ic; ++c, progress::step())
            for (int64_t ih = 0; ih < p.ih; ++ih)
                for (int64_t iw = 0; iw < p.iw; ++iw) {
                    double acc = 0.0;
                    for (int64_t i = 0; i < KH; ++i) {
                        const int64_t oh_strided = ih + p.pt - i * p.dh;
                        if (oh_strided < 0 || oh_strided % p.sh != 0) continue;
                        const int64_t oh = oh_strided / p.sh;
                        if (oh >= OH) continue;
                        for (int64_t j = 0; j < KW; ++j) {
                            const int64_t ow_strided = iw + p.pl - j * p.dw;
                            if (ow_strided < 0 || ow_strided % p.sw != 0) continue;
                            const int64_t ow = ow_strided / p.sw;
                            if (ow >= OW) continue;
                            const int64_t row = (n * OH + oh) * OW + ow;
                            acc += double(col[row * cols + (c * KH + i) * KW + j]);
                        }
                    }
                    x.at(n, c, ih, iw) = T(acc);
                }
}

#define CONVCONF_NAIVE_INSTANTIATE(T)                                                          \
    template void conv_forward<T>(const ConvProblem&, const Tensor<T>&, const Tensor<T>&,     \
                                  const Tensor<T>*, Tensor<T>&);                              \
    template void conv_backward_data<T>(const ConvProblem&, const Tensor<T>&, const Tensor<T>&, \
                                        Tensor<T>&);                                          \
    template void conv_backward_weights<T>(const ConvProblem&, const Tensor<T>&,              \
                                           const Tensor<T>&, Tensor<T>&, Tensor<T>*);         \
    template void pool_forward<T>(const PoolProblem&, const Tensor<T>&, Tensor<T>&,           \
                                  Tensor<int64_t>&);                                          \
    template void pool_backward<T>(const PoolProblem&, const Tensor<T>&, const Tensor<T>&,    \
                                   Tensor<T>&);                                               \
    template void avg_forward<T>(const PoolProblem&, const Tensor<T>&, Tensor<T>&);           \
    template void avg_backward<T>(const PoolProblem&, const Tensor<T>&, Tensor<T>&);          \
    template void im2col<T>(const WindowProblem&, const Tensor<T>&, Tensor<T>&);              \
    template void col2im<T>(const WindowProblem&, const Tensor<T>&, Tensor<T>&);
CONVCONF_NAIVE_INSTANTIATE(float)
CONVCONF_NAIVE_INSTANTIATE(double)
#undef CONVCONF_NAIVE_INSTANTIATE

namespace {

class NaiveVariant final : public VariantOf<NaiveVariant> {
public:
    std::string name() const override { return "naive"; }
    std::string description() const override {
        return "direct loops over the problem's dimensions, double accumulation (the reference)";
    }
    template <class T>
    void conv_forward_t(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& w,
                        const Tensor<T>* b, Tensor<T>& y) const {
        naive::conv_forward(p, x, w, b, y);
    }
    template <class T>
    void conv_backward_data_t(const ConvProblem& p, const Tensor<T>& w, const Tensor<T>& dy,
                              Tensor<T>& dx) const {
        naive::conv_backward_data(p, w, dy, dx);
    }
    template <class T>
    void conv_backward_weights_t(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& dy,
                                 Tensor<T>& dw, Tensor<T>* db) const {
        naive::conv_backward_weights(p, x, dy, dw, db);
    }
    template <class T>
    void pool_forward_t(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y,
                        Tensor<int64_t>& argmax) const {
        naive::pool_forward(p, x, y, argmax);
    }
    template <class T>
    void pool_backward_t(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy,
                         Tensor<T>& dx) const {
        naive::pool_backward(p, x, dy, dx);
    }
    template <class T>
    void avg_forward_t(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y) const {
        naive::avg_forward(p, x, y);
    }
    template <class T>
    void avg_backward_t(const PoolProblem& p, const Tensor<T>& dy, Tensor<T>& dx) const {
        naive::avg_backward(p, dy, dx);
    }
    template <class T>
    void im2col_t(const WindowProblem& p, const Tensor<T>& x, Tensor<T>& col) const {
        naive::im2col(p, x, col);
    }
    template <class T>
    void col2im_t(const WindowProblem& p, const Tensor<T>& col, Tensor<T>& x) const {
        naive::col2im(p, col, x);
    }
};

}  // namespace

std::unique_ptr<Variant> make_variant() { return std::make_unique<NaiveVariant>(); }

}  // namespace convconf::naive
