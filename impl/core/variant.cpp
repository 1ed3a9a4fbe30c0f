#include "impl/core/variant.hpp"

namespace convconf {
namespace {

std::string shape_text(AxisOrder order, const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    s += "]";
    if (order != AxisOrder::plain) s += " " + std::string(to_string(order));
    return s;
}

void require(const Arg& a, AxisOrder order, const std::vector<int64_t>& shape) {
    if (a.order == order && a.shape == shape) return;
    throw ProblemError(a.name, "tensor is " + shape_text(a.order, a.shape) +
                                   " but the problem needs " + shape_text(order, shape));
}

void require(const Arg& a, AxisOrder order, const Dims4& logical) {
    const auto perm = physical_to_logical(order);
    std::vector<int64_t> shape(4);
    for (int p = 0; p < 4; ++p) shape[p] = logical[perm[p]];
    require(a, order, shape);
}

}  // namespace

void check_conv_forward(const ConvProblem& p, const Arg& x, const Arg& w, const Arg* b, const Arg& y) {
    p.validate();
    require(x, axis_order(p.layout), p.x_dims());
    require(w, axis_order(p.weights_layout), p.w_dims());
    if (b) require(*b, AxisOrder::plain, std::vector<int64_t>{p.oc});
    require(y, axis_order(p.layout), p.y_dims());
}

void check_conv_backward_data(const ConvProblem& p, const Arg& w, const Arg& dy, const Arg& dx) {
    p.validate();
    require(w, axis_order(p.weights_layout), p.w_dims());
    require(dy, axis_order(p.layout), p.y_dims());
    require(dx, axis_order(p.layout), p.x_dims());
}

void check_conv_backward_weights(const ConvProblem& p, const Arg& x, const Arg& dy, const Arg& dw,
                                 const Arg* db) {
    p.validate();
    require(x, axis_order(p.layout), p.x_dims());
    require(dy, axis_order(p.layout), p.y_dims());
    require(dw, axis_order(p.weights_layout), p.w_dims());
    if (db) require(*db, AxisOrder::plain, std::vector<int64_t>{p.oc});
}

void check_pool_forward(const PoolProblem& p, const Arg& x, const Arg& y, const Arg& argmax) {
    p.validate();
    require(x, axis_order(p.layout), p.x_dims());
    require(y, axis_order(p.layout), p.y_dims());
    require(argmax, axis_order(p.layout), p.y_dims());
}

void check_pool_backward(const PoolProblem& p, const Arg& x, const Arg& dy, const Arg& dx) {
    p.validate();
    require(x, axis_order(p.layout), p.x_dims());
    require(dy, axis_order(p.layout), p.y_dims());
    require(dx, axis_order(p.layout), p.x_dims());
}

void check_im2col(const WindowProblem& p, const Arg& x, const Arg& col) {
    p.validate();
    require(x, axis_order(p.layout), p.x_dims());
    const auto cd = p.col_dims();
    require(col, AxisOrder::plain, std::vector<int64_t>{cd[0], cd[1]});
}

}  // namespace convconf
