#include "impl/core/call.hpp"

#include <algorithm>
#include <map>
#include <utility>

namespace convconf {
namespace {

constexpr std::array<std::string_view, kRoleCount> kRoleNames{"x",  "w",  "b",  "y",      "dy",
                                                              "dx", "dw", "db", "argmax", "col"};

// With groups, an output channel sums over its group's ic/g input channels, and an input
// channel receives from its group's oc/g output channels.
int64_t conv_forward_terms(const ConvProblem& p) { return p.icg() * p.kh * p.kw; }
int64_t conv_forward_bias_terms(const ConvProblem& p) { return p.icg() * p.kh * p.kw + 1; }
int64_t conv_backward_data_terms(const ConvProblem& p) { return p.ocg() * p.kh * p.kw; }
int64_t conv_backward_weights_terms(const ConvProblem& p) { return p.mb * p.oh() * p.ow(); }
// A point of x lies in at most one window per tap (i, j): at most kh*kw terms meet there.
int64_t per_tap_terms(const ConvProblem& p) { return p.kh * p.kw; }
int64_t no_terms(const ConvProblem&) { return 0; }
// Average pooling sums at most kh*kw taps (forward: a window's; backward: the windows that
// reach a point of x, at most one per tap), and divides: y = sum / divisor, or sum times the
// rounded 1/divisor, two roundings more. (1+d1)...(1+dn)(1+e1)(1+e2) is within gamma_{n+2}.
int64_t average_terms(const ConvProblem& p) { return p.kh * p.kw + 2; }

constexpr Operand in(Role r, Shape s, Draw d = Draw::exact) { return {r, s, d, false, false, false}; }
constexpr Operand out(Role r, Shape s) { return {r, s, Draw::exact, false, false, false}; }
constexpr Operand copied(Role r, Shape s, bool optional = false) { return {r, s, Draw::exact, true, false, optional}; }
constexpr Operand selecting(Role r, Shape s) { return {r, s, Draw::small, false, true, false}; }

}  // namespace

std::string_view to_string(Role r) { return kRoleNames[size_t(r)]; }

std::optional<Role> find_role(std::string_view name) {
    for (int r = 0; r < kRoleCount; ++r)
        if (kRoleNames[size_t(r)] == name) return Role(r);
    return std::nullopt;
}

TensorShape shape_of(Shape s, const ConvProblem& p) {
    auto four = [](AxisOrder order, const Dims4& logical) {
        const auto perm = physical_to_logical(order);
        TensorShape t{order, std::vector<int64_t>(4)};
        for (int i = 0; i < 4; ++i) t.extents[size_t(i)] = logical[size_t(perm[size_t(i)])];
        return t;
    };
    const AxisOrder act = axis_order(p.layout);
    switch (s) {
        case Shape::image: return four(act, p.x_dims());
        case Shape::weights: return four(axis_order(p.weights_layout), p.w_dims());
        case Shape::conv_out: return four(act, p.y_dims());
        case Shape::pool_out: return four(act, {p.mb, p.ic, p.oh(), p.ow()});
        case Shape::channels: return {AxisOrder::plain, {p.oc}};
        case Shape::columns: {
            const auto cd = p.col_dims();
            return {AxisOrder::plain, {cd[0], cd[1]}};
        }
    }
    throw std::logic_error("shape_of: unknown shape");
}

std::string shape_text(const std::vector<int64_t>& extents) {
    std::string s = "[";
    for (size_t i = 0; i < extents.size(); ++i) s += (i ? "," : "") + std::to_string(extents[i]);
    return s + "]";
}

std::string shape_text(const TensorShape& t) {
    const std::string s = shape_text(t.extents);
    return t.order == AxisOrder::plain ? s : s + " " + std::string(to_string(t.order));
}

bool Direction::reads(Role r) const {
    return std::any_of(inputs.begin(), inputs.end(), [&](const Operand& o) { return o.role == r; });
}
bool Direction::writes(Role r) const {
    return std::any_of(outputs.begin(), outputs.end(), [&](const Operand& o) { return o.role == r; });
}

const std::vector<Direction>& all_directions() {
    using R = Role;
    using S = Shape;
    static const std::vector<Direction> table{
        {Op::conv2d, "FWD_B", Pass::forward, true, Geometry::conv,
         {in(R::x, S::image), in(R::w, S::weights), in(R::b, S::channels)}, {out(R::y, S::conv_out)},
         conv_forward_bias_terms, conv_forward_bias_terms},
        {Op::conv2d, "FWD_D", Pass::forward, false, Geometry::conv,
         {in(R::x, S::image), in(R::w, S::weights)}, {out(R::y, S::conv_out)},
         conv_forward_terms, conv_forward_bias_terms},
        {Op::conv2d, "BWD_D", Pass::backward_data, false, Geometry::conv,
         {in(R::w, S::weights), in(R::dy, S::conv_out)}, {out(R::dx, S::image)},
         conv_backward_data_terms, conv_backward_data_terms},
        {Op::conv2d, "BWD_W", Pass::backward_weights, false, Geometry::conv,
         {in(R::x, S::image), in(R::dy, S::conv_out)}, {out(R::dw, S::weights)},
         conv_backward_weights_terms, conv_backward_weights_terms},
        {Op::conv2d, "BWD_WB", Pass::backward_weights, true, Geometry::conv,
         {in(R::x, S::image), in(R::dy, S::conv_out)}, {out(R::dw, S::weights), out(R::db, S::channels)},
         conv_backward_weights_terms, conv_backward_weights_terms},
        {Op::maxpool2d, "FWD", Pass::forward, false, Geometry::pool,
         {selecting(R::x, S::image)}, {copied(R::y, S::pool_out), copied(R::argmax, S::pool_out, true)},
         no_terms, no_terms},
        {Op::maxpool2d, "BWD", Pass::backward, false, Geometry::pool,
         {selecting(R::x, S::image), in(R::dy, S::pool_out, Draw::gradient)}, {out(R::dx, S::image)},
         per_tap_terms, no_terms},
        {Op::avgpool2d, "FWD", Pass::forward, false, Geometry::pool,
         {in(R::x, S::image)}, {out(R::y, S::pool_out)},
         average_terms, per_tap_terms, true},
        {Op::avgpool2d, "BWD", Pass::backward, false, Geometry::pool,
         {in(R::dy, S::pool_out)}, {out(R::dx, S::image)},
         average_terms, per_tap_terms, true},
        {Op::im2col, "FWD", Pass::forward, false, Geometry::window,
         {in(R::x, S::image, Draw::small)}, {copied(R::col, S::columns)},
         no_terms, no_terms},
        {Op::col2im, "FWD", Pass::forward, false, Geometry::window,
         {in(R::col, S::columns)}, {out(R::x, S::image)},
         per_tap_terms, per_tap_terms},
    };
    return table;
}

bool is_valid_pass(Op op, Pass pass) {
    const auto& t = all_directions();
    return std::any_of(t.begin(), t.end(), [&](const Direction& d) { return d.op == op && d.pass == pass; });
}

const Direction& direction_of(Op op, Pass pass, bool bias) {
    const Direction* found = nullptr;
    for (const Direction& d : all_directions()) {
        if (d.op != op || d.pass != pass) continue;
        if (d.bias == bias) return d;
        if (!found || !d.bias) found = &d;
    }
    if (!found)
        throw std::invalid_argument(std::string(to_string(op)) + " has no pass " + std::string(to_string(pass)));
    return *found;
}

void validate_problem(const Direction& d, const ConvProblem& p) {
    const std::string op(to_string(d.op));
    if (d.op != Op::conv2d && p.g != 1)
        throw ProblemError("g", "groups (" + std::to_string(p.g) + ") apply to conv2d only, not " + op);
    if (d.geometry != Geometry::pool) {
        if (p.ceil_mode) throw ProblemError("ceil_mode", "applies to maxpool2d and avgpool2d only, not " + op);
        if (p.alg != PoolAlg::max)
            throw ProblemError("alg", "a pooling algorithm (" + std::string(to_string(p.alg)) + ") given for " + op);
    } else if (is_average(p.alg) != (d.op == Op::avgpool2d)) {
        throw ProblemError("alg", std::string(to_string(p.alg)) + " is not an algorithm of " + op + " (expected " +
                                      (d.op == Op::avgpool2d ? "avg_p or avg_np" : "max") + ")");
    }
    switch (d.geometry) {
        case Geometry::conv: return p.validate();
        case Geometry::pool: return pool_problem(p).validate();
        case Geometry::window: return static_cast<const WindowProblem&>(p).validate();
    }
}

const Signature& signature(Op op, Pass pass) {
    static const std::map<std::pair<Op, Pass>, Signature> merged = [] {
        // A role is optional where one direction of the op and pass lacks it, or marks it.
        std::map<std::pair<Op, Pass>, std::vector<const Direction*>> by_pass;
        for (const Direction& d : all_directions()) by_pass[{d.op, d.pass}].push_back(&d);
        std::map<std::pair<Op, Pass>, Signature> m;
        for (const auto& entry : by_pass) {
            const std::vector<const Direction*>& rows = entry.second;  // a lambda below captures it
            Signature& s = m[entry.first];
            auto merge = [&](auto operands, std::vector<std::string_view>& required,
                             std::vector<std::string_view>& optional) {
                std::vector<Role> seen;
                for (const Direction* d : rows)
                    for (const Operand& o : d->*operands)
                        if (std::find(seen.begin(), seen.end(), o.role) == seen.end()) seen.push_back(o.role);
                for (Role r : seen) {
                    bool always = true;
                    for (const Direction* d : rows) {
                        const auto& list = d->*operands;
                        const auto it = std::find_if(list.begin(), list.end(), [&](const Operand& o) { return o.role == r; });
                        always = always && it != list.end() && !it->optional;
                    }
                    (always ? required : optional).push_back(to_string(r));
                }
            };
            merge(&Direction::inputs, s.inputs, s.optional_inputs);
            merge(&Direction::outputs, s.outputs, s.optional_outputs);
        }
        return m;
    }();
    const auto it = merged.find({op, pass});
    if (it == merged.end())
        throw std::invalid_argument(std::string(to_string(op)) + " has no pass " + std::string(to_string(pass)));
    return it->second;
}

PoolProblem Call::pool_problem() const {
    if (direction_->geometry != Geometry::pool)
        throw std::logic_error(std::string(to_string(op())) + " is not a pooling");
    return convconf::pool_problem(problem_);
}

std::optional<TensorShape> Call::bound_shape(Role r) const {
    const Bound& b = bound_[size_t(r)];
    switch (b.element) {
        case Element::none: return std::nullopt;
        case Element::f32: {
            const auto& t = *static_cast<const Tensor<float>*>(b.tensor);
            return TensorShape{t.order(), t.shape()};
        }
        case Element::f64: {
            const auto& t = *static_cast<const Tensor<double>*>(b.tensor);
            return TensorShape{t.order(), t.shape()};
        }
        case Element::s64: {
            const auto& t = *static_cast<const Tensor<int64_t>*>(b.tensor);
            return TensorShape{t.order(), t.shape()};
        }
    }
    return std::nullopt;
}

void Call::leave_out(Role r) const {
    for (const Operand& o : direction_->outputs)
        if (o.role == r && o.optional) {
            left_out_ |= 1u << int(r);
            return;
        }
    throw std::logic_error("Call: " + std::string(to_string(r)) + " is not an optional output of " +
                           std::string(to_string(op())) + " " + direction_->name);
}

void* Call::data(Role r) const {
    const Bound& b = bound_[size_t(r)];
    switch (b.element) {
        case Element::none: return nullptr;
        case Element::f32: return static_cast<Tensor<float>*>(b.tensor)->data();
        case Element::f64: return static_cast<Tensor<double>*>(b.tensor)->data();
        case Element::s64: return static_cast<Tensor<int64_t>*>(b.tensor)->data();
    }
    return nullptr;
}

void Call::validate() const {
    const Direction& d = *direction_;
    validate_problem(d, problem_);
    const Element element = dtype_ == DType::f32 ? Element::f32 : Element::f64;
    auto require = [&](const Operand& o) {
        const std::optional<TensorShape> got = bound_shape(o.role);
        const std::string role(to_string(o.role));
        if (!got)
            throw ProblemError(role, "no tensor given; " + std::string(to_string(d.op)) + " " + d.name + " needs it");
        const Element want = o.role == Role::argmax ? Element::s64 : element;
        if (bound_[size_t(o.role)].element != want)
            throw ProblemError(role, "tensor of another element type than the call's (" +
                                         std::string(o.role == Role::argmax ? "int64" : to_string(dtype_)) + ")");
        const TensorShape need = shape_of(o.shape, problem_);
        if (*got != need)
            throw ProblemError(role, "tensor is " + shape_text(*got) + " but the problem needs " + shape_text(need));
    };
    for (const Operand& o : d.inputs) require(o);
    for (const Operand& o : d.outputs) require(o);
    for (int r = 0; r < kRoleCount; ++r)
        if (has(Role(r)) && !d.reads(Role(r)) && !d.writes(Role(r)))
            throw ProblemError(std::string(to_string(Role(r))), "a tensor given, but " + std::string(to_string(d.op)) +
                                                                    " " + d.name + " has no " +
                                                                    std::string(to_string(Role(r))));
}

void Call::wrong_tensor(Role r, Element asked) const {
    const Bound& b = bound_[size_t(r)];
    throw std::logic_error(std::string("Call: ") + (b.tensor ? "the tensor bound to " : "no tensor bound to ") +
                           std::string(to_string(r)) +
                           (b.tensor && b.element != asked ? " holds another element type" : ""));
}

}  // namespace convconf
