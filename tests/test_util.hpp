// Helpers for writing expected values the way the notebooks print them: row-major in
// NCHW (or OIHW) order, whatever layout the tensor under test uses.
#pragma once

#include <cctype>
#include <string>
#include <vector>

#include "impl/core/tensor.hpp"

namespace convconf::testing {

// The entry points of a test variant that means only some of them: each of these does
// nothing. Such a variant derives from VariantOf<It> and from this, and defines the ones
// it means (which hide these).
struct InertEntryPoints {
    template <class T, class... A> void conv_forward_t(A&&...) const {}
    template <class T, class... A> void conv_backward_data_t(A&&...) const {}
    template <class T, class... A> void conv_backward_weights_t(A&&...) const {}
    template <class T, class... A> void pool_forward_t(A&&...) const {}
    template <class T, class... A> void pool_backward_t(A&&...) const {}
    template <class T, class... A> void avg_forward_t(A&&...) const {}
    template <class T, class... A> void avg_backward_t(A&&...) const {}
    template <class T, class... A> void im2col_t(A&&...) const {}
    template <class T, class... A> void col2im_t(A&&...) const {}
};

// A tensor of logical extents `dims` stored in `order`, with values given in logical
// (NCHW / OIHW) row-major order, as numpy prints them.
template <class T>
Tensor<T> from_logical(AxisOrder order, const Dims4& dims, const std::vector<double>& values) {
    Tensor<T> t(order, dims);
    int64_t e = 0;
    for (int64_t a = 0; a < dims[0]; ++a)
        for (int64_t b = 0; b < dims[1]; ++b)
            for (int64_t c = 0; c < dims[2]; ++c)
                for (int64_t d = 0; d < dims[3]; ++d) t.at(a, b, c, d) = T(values.at(e++));
    return t;
}

// The values of a 4-D tensor in logical row-major order.
template <class T>
std::vector<double> to_logical(const Tensor<T>& t) {
    std::vector<double> v;
    const Dims4 d = t.dims();
    for (int64_t a = 0; a < d[0]; ++a)
        for (int64_t b = 0; b < d[1]; ++b)
            for (int64_t c = 0; c < d[2]; ++c)
                for (int64_t e = 0; e < d[3]; ++e) v.push_back(double(t.at(a, b, c, e)));
    return v;
}

// numpy's np.arange(n) as doubles.
// A name gtest accepts for a test parameter (letters, digits and '_'): a plugin's variant
// may be called "strided-plugin".
inline std::string parameter_name(std::string name) {
    for (char& ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return name;
}

inline std::vector<double> arange(int n, double start = 0) {
    std::vector<double> v(n);
    for (int i = 0; i < n; ++i) v[i] = start + i;
    return v;
}

// The activation and weights layouts one run of a layout-parameterised test uses.
struct Layouts {
    Layout act;
    WeightsLayout wei;
};

// Every pair: the matching ones and the two mixed ones.
inline constexpr Layouts kAllLayouts[] = {{Layout::nchw, WeightsLayout::oihw},
                                          {Layout::nhwc, WeightsLayout::hwio},
                                          {Layout::nchw, WeightsLayout::hwio},
                                          {Layout::nhwc, WeightsLayout::oihw}};

// A test-name suffix: "NCHWOIHW".
inline std::string layouts_name(const Layouts& l) {
    return std::string(to_string(l.act)) + std::string(to_string(l.wei));
}

// Runs f(float{}) then f(double{}): a check written once, at both dtypes.
template <class F>
void both(F&& f) {
    f(float{});
    f(double{});
}

}  // namespace convconf::testing
