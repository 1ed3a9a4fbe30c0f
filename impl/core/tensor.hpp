// Tensor<T>: a dense, contiguous, row-major array with a shape and an axis order.
//
// 4-D tensors carry a layout (NCHW/NHWC for activations, OIHW/HWIO for weights) and are
// indexed logically, at(n, c, h, w) or at(o, i, h, w), whatever their physical order.
// Other ranks (bias: 1-D, im2col's column matrix: 2-D) are plain row-major.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <span>
#include <cmath>
#include <cstdint>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
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
// variant forgets to write cannot pass: a NaN with its own payload for floating point (told
// apart, bit for bit, from any NaN a variant computes), the most negative int64 for
// indices. And the value of the guard regions around it, which a variant must not touch.
template <class T>
T poison_value() {
    if constexpr (std::is_same_v<T, float>) return std::bit_cast<float>(uint32_t{0x7FC0DEAD});
    else if constexpr (std::is_same_v<T, double>) return std::bit_cast<double>(uint64_t{0x7FF800000000DEADull});
    else return std::numeric_limits<T>::min();
}
template <class T>
T guard_value() {
    if constexpr (std::is_same_v<T, float>) return std::bit_cast<float>(uint32_t{0x7FC0BEEF});
    else if constexpr (std::is_same_v<T, double>) return std::bit_cast<double>(uint64_t{0x7FF800000000BEEFull});
    else return T(0x5EEDF00D5EEDF00Dll);
}
template <class T>
bool same_bits(T a, T b) {
    return std::memcmp(&a, &b, sizeof(T)) == 0;
}

// Elements of guard region before and after a poisoned output.
constexpr int64_t kGuardElements = 16;

// A tensor's storage could not be allocated. A std::bad_alloc, so code that handles running
// out of memory handles it; what() says what was asked for: "f32 8x64x224x224, 102760448 bytes".
class AllocationFailure : public std::bad_alloc {
public:
    explicit AllocationFailure(std::string what) : what_(std::move(what)) {}
    const char* what() const noexcept override { return what_.c_str(); }

private:
    std::string what_;
};

template <class T>
constexpr const char* element_name() {
    if constexpr (std::is_same_v<T, float>) return "f32";
    else if constexpr (std::is_same_v<T, double>) return "f64";
    else return "i64";
}

template <class T>
class Tensor {
public:
    Tensor() = default;

    // Plain row-major tensor of any rank.
    explicit Tensor(std::vector<int64_t> shape, T fill = T(0), int64_t guard = 0)
        : order_(AxisOrder::plain), shape_(std::move(shape)) {
        allocate(fill, guard);
    }

    // 4-D tensor with logical extents `dims` stored in `order`.
    Tensor(AxisOrder order, const Dims4& dims, T fill = T(0), int64_t guard = 0) : order_(order) {
        if (order == AxisOrder::plain)
            throw std::invalid_argument("Tensor: a 4-D tensor needs an axis order");
        const auto perm = physical_to_logical(order);
        shape_.resize(4);
        for (int p = 0; p < 4; ++p) shape_[p] = dims[perm[p]];
        allocate(fill, guard);
        int64_t stride = 1;
        for (int p = 3; p >= 0; --p) {
            logical_strides_[perm[p]] = stride;
            stride *= shape_[p];
        }
    }

    // A fresh output: every element poison_value(), surrounded by guard regions of
    // kGuardElements guard_value()s on each side, checked by guard_damage().
    static Tensor poisoned(AxisOrder order, const Dims4& dims) {
        return Tensor(order, dims, poison_value<T>(), kGuardElements);
    }
    static Tensor poisoned(std::vector<int64_t> shape) {
        return Tensor(std::move(shape), poison_value<T>(), kGuardElements);
    }

    // Empty when both guard regions are intact; otherwise which elements outside the
    // tensor were written: "3 elements past the end (+0, +1, +2)".
    std::string guard_damage() const {
        std::vector<int64_t> before, after;
        for (int64_t g = 0; g < guard_; ++g) {
            if (!same_bits(storage_[g], guard_value<T>())) before.push_back(g - guard_);
            if (!same_bits(storage_[guard_ + size() + g], guard_value<T>())) after.push_back(g);
        }
        std::string out;
        auto describe = [&](const std::vector<int64_t>& at, const char* where, const char* sign) {
            if (at.empty()) return;
            out += (out.empty() ? "" : "; ") + std::to_string(at.size()) + " element" + (at.size() > 1 ? "s " : " ") +
                   where + " (";
            for (size_t i = 0; i < at.size(); ++i) out += (i ? ", " : "") + std::string(sign) + std::to_string(at[i]);
            out += ")";
        };
        describe(before, "before the start", "");
        describe(after, "past the end", "+");
        return out;
    }
    // Flat indices of the elements that still hold the poison value, bit for bit.
    std::vector<int64_t> unwritten() const {
        std::vector<int64_t> out;
        for (int64_t e = 0; e < size(); ++e)
            if (same_bits((*this)[e], poison_value<T>())) out.push_back(e);
        return out;
    }

    AxisOrder order() const { return order_; }
    // Physical shape, in storage order.
    const std::vector<int64_t>& shape() const { return shape_; }
    int rank() const { return static_cast<int>(shape_.size()); }
    int64_t size() const { return static_cast<int64_t>(storage_.size()) - 2 * guard_; }
    bool empty() const { return size() == 0; }

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
    T& at(int64_t a, int64_t b, int64_t c, int64_t d) { return data()[offset(a, b, c, d)]; }
    const T& at(int64_t a, int64_t b, int64_t c, int64_t d) const { return data()[offset(a, b, c, d)]; }

    // The tensor's elements by logical index, as a small value: a loop that keeps one in a
    // local variable keeps its pointer and strides in registers instead of reloading them
    // from the tensor at every element (the naive reference's inner loops).
    template <class E>
    struct View {
        E* data;
        std::array<int64_t, 4> strides;
        E& operator()(int64_t a, int64_t b, int64_t c, int64_t d) const {
            return data[a * strides[0] + b * strides[1] + c * strides[2] + d * strides[3]];
        }
    };
    View<T> view() { return {data(), logical_strides_}; }
    View<const T> view() const { return {data(), logical_strides_}; }

    T& operator[](int64_t i) { return data()[i]; }
    const T& operator[](int64_t i) const { return data()[i]; }
    T* data() { return storage_.data() + guard_; }
    const T* data() const { return storage_.data() + guard_; }
    // The elements, in storage order (guard regions excluded).
    std::span<T> values() { return {data(), size_t(size())}; }
    std::span<const T> values() const { return {data(), size_t(size())}; }
    // Replaces the elements; `v` must hold exactly size() of them.
    void assign(const std::vector<T>& v) {
        if (int64_t(v.size()) != size())
            throw std::invalid_argument("Tensor: " + std::to_string(v.size()) + " values for " +
                                        std::to_string(size()) + " elements");
        std::copy(v.begin(), v.end(), data());
    }

    void fill(T v) { std::fill(data(), data() + size(), v); }

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
        try {
            out.storage_.assign(data(), data() + size());
        } catch (const std::bad_alloc&) {
            throw AllocationFailure(out.describe(size()));
        }
        return out;
    }

private:
    template <class>
    friend class Tensor;

    // The elements, with `guard` guard_value()s on each side, in one allocation.
    void allocate(T fill, int64_t guard) {
        int64_t count = 1;
        for (int64_t e : shape_) {
            if (e < 1) throw std::invalid_argument("Tensor: every extent must be >= 1");
            if (__builtin_mul_overflow(count, e, &count))
                throw std::invalid_argument("Tensor: element count overflows 64 bits");
        }
        require_within_memory_cap(count, int64_t(sizeof(T)));
        try {
            storage_.assign(static_cast<size_t>(count + 2 * guard), guard_value<T>());
        } catch (const std::bad_alloc&) {
            throw AllocationFailure(describe(count));
        }
        guard_ = guard;
        std::fill(data(), data() + count, fill);
    }
    // "f32 8x64x224x224, 102760448 bytes": the element type, the shape in storage order.
    std::string describe(int64_t count) const {
        std::string shape;
        for (int64_t e : shape_) shape += (shape.empty() ? "" : "x") + std::to_string(e);
        return std::string(element_name<T>()) + " " + shape + ", " +
               std::to_string(count * int64_t(sizeof(T))) + " bytes";
    }
    void require_4d() const {
        if (order_ == AxisOrder::plain) throw std::logic_error("Tensor: not a 4-D tensor");
    }

    AxisOrder order_ = AxisOrder::plain;
    std::vector<int64_t> shape_;
    std::array<int64_t, 4> logical_strides_{};
    std::vector<T> storage_;  // guard_ elements, the tensor, guard_ elements
    int64_t guard_ = 0;
};

std::string index_string(AxisOrder order, const std::vector<int64_t>& shape, int64_t flat);

template <class T>
std::string Tensor<T>::index_string(int64_t flat) const {
    return convconf::index_string(order_, shape_, flat);
}

}  // namespace convconf
