// One call of an operator, and the one table of every direction's tensors.
//
// A Call is what a variant runs: a direction (op and pass, and which optional tensors it
// has), a dtype, the problem and the tensors bound to their roles. The direction table
// says, for each direction, the roles read and written, each role's shape and how the
// harness draws or compares it, and the number of terms an output element sums. Every
// part of convconf that handles tensors by direction (validation, allocation, filling,
// invocation, the reference, comparison, golden files) reads the table instead of
// switching over ops and passes, so a new direction is one row here, its reference and, in
// each variant, a kernel or an unsupported() reason.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "impl/core/problem.hpp"
#include "impl/core/tensor.hpp"
#include "impl/core/types.hpp"

namespace convconf {

// A tensor's part in a call, by its name in the contract (golden-format.md).
enum class Role { x, w, b, y, dy, dx, dw, db, argmax, col };
inline constexpr int kRoleCount = 10;
std::string_view to_string(Role);
// The role called `name` ("dy"), or nullopt.
std::optional<Role> find_role(std::string_view name);

// How a role's tensor is shaped by the problem (storage order in brackets):
enum class Shape {
    image,     // x, dx: [mb, ic, ih, iw] in the layout
    weights,   // w, dw: [oc, ic, kh, kw] in the weights layout
    conv_out,  // conv2d's y, dy: [mb, oc, oh, ow] in the layout
    pool_out,  // maxpool2d's and avgpool2d's y, dy, argmax: [mb, ic, oh, ow] in the layout
    channels,  // b, db: [oc]
    columns,   // col: [mb*oh*ow, ic*kh*kw], plain
};
struct TensorShape {
    AxisOrder order;
    std::vector<int64_t> extents;  // in storage order
    bool operator==(const TensorShape&) const = default;
};
TensorShape shape_of(Shape, const ConvProblem&);
// Its extents in logical order: (n, c, h, w) or (o, i, h, w) for a 4-D order, as stored
// for a plain one.
inline std::vector<int64_t> logical_extents(const TensorShape& s) {
    std::vector<int64_t> logical = s.extents;
    if (s.order == AxisOrder::plain) return logical;
    const auto perm = physical_to_logical(s.order);
    for (size_t i = 0; i < 4; ++i) logical[size_t(perm[i])] = s.extents.at(i);
    return logical;
}
// A tensor of that shape: zeros, or poisoned with guard regions (Tensor::poisoned).
template <class T>
Tensor<T> make_tensor(const TensorShape& s, bool poisoned = false) {
    if (s.order == AxisOrder::plain)
        return poisoned ? Tensor<T>::poisoned(s.extents) : Tensor<T>(s.extents);
    const std::vector<int64_t> e = logical_extents(s);
    const Dims4 logical{e.at(0), e.at(1), e.at(2), e.at(3)};
    return poisoned ? Tensor<T>::poisoned(s.order, logical) : Tensor<T>(s.order, logical);
}
// "[2,3,5,5] NCHW", "[4]": a shape in messages; "[2,3,5,5]": extents alone.
std::string shape_text(const TensorShape&);
std::string shape_text(const std::vector<int64_t>& extents);

// How the harness draws a generated input:
enum class Draw {
    exact,     // integers in [-r, r], r = exact_magnitude(the direction's fill_terms): every sum stays exact
    small,     // integers in [-4, 4]: copied or compared, never summed
    gradient,  // maxpool2d's dy: distinct nonzero integers (floats for the float fills)
};

// A tensor of a direction.
struct Operand {
    Role role;
    Shape shape;
    // Inputs: how they are drawn. Outputs: exact = a copy or a selection, compared exactly.
    Draw draw = Draw::exact;
    bool exact = false;
    // An input that selects rather than enters a sum (maxpool2d's x): the reference's
    // sum|terms| keeps it as it is instead of taking its magnitude.
    bool selects = false;
    // A golden case may leave its expected values out (argmax).
    bool optional = false;
};

// Which of a problem's rules apply: ConvProblem's, PoolProblem's or WindowProblem's.
enum class Geometry { conv, pool, window };

// One op and pass with its optional tensors, named as benchdnn's --dir.
struct Direction {
    Op op;
    const char* name;  // FWD_B FWD_D BWD_D BWD_W BWD_WB for conv2d; FWD BWD for the poolings; FWD
    Pass pass;
    // The row with the bias tensor: read in forward (b, FWD_B), written in
    // backward_weights (db, BWD_WB). Which of the two is in the row's operands.
    bool bias;
    Geometry geometry;
    std::vector<Operand> inputs, outputs;
    // n of gamma_n: the most terms any output element sums (0: copies and selections).
    int64_t (*terms)(const ConvProblem&);
    // The sums generated exact inputs keep exact (FWD_D draws what FWD_B draws).
    int64_t (*fill_terms)(const ConvProblem&);
    // Its outputs are divided (average pooling): integer data keeps them exact only where
    // every divisor is a power of two.
    bool divides = false;

    bool reads(Role) const;
    bool writes(Role) const;
    // The problem has weights (oc, weights_layout): conv2d.
    bool has_weights() const { return geometry == Geometry::conv; }
    // No input gives the kernel's extent (there is no w): a golden case states it (kernel).
    bool needs_kernel() const { return !reads(Role::w); }
    // No input gives x's extents: a golden case states them (x_shape).
    bool needs_x_shape() const { return !reads(Role::x); }
};

// Every direction of every op, conv2d first.
const std::vector<Direction>& all_directions();
// The direction of (op, pass) with or without its optional tensors (bias is ignored where
// there are none). Throws std::invalid_argument when op has no such pass.
const Direction& direction_of(Op, Pass, bool bias = false);
// The problem's rules for this direction (ProblemError naming the field), and the pooling
// fields' (ceil_mode on a pooling only, alg max for maxpool2d and avg_p or avg_np for
// avgpool2d), and groups (g) on conv2d only.
void validate_problem(const Direction&, const ConvProblem&);

// The contract's names for an op and pass, merged over its directions: which inputs and
// outputs exist, which of them may be left out (b, argmax, db).
struct Signature {
    std::vector<std::string_view> inputs, optional_inputs, outputs, optional_outputs;
};
const Signature& signature(Op, Pass);

// One call: a direction, a dtype, a problem, and the tensors bound to the direction's
// roles (Tensor<T> of the dtype; argmax Tensor<int64_t>). A Call without tensors
// describes the call for Variant::unsupported(), workspace_bytes() and
// implementation_info(). Binds, never owns: the tensors must outlive the call.
class Call {
public:
    Call(const Direction& d, DType dtype, const ConvProblem& problem, bool nan_data = false)
        : direction_(&d), dtype_(dtype), problem_(problem), nan_data_(nan_data) {}

    const Direction& direction() const { return *direction_; }
    Op op() const { return direction_->op; }
    Pass pass() const { return direction_->pass; }
    DType dtype() const { return dtype_; }
    // Activations in problem().layout, weights in problem().weights_layout. Its
    // WindowProblem part is the problem of maxpool2d, im2col and col2im.
    const ConvProblem& problem() const { return problem_; }
    // A pooling's problem with its algorithm (std::logic_error for any other op).
    PoolProblem pool_problem() const;
    // The inputs hold NaN or infinities (pooling contract checks).
    bool nan_data() const { return nan_data_; }
    // The same call, tensors and all, on another problem.
    Call with_problem(const ConvProblem& p) const {
        Call c = *this;
        c.problem_ = p;
        return c;
    }

    template <class T>
    Call& bind(Role r, const Tensor<T>& t) {
        bound_[int(r)] = {element_of<T>(), const_cast<Tensor<T>*>(&t)};
        return *this;
    }
    bool has(Role r) const { return bound_[int(r)].tensor != nullptr; }
    // The tensor bound to r; std::logic_error when none is or it holds another type.
    template <class T>
    Tensor<T>& tensor(Role r) const {
        const Bound& b = bound_[int(r)];
        if (!b.tensor || b.element != element_of<T>()) wrong_tensor(r, element_of<T>());
        return *static_cast<Tensor<T>*>(b.tensor);
    }
    // A variant that did not compute an optional output (Operand::optional: argmax) says so
    // here, from run(); the harness then neither compares nor inspects it, and reports it
    // left out. std::logic_error for a role that is not an optional output of the direction.
    void leave_out(Role) const;
    bool left_out(Role r) const { return (left_out_ >> int(r)) & 1u; }

    // The bound tensor's shape, for validation.
    std::optional<TensorShape> bound_shape(Role) const;
    // The first element of the tensor bound to r, whatever its element type (nullptr when
    // none is): for passing the call across a C boundary (impl/plugin).
    void* data(Role) const;
    // Throws ProblemError naming the field or the role unless the problem passes the
    // direction's rules and exactly the direction's roles are bound, each with the
    // call's element type, axis order and extents.
    void validate() const;

private:
    enum class Element { none, f32, f64, s64 };
    template <class T>
    static constexpr Element element_of() {
        if constexpr (std::is_same_v<T, float>) return Element::f32;
        else if constexpr (std::is_same_v<T, double>) return Element::f64;
        else return Element::s64;
    }
    struct Bound {
        Element element = Element::none;
        void* tensor = nullptr;
    };
    [[noreturn]] void wrong_tensor(Role, Element) const;

    const Direction* direction_;
    DType dtype_;
    ConvProblem problem_;
    bool nan_data_;
    std::array<Bound, kRoleCount> bound_{};
    mutable uint32_t left_out_ = 0;  // what run() left out: set through a const Call
};

}  // namespace convconf
