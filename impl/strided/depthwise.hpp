// Depthwise convolution (groups = ic = oc) in the strided family: the notebooks'
// shift-and-accumulate applied straight to the tensors. Each channel meets only itself, so
// a tap's shifted slice of x, scaled by the channel's weight, is added into y row by row,
// with no slice gathered and no GEMM. A row of y stays in L1 while every tap adds into it.
//
// Tasks own disjoint outputs and sum each element in one fixed order (taps in window order,
// then images and positions in order), so results do not depend on the thread count.
// Accumulation is in T, as in the rest of the family.
#pragma once

#include <algorithm>
#include <vector>

#include "impl/core/lowering.hpp"
#include "impl/core/parallel.hpp"

namespace convconf::strided::depthwise {

// Depthwise: one input and one output channel a group, more than one group.
inline bool applies(const ConvProblem& p) { return p.g > 1 && p.icg() == 1 && p.ocg() == 1; }

// The weights as a [tap][channel] table, copied once (kh*kw*ic values): a depthwise w is
// [oc, 1, kh, kw] (OIHW) or [kh, kw, 1, oc] (HWIO), and the loops want each tap's channels
// contiguous.
template <class T>
std::vector<T> tap_table(const ConvProblem& p, const Tensor<T>& w) {
    const int64_t taps = p.kh * p.kw;
    std::vector<T> table(size_t(taps * p.oc));
    for (int64_t t = 0; t < taps; ++t)
        for (int64_t k = 0; k < p.oc; ++k) table[size_t(t * p.oc + k)] = w.at(k, 0, t / p.kw, t % p.kw);
    return table;
}

// Every tap's slice of the output grid, in window order.
inline std::vector<lowering::TapSlice> tap_slices(const ConvProblem& p) {
    std::vector<lowering::TapSlice> out;
    lowering::for_each_tap(p, [&](int64_t, int64_t, const lowering::TapSlice& s) { out.push_back(s); });
    return out;
}

// dst[i] += a * src[i] and dst[i] += a[i] * b[i] for i < n, compiled for the CPU's vector
// width (depthwise_kernels.cpp).
void axpy(float* dst, const float* src, float a, int64_t n);
void axpy(double* dst, const double* src, double a, int64_t n);
void multiply_add(float* dst, const float* a, const float* b, int64_t n);
void multiply_add(double* dst, const double* a, const double* b, int64_t n);

// dst[o] += a * src[o * stride] for o in [begin, end): the vector kernel when stride is 1
// and the run is long enough to repay the call (MobileNet's 7- and 14-wide rows are not).
template <class T>
inline void axpy_strided(T* dst, const T* src, int64_t stride, T a, int64_t begin, int64_t end) {
    if (stride == 1 && end - begin >= 32) return axpy(dst + begin, src + begin, a, end - begin);
    for (int64_t o = begin; o < end; ++o) dst[o] += a * src[o * stride];
}

// What the passes below allocate: the tap table (forward, backward_data), or in NCHW
// backward_weights one row of column sums per thread at work.
inline int64_t workspace_elements(const ConvProblem& p, Pass pass) {
    if (pass != Pass::backward_weights) return p.kh * p.kw * p.oc;
    if (p.layout != Layout::nchw) return 0;  // its sums live on the stack
    return std::min<int64_t>(parallel_slots(), p.ic) * p.ow();
}

// The distance between rows of an activation tensor (NCHW: a plane's rows are iw apart).
template <class T>
int64_t row_stride(const Tensor<T>& t) {
    return t.offset(0, 0, 1, 0);
}

// NHWC: f(t, ih, iw) for every tap t = i*kw + j of output (oh, ow) that reads inside x, in
// window order.
template <class F>
void for_each_tap_inside(const ConvProblem& p, int64_t oh, int64_t ow, F&& f) {
    for (int64_t i = 0; i < p.kh; ++i) {
        const int64_t ih = oh * p.sh - p.pt + i * p.dh;
        if (ih < 0 || ih >= p.ih) continue;
        for (int64_t j = 0; j < p.kw; ++j) {
            const int64_t iw = ow * p.sw - p.pl + j * p.dw;
            if (iw >= 0 && iw < p.iw) f(i * p.kw + j, ih, iw);
        }
    }
}

// y = depthwise(x, w) + b. NCHW: a task per (image, channel), its plane of y. NHWC: a task
// per (image, output row), the channels of each position contiguous.
template <class T>
void forward(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>* b, Tensor<T>& y) {
    const int64_t OH = p.oh(), OW = p.ow(), C = p.ic, taps = p.kh * p.kw;
    const std::vector<T> W = tap_table(p, w);
    const std::vector<lowering::TapSlice> slices = tap_slices(p);
    const int64_t x_row = row_stride(x), y_row = row_stride(y);
    if (p.layout == Layout::nchw) {
        parallel_for(p.mb * C, [&](int64_t task) {
            const int64_t n = task / C, k = task % C;
            const T* xk = x.data() + x.offset(n, k, 0, 0);
            T* yk = y.data() + y.offset(n, k, 0, 0);
            const T bias = b ? (*b)[k] : T(0);
            for (int64_t oh = 0; oh < OH; ++oh) {
                T* yr = yk + oh * y_row;
                std::fill(yr, yr + OW, bias);
                for (int64_t t = 0; t < taps; ++t) {
                    const lowering::TapSlice& s = slices[size_t(t)];
                    if (s.cols.empty() || oh < s.rows.begin || oh >= s.rows.end) continue;
                    const T* xr = xk + (oh * p.sh + s.rows.offset) * x_row + s.cols.offset;
                    axpy_strided(yr, xr, p.sw, W[size_t(t * C + k)], s.cols.begin, s.cols.end);
                }
            }
        });
        return;
    }
    parallel_for(p.mb * OH, [&](int64_t task) {
        const int64_t n = task / OH, oh = task % OH;
        for (int64_t ow = 0; ow < OW; ++ow) {
            T* yv = y.data() + y.offset(n, 0, oh, ow);
            for (int64_t k = 0; k < C; ++k) yv[k] = b ? (*b)[k] : T(0);
            for_each_tap_inside(p, oh, ow, [&](int64_t t, int64_t ih, int64_t iw) {
                multiply_add(yv, W.data() + t * C, x.data() + x.offset(n, 0, ih, iw), C);
            });
        }
    });
}

// dx, the adjoint: each tap adds its weight times dy into the shifted slice of dx. NCHW: a
// task per (image, channel); NHWC: a task per image (rows of dx overlap between output rows).
template <class T>
void backward_data(const ConvProblem& p, const Tensor<T>& w, const Tensor<T>& dy, Tensor<T>& dx) {
    const int64_t OH = p.oh(), OW = p.ow(), C = p.ic, taps = p.kh * p.kw;
    const std::vector<T> W = tap_table(p, w);
    const std::vector<lowering::TapSlice> slices = tap_slices(p);
    const int64_t x_row = row_stride(dx), y_row = row_stride(dy);
    if (p.layout == Layout::nchw) {
        parallel_for(p.mb * C, [&](int64_t task) {
            const int64_t n = task / C, k = task % C;
            T* xk = dx.data() + dx.offset(n, k, 0, 0);
            const T* yk = dy.data() + dy.offset(n, k, 0, 0);
            std::fill(xk, xk + p.ih * p.iw, T(0));
            for (int64_t oh = 0; oh < OH; ++oh) {
                const T* yr = yk + oh * y_row;
                for (int64_t t = 0; t < taps; ++t) {
                    const lowering::TapSlice& s = slices[size_t(t)];
                    if (s.cols.empty() || oh < s.rows.begin || oh >= s.rows.end) continue;
                    const T wk = W[size_t(t * C + k)];
                    T* xr = xk + (oh * p.sh + s.rows.offset) * x_row + s.cols.offset;
                    if (p.sw == 1)
                        axpy(xr + s.cols.begin, yr + s.cols.begin, wk, s.cols.end - s.cols.begin);
                    else
                        for (int64_t ow = s.cols.begin; ow < s.cols.end; ++ow) xr[ow * p.sw] += wk * yr[ow];
                }
            }
        });
        return;
    }
    parallel_for(p.mb, [&](int64_t n) {
        lowering::zero_image(dx, n);
        for (int64_t oh = 0; oh < OH; ++oh)
            for (int64_t ow = 0; ow < OW; ++ow) {
                const T* yv = dy.data() + dy.offset(n, 0, oh, ow);
                for_each_tap_inside(p, oh, ow, [&](int64_t t, int64_t ih, int64_t iw) {
                    multiply_add(dx.data() + dx.offset(n, 0, ih, iw), W.data() + t * C, yv, C);
                });
            }
    });
}

// dw(k, t) = the sum over images and positions of dy(k) times tap t's slice of x(k), db the
// sums of dy. NCHW: a task per channel; NHWC: a task per block of channels, which the
// positions' contiguous channels feed.
template <class T>
void backward_weights(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dw, Tensor<T>* db) {
    const int64_t OH = p.oh(), OW = p.ow(), C = p.ic, taps = p.kh * p.kw;
    const int64_t x_row = row_stride(x), y_row = row_stride(dy);
    auto dw_at = [&](int64_t k, int64_t t) -> T& { return dw.at(k, 0, t / p.kw, t % p.kw); };
    if (p.layout == Layout::nchw) {
        // Each output column ow keeps its own partial sum over images and rows (a loop the
        // compiler vectorises), added up in column order at the end; one row per thread.
        lowering::PerSlot<T> columns(OW);
        parallel_for(C, [&](int64_t k, int slot) {
            T* acc = columns.get(slot);
            for (int64_t t = 0; t < taps; ++t) {
                const lowering::TapSlice s = lowering::tap_slice(p, t / p.kw, t % p.kw);
                std::fill(acc, acc + OW, T(0));
                for (int64_t n = 0; n < p.mb && !s.empty(); ++n) {
                    const T* xk = x.data() + x.offset(n, k, 0, 0);
                    const T* yk = dy.data() + dy.offset(n, k, 0, 0);
                    for (int64_t oh = s.rows.begin; oh < s.rows.end; ++oh) {
                        const T* yr = yk + oh * y_row;
                        const T* xr = xk + (oh * p.sh + s.rows.offset) * x_row + s.cols.offset;
                        if (p.sw == 1)
                            multiply_add(acc + s.cols.begin, yr + s.cols.begin, xr + s.cols.begin,
                                         s.cols.end - s.cols.begin);
                        else
                            for (int64_t ow = s.cols.begin; ow < s.cols.end; ++ow) acc[ow] += yr[ow] * xr[ow * p.sw];
                    }
                }
                T sum = 0;
                for (int64_t ow = 0; ow < OW; ++ow) sum += acc[ow];
                dw_at(k, t) = sum;
            }
        });
    } else {
        constexpr int64_t kBlock = 64;
        const Pieces channels{C, kBlock};
        parallel_for(channels.count(), [&](int64_t blk) {
            const int64_t k0 = channels.begin(blk), k1 = channels.end(blk);
            T sums[kBlock];
            for (int64_t t = 0; t < taps; ++t) {
                const int64_t i = t / p.kw, j = t % p.kw;
                std::fill(sums, sums + kBlock, T(0));
                for (int64_t n = 0; n < p.mb; ++n)
                    for (int64_t oh = 0; oh < OH; ++oh) {
                        const int64_t ih = oh * p.sh - p.pt + i * p.dh;
                        if (ih < 0 || ih >= p.ih) continue;
                        for (int64_t ow = 0; ow < OW; ++ow) {
                            const int64_t iw = ow * p.sw - p.pl + j * p.dw;
                            if (iw < 0 || iw >= p.iw) continue;
                            const T* xv = x.data() + x.offset(n, 0, ih, iw);
                            const T* yv = dy.data() + dy.offset(n, 0, oh, ow);
                            multiply_add(sums, yv + k0, xv + k0, k1 - k0);
                        }
                    }
                for (int64_t k = k0; k < k1; ++k) dw_at(k, t) = sums[k - k0];
            }
        });
    }
    if (db) lowering::bias_gradient(p, dy, *db);
}

}  // namespace convconf::strided::depthwise
