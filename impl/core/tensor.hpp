// Tensor<T>: a dense, contiguous, row-major array with a shape and an axis order.
//
// 4-D tensors carry a layout (NCHW/NHWC for activations, OIHW/HWIO for weights) and are
// indexed logically, at(n, c, h, w) or at(o, i, h, w), whatever their physical order.
// Other ranks (bias: 1-D, im2col's column matrix: 2-D) are plain row-major.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "impl/core/problem.hpp"
#include "impl/core/types.hpp"

namespace convconf {

enum class AxisOrder { plain, nchw, nhwc, oihw, hwio };

inline AxisOrder axis_order(Layout l) { return l == Layout::nchw ? AxisOrder::nchw : AxisOrder::nhwc; }
inline AxisOrder axis_order(WeightsLayout l) {
    return l == WeightsLayout::oihw ? AxisOrder::oihw : AxisOrder::hwio;
}
std::string_view to_string(AxisOrder);

// For a 4-D order, physical axis p holds logical axis kPhysicalToLogical[p].
std::array<int, 4> physical_to_logical(AxisOrder);

// The value a fresh output is filled with before a variant runs, so that an element the
// variant forgets to write cannot pass: NaN for floating point, -1 for indices.
template <class T>
constexpr T poison_value() {
    if constexpr (std::numeric_limits<T>::has_quiet_NaN)
        return std::numeric_limits<T>::quiet_NaN();
    else
        return T(-1);
}

template <class T>
class Tensor {
public:
    Tensor() = default;

    // Plain row-major tensor of any rank.
    explicit Tensor(std::vector<int64_t> shape, T fill = T(0))
        : order_(AxisOrder::plain), shape_(std::move(shape)) {
        allocate(fill);
    }

    // 4-D tensor with logical extents `dims` stored in `order`.
    Tensor(AxisOrder order, const Dims4& dims, T fill = T(0)) : order_(order) {
        if (order == AxisOrder::plain)
            throw std::invalid_argument("Tensor: a 4-D tensor needs an axis order");
        const auto perm = physical_to_logical(order);
        shape_.resize(4);
        for (int p = 0; p < 4; ++p) shape_[p] = dims[perm[p]];
        allocate(fill);
        int64_t stride = 1;
        for (int p = 3; p >= 0; --p) {
            logical_strides_[perm[p]] = stride;
            stride *= shape_[p];
        }
    }

    static Tensor poisoned(AxisOrder order, const Dims4& dims) {
        return Tensor(order, dims, poison_value<T>());
    }
    static Tensor poisoned(std::vector<int64_t> shape) {
        return Tensor(std::move(shape), poison_value<T>());
    }

    AxisOrder order() const { return order_; }
    // Physical shape, in storage order.
    const std::vector<int64_t>& shape() const { return shape_; }
    int rank() const { return static_cast<int>(shape_.size()); }
    int64_t size() const { return static_cast<int64_t>(data_.size()); }
    bool empty() const { return data_.empty(); }

    // Logical extents (n, c, h, w) / (o, i, h, w) of a 4-D tensor.
    Dims4 dims() const {
        require_4d();
        Dims4 d{};
        const auto perm = physical_to_logical(order_);
        for (int p = 0; p < 4; ++p) d[perm[p]] = shape_[p];
        return d;
    }

    // Flat offset of logical index (a, b, c, d) of a 4-D tensor.
    int64_t offset(int64_t a, int64_t b, int64_t c, int64_t d) const {
        return a * logical_strides_[0] + b * logical_strides_[1] + c * logical_strides_[2] +
               d * logical_strides_[3];
    }
    T& at(int64_t a, int64_t b, int64_t c, int64_t d) { return data_[offset(a, b, c, d)]; }
    const T& at(int64_t a, int64_t b, int64_t c, int64_t d) const {
        return data_[offset(a, b, c, d)];
    }

    T& operator[](int64_t i) { return data_[i]; }
    const T& operator[](int64_t i) const { return data_[i]; }
    T* data() { return data_.data(); }
    const T* data() const { return data_.data(); }
    std::vector<T>& values() { return data_; }
    const std::vector<T>& values() const { return data_; }

    void fill(T v) { std::fill(data_.begin(), data_.end(), v); }

    // The logical index of flat element i, as text: "(n,c,h,w)=(0,1,2,3)",
    // "(o,i,h,w)=(...)" for weights, "(row,col)=(...)" or "(i)=(...)" for plain tensors.
    std::string index_string(int64_t flat) const;

    // Same tensor, other element type (values converted with static_cast).
    template <class U>
    Tensor<U> cast() const {
        Tensor<U> out;
        out.order_ = order_;
        out.shape_ = shape_;
        out.logical_strides_ = logical_strides_;
        out.data_.assign(data_.begin(), data_.end());
        return out;
    }

private:
    template <class>
    friend class Tensor;

    void allocate(T fill) {
        int64_t count = 1;
        for (int64_t e : shape_) {
            if (e < 1) throw std::invalid_argument("Tensor: every extent must be >= 1");
            if (__builtin_mul_overflow(count, e, &count))
                throw std::invalid_argument("Tensor: element count overflows 64 bits");
        }
        data_.assign(static_cast<size_t>(count), fill);
    }
    void require_4d() const {
        if (order_ == AxisOrder::plain) throw std::logic_error("Tensor: not a 4-D tensor");
    }

    AxisOrder order_ = AxisOrder::plain;
    std::vector<int64_t> shape_;
    std::array<int64_t, 4> logical_strides_{};
    std::vector<T> data_;
};

std::string index_string(AxisOrder order, const std::vector<int64_t>& shape, int64_t flat);

template <class T>
std::string Tensor<T>::index_string(int64_t flat) const {
    return convconf::index_string(order_, shape_, flat);
}

}  // namespace convconf
