#include "impl/core/variant.hpp"

namespace convconf {
namespace {

// The Call of one direction on a problem of any of the three kinds.
template <class T>
Call call_of(Op op, Pass pass, bool bias, const ConvProblem& p) {
    return Call(direction_of(op, pass, bias), dtype_of<T>::value, p);
}
template <class T>
Call call_of(Op op, Pass pass, bool bias, const WindowProblem& p) {
    return call_of<T>(op, pass, bias, as_conv_problem(p));
}

}  // namespace

namespace calls {

template <class T>
void conv_forward(const Variant& v, const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& w, std::type_identity_t<const Tensor<T>*> b,
                  Tensor<T>& y) {
    Call c = call_of<T>(Op::conv2d, Pass::forward, b != nullptr, p);
    c.bind(Role::x, x).bind(Role::w, w).bind(Role::y, y);
    if (b) c.bind(Role::b, *b);
    v.run(c);
}

template <class T>
void conv_backward_data(const Variant& v, const ConvProblem& p, const Tensor<T>& w, const Tensor<T>& dy,
                        Tensor<T>& dx) {
    v.run(call_of<T>(Op::conv2d, Pass::backward_data, false, p).bind(Role::w, w).bind(Role::dy, dy).bind(Role::dx, dx));
}

template <class T>
void conv_backward_weights(const Variant& v, const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& dy,
                           Tensor<T>& dw, std::type_identity_t<Tensor<T>*> db) {
    Call c = call_of<T>(Op::conv2d, Pass::backward_weights, db != nullptr, p);
    c.bind(Role::x, x).bind(Role::dy, dy).bind(Role::dw, dw);
    if (db) c.bind(Role::db, *db);
    v.run(c);
}

template <class T>
void pool_forward(const Variant& v, const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y, Tensor<int64_t>& argmax) {
    v.run(call_of<T>(Op::maxpool2d, Pass::forward, false, p).bind(Role::x, x).bind(Role::y, y).bind(Role::argmax, argmax));
}

template <class T>
void pool_backward(const Variant& v, const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dx) {
    v.run(call_of<T>(Op::maxpool2d, Pass::backward, false, p).bind(Role::x, x).bind(Role::dy, dy).bind(Role::dx, dx));
}

template <class T>
void avg_forward(const Variant& v, const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y) {
    v.run(call_of<T>(Op::avgpool2d, Pass::forward, false, p).bind(Role::x, x).bind(Role::y, y));
}

template <class T>
void avg_backward(const Variant& v, const PoolProblem& p, const Tensor<T>& dy, Tensor<T>& dx) {
    v.run(call_of<T>(Op::avgpool2d, Pass::backward, false, p).bind(Role::dy, dy).bind(Role::dx, dx));
}

template <class T>
void im2col(const Variant& v, const WindowProblem& p, const Tensor<T>& x, Tensor<T>& col) {
    v.run(call_of<T>(Op::im2col, Pass::forward, false, p).bind(Role::x, x).bind(Role::col, col));
}

template <class T>
void col2im(const Variant& v, const WindowProblem& p, const Tensor<T>& col, Tensor<T>& x) {
    v.run(call_of<T>(Op::col2im, Pass::forward, false, p).bind(Role::col, col).bind(Role::x, x));
}

#define CONVCONF_TYPED_CALLS(T)                                                                                    \
    template void conv_forward(const Variant&, const ConvProblem&, const Tensor<T>&, const Tensor<T>&,            \
                               const Tensor<T>*, Tensor<T>&);                                                      \
    template void conv_backward_data(const Variant&, const ConvProblem&, const Tensor<T>&, const Tensor<T>&,      \
                                     Tensor<T>&);                                                                  \
    template void conv_backward_weights(const Variant&, const ConvProblem&, const Tensor<T>&, const Tensor<T>&,   \
                                        Tensor<T>&, Tensor<T>*);                                                   \
    template void pool_forward(const Variant&, const PoolProblem&, const Tensor<T>&, Tensor<T>&, Tensor<int64_t>&); \
    template void pool_backward(const Variant&, const PoolProblem&, const Tensor<T>&, const Tensor<T>&, Tensor<T>&); \
    template void avg_forward(const Variant&, const PoolProblem&, const Tensor<T>&, Tensor<T>&);                 \
    template void avg_backward(const Variant&, const PoolProblem&, const Tensor<T>&, Tensor<T>&);                \
    template void im2col(const Variant&, const WindowProblem&, const Tensor<T>&, Tensor<T>&);                      \
    template void col2im(const Variant&, const WindowProblem&, const Tensor<T>&, Tensor<T>&);
CONVCONF_TYPED_CALLS(float)
CONVCONF_TYPED_CALLS(double)
#undef CONVCONF_TYPED_CALLS

}  // namespace calls

}  // namespace convconf
