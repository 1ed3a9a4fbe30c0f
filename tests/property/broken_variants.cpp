#include "tests/property/broken_variants.hpp"

#include <limits>
#include <optional>
#include <type_traits>

#include "reference/registry.hpp"
#include "impl/naive/naive.hpp"

namespace convconf::property {
namespace {

// Direct convolution with the defect's bug switched in; otherwise the naive loops.
template <class T>
void conv_forward_with(std::optional<Defect> d, const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& w,
                       const Tensor<T>* b, Tensor<T>& y) {
    const int64_t row_step = d == Defect::stride_swapped ? p.sw : p.sh;
    const int64_t col_step = d == Defect::stride_swapped ? p.sh : p.sw;
    const int64_t iw_end = d == Defect::pad_off_by_one ? p.iw - 1 : p.iw;
    auto x_at = [&](int64_t n, int64_t c, int64_t h, int64_t wi) {
        return d == Defect::nhwc_as_nchw ? x[((n * p.ic + c) * p.ih + h) * p.iw + wi] : x.at(n, c, h, wi);
    };
    for (int64_t n = 0; n < p.mb; ++n)
        for (int64_t k = 0; k < p.oc; ++k)
            for (int64_t oh = 0; oh < p.oh(); ++oh)
                for (int64_t ow = 0; ow < p.ow(); ++ow) {
                    double acc = b ? double((*b)[k]) : 0.0;
                    const int64_t c0 = p.group_of_oc(k) * p.icg();  // the group's first channel
                    for (int64_t c = 0; c < p.icg(); ++c)
                        for (int64_t i = 0; i < p.kh; ++i)
                            for (int64_t j = 0; j < p.kw; ++j) {
                                const int64_t ih = oh * row_step - p.pt + i * p.dh;
                                const int64_t iw = ow * col_step - p.pl + j * p.dw;
                                if (ih < 0 || ih >= p.ih || iw < 0 || iw >= iw_end) continue;
                                acc += double(x_at(n, c0 + c, ih, iw)) * double(w.at(k, c, i, j));
                                if (std::is_same_v<T, double> && d == Defect::f64_accumulates_in_f32)
                                    acc = double(float(acc));
                            }
                    y.at(n, k, oh, ow) = T(acc);
                }
}

// w with every kernel tap moved to its mirror image (i, j) -> (kh-1-i, kw-1-j).
template <class T>
Tensor<T> mirrored(const Tensor<T>& w) {
    Tensor<T> m(w.order(), w.dims());
    const Dims4 d = w.dims();
    for (int64_t k = 0; k < d[0]; ++k)
        for (int64_t c = 0; c < d[1]; ++c)
            for (int64_t i = 0; i < d[2]; ++i)
                for (int64_t j = 0; j < d[3]; ++j) m.at(k, c, d[2] - 1 - i, d[3] - 1 - j) = w.at(k, c, i, j);
    return m;
}

class Broken final : public VariantOf<Broken> {
public:
    explicit Broken(Defect d) : d_(d) {}
    explicit Broken(double dx_factor) : dx_factor_(dx_factor) {}
    std::string name() const override {
        return d_ ? "broken_" + to_string(*d_) : "broken_backward_data_times_" + factor_name();
    }
    std::string description() const override { return "naive with a planted bug: " + name().substr(7); }

    template <class T>
    void conv_forward_t(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>* b,
                        Tensor<T>& y) const {
        conv_forward_with(d_, p, x, w, b, y);
    }
    template <class T>
    void conv_backward_data_t(const ConvProblem& p, const Tensor<T>& w, const Tensor<T>& dy, Tensor<T>& dx) const {
        naive::conv_backward_data(p, d_ == Defect::backward_data_kernel_mirrored ? mirrored(w) : w, dy, dx);
        for (T& v : dx.values()) v = T(v * dx_factor_);
    }
    template <class T>
    void conv_backward_weights_t(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dw,
                                 Tensor<T>* db) const {
        naive::conv_backward_weights(p, x, dy, dw, db);
        if (db && d_ == Defect::bias_gradient_dropped) db->fill(T(0));
        if (d_ == Defect::backward_weights_kernel_mirrored) dw = mirrored(dw);
    }
    template <class T>
    void pool_forward_t(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y, Tensor<int64_t>& argmax) const {
        naive::pool_forward(p, x, y, argmax);
        if (d_ != Defect::last_maximum && d_ != Defect::minus_infinity_picks_last) return;
        // Re-choose with >=: among equal maxima the last one wins, in every window or only
        // in windows of -inf (where every element of x is a maximum).
        for (int64_t n = 0; n < p.mb; ++n)
            for (int64_t c = 0; c < p.ic; ++c)
                for (int64_t oh = 0; oh < p.oh(); ++oh)
                    for (int64_t ow = 0; ow < p.ow(); ++ow) {
                        if (d_ == Defect::minus_infinity_picks_last &&
                            y.at(n, c, oh, ow) != -std::numeric_limits<T>::infinity())
                            continue;
                        for (int64_t tap = 0; tap < p.kh * p.kw; ++tap) {
                            const int64_t ih = oh * p.sh - p.pt + tap / p.kw * p.dh;
                            const int64_t iw = ow * p.sw - p.pl + tap % p.kw * p.dw;
                            if (ih < 0 || ih >= p.ih || iw < 0 || iw >= p.iw) continue;
                            if (x.at(n, c, ih, iw) >= y.at(n, c, oh, ow)) argmax.at(n, c, oh, ow) = tap;
                        }
                    }
    }
    template <class T>
    void pool_backward_t(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dx) const {
        if (d_ != Defect::overlap_assigned) return naive::pool_backward(p, x, dy, dx);
        Tensor<T> y(dy.order(), dy.dims());
        Tensor<int64_t> argmax(dy.order(), dy.dims());
        naive::pool_forward(p, x, y, argmax);
        dx.fill(T(0));
        for (int64_t n = 0; n < p.mb; ++n)
            for (int64_t c = 0; c < p.ic; ++c)
                for (int64_t oh = 0; oh < p.oh(); ++oh)
                    for (int64_t ow = 0; ow < p.ow(); ++ow) {
                        const int64_t a = argmax.at(n, c, oh, ow);
                        dx.at(n, c, oh * p.sh - p.pt + a / p.kw * p.dh, ow * p.sw - p.pl + a % p.kw * p.dw) =
                            dy.at(n, c, oh, ow);  // the bug: = where overlapping windows need +=
                    }
    }
    template <class T>
    void avg_forward_t(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y) const {
        PoolProblem q = p;
        if (d_ == Defect::avg_divisor_excludes_padding) q.alg = PoolAlg::avg_np;  // the bug
        naive::avg_forward(q, x, y);
    }
    template <class T>
    void avg_backward_t(const PoolProblem& p, const Tensor<T>& dy, Tensor<T>& dx) const {
        PoolProblem q = p;
        if (d_ == Defect::avg_backward_excludes_padding) q.alg = PoolAlg::avg_np;  // the bug
        naive::avg_backward(q, dy, dx);
    }
    template <class T>
    void im2col_t(const WindowProblem& p, const Tensor<T>& x, Tensor<T>& col) const {
        naive::im2col(p, x, col);
    }
    template <class T>
    void col2im_t(const WindowProblem& p, const Tensor<T>& col, Tensor<T>& x) const {
        if (d_ != Defect::col2im_assigned) return naive::col2im(p, col, x);
        const int64_t cols = p.ic * p.kh * p.kw;
        x.fill(T(0));
        for (int64_t n = 0; n < p.mb; ++n)
            for (int64_t oh = 0; oh < p.oh(); ++oh)
                for (int64_t ow = 0; ow < p.ow(); ++ow)
                    for (int64_t c = 0; c < p.ic; ++c)
                        for (int64_t i = 0; i < p.kh; ++i)
                            for (int64_t j = 0; j < p.kw; ++j) {
                                const int64_t ih = oh * p.sh - p.pt + i * p.dh, iw = ow * p.sw - p.pl + j * p.dw;
                                if (ih < 0 || ih >= p.ih || iw < 0 || iw >= p.iw) continue;
                                // the bug: = where overlapping taps need +=
                                x.at(n, c, ih, iw) = col[((n * p.oh() + oh) * p.ow() + ow) * cols + (c * p.kh + i) * p.kw + j];
                            }
    }

    // The entry point itself, where validation lives: with pool_dilation_zero_accepted a
    // dilation of 0 is read as dense before the problem is checked.
    void run(const Call& c) const override {
        if (d_ != Defect::pool_dilation_zero_accepted || c.op() != Op::maxpool2d || c.pass() != Pass::backward)
            return VariantOf<Broken>::run(c);
        ConvProblem p = c.problem();
        if (p.dh == 0) p.dh = 1;  // the bug: oneDNN's dilation 0 (dense) taken for the contract's
        if (p.dw == 0) p.dw = 1;
        VariantOf<Broken>::run(c.with_problem(p));
    }

private:
    std::string factor_name() const {
        std::string s = std::to_string(dx_factor_);
        s.erase(s.find_last_not_of('0') + 1);
        if (s.back() == '.') s.pop_back();
        for (char& ch : s) ch = ch == '-' ? 'm' : ch == '.' ? 'p' : ch;
        return s;
    }

    std::optional<Defect> d_;
    double dx_factor_ = 1;
};

}  // namespace

std::string to_string(Defect d) {
    switch (d) {
        case Defect::pad_off_by_one: return "pad_off_by_one";
        case Defect::stride_swapped: return "stride_swapped";
        case Defect::last_maximum: return "last_maximum";
        case Defect::overlap_assigned: return "overlap_assigned";
        case Defect::bias_gradient_dropped: return "bias_gradient_dropped";
        case Defect::nhwc_as_nchw: return "nhwc_as_nchw";
        case Defect::f64_accumulates_in_f32: return "f64_accumulates_in_f32";
        case Defect::backward_data_kernel_mirrored: return "backward_data_kernel_mirrored";
        case Defect::col2im_assigned: return "col2im_assigned";
        case Defect::backward_weights_kernel_mirrored: return "backward_weights_kernel_mirrored";
        case Defect::minus_infinity_picks_last: return "minus_infinity_picks_last";
        case Defect::pool_dilation_zero_accepted: return "pool_dilation_zero_accepted";
        case Defect::avg_divisor_excludes_padding: return "avg_divisor_excludes_padding";
        case Defect::avg_backward_excludes_padding: return "avg_backward_excludes_padding";
    }
    return "?";
}

std::vector<Defect> all_defects() {
    return {Defect::pad_off_by_one,
            Defect::stride_swapped,
            Defect::last_maximum,
            Defect::overlap_assigned,
            Defect::bias_gradient_dropped,
            Defect::nhwc_as_nchw,
            Defect::f64_accumulates_in_f32,
            Defect::backward_data_kernel_mirrored,
            Defect::col2im_assigned,
            Defect::backward_weights_kernel_mirrored,
            Defect::minus_infinity_picks_last,
            Defect::pool_dilation_zero_accepted,
            Defect::avg_divisor_excludes_padding,
            Defect::avg_backward_excludes_padding};
}

std::unique_ptr<Variant> make_broken(Defect d) { return std::make_unique<Broken>(d); }

std::unique_ptr<Variant> make_backward_data_scaled(double factor) {
    return std::make_unique<Broken>(factor);
}

}  // namespace convconf::property
