// The one interface every implementation family provides.
//
// Every call OVERWRITES its outputs: each element of every output tensor is written
// (outputs arrive poisoned with NaN, so a forgotten element cannot pass). Accumulating
// algorithms (col2im, conv backward_data, maxpool backward) zero their output themselves.
// Tensors arrive in the problem's layouts: activations in p.layout, weights in
// p.weights_layout, bias and db 1-D [oc], col 2-D [mb*oh*ow, ic*kh*kw], argmax in y's shape.
// Problems arrive validated.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "impl/core/call.hpp"
#include "impl/core/problem.hpp"
#include "impl/core/tensor.hpp"
#include "impl/core/types.hpp"

namespace convconf {

class Variant {
public:
    virtual ~Variant() = default;

    virtual std::string name() const = 0;
    // One line: the algorithm, for listings.
    virtual std::string description() const = 0;

    // Runs the call: reads its inputs, overwrites its outputs (above). Throws ProblemError
    // naming the field or the role for a call that does not validate (Call::validate()).
    virtual void run(const Call&) const = 0;

    // Why this variant cannot run a call (a dtype it lacks, a guarantee it does not give,
    // a problem it does not take); std::nullopt when it can. Sees the call's direction,
    // dtype and problem; its tensors are not bound yet. A check it cannot run is reported
    // as skipped with this reason, never as passed.
    virtual std::optional<std::string> unsupported(const Call&) const { return std::nullopt; }

    // Bytes of scratch memory the variant allocates for this call, beyond its inputs and
    // outputs (im2col's column matrix, a per-tap slice, a reorder buffer), so memory use
    // can be compared.
    virtual int64_t workspace_bytes(const Call&) const { return 0; }

    // What actually ran, when the variant dispatches to something it does not control
    // (e.g. the oneDNN implementation chosen for this problem); named in mismatch reports.
    virtual std::string implementation_info(const Call&) const { return {}; }

    // What the last run() on this thread executed, one entry per implementation, for a
    // variant that can tell (oneDNN: each primitive's implementation string). The harness
    // checks that each appears in implementation_info() of that call: the path a report
    // names is the path that ran (as ruy's tests check last_used_path). Empty: not told.
    virtual std::vector<std::string> implementations_ran() const { return {}; }
};

// Typed calls of one direction each, for tests and tools that hold the tensors: each binds
// its tensors to a Call and runs it (calls::conv_forward(variant, p, x, w, b, y)). conv_forward: b may be null (FWD_D);
// conv_backward_weights: db may be null (BWD_W). pool_forward: argmax receives each
// output's window-local index i*kw + j; pool_backward recomputes the chosen elements from
// x, then scatters dy.
namespace calls {
template <class T>
void conv_forward(const Variant&, const ConvProblem&, const Tensor<T>& x, const Tensor<T>& w,
                  std::type_identity_t<const Tensor<T>*> b, Tensor<T>& y);
template <class T>
void conv_backward_data(const Variant&, const ConvProblem&, const Tensor<T>& w, const Tensor<T>& dy,
                        Tensor<T>& dx);
template <class T>
void conv_backward_weights(const Variant&, const ConvProblem&, const Tensor<T>& x, const Tensor<T>& dy,
                           Tensor<T>& dw, std::type_identity_t<Tensor<T>*> db);
template <class T>
void pool_forward(const Variant&, const PoolProblem&, const Tensor<T>& x, Tensor<T>& y, Tensor<int64_t>& argmax);
template <class T>
void pool_backward(const Variant&, const PoolProblem&, const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dx);
// avg_forward and avg_backward: average pooling, the algorithm (avg_p or avg_np) p.alg.
template <class T>
void avg_forward(const Variant&, const PoolProblem&, const Tensor<T>& x, Tensor<T>& y);
template <class T>
void avg_backward(const Variant&, const PoolProblem&, const Tensor<T>& dy, Tensor<T>& dx);
template <class T>
void im2col(const Variant&, const WindowProblem&, const Tensor<T>& x, Tensor<T>& col);
template <class T>
void col2im(const Variant&, const WindowProblem&, const Tensor<T>& col, Tensor<T>& x);
}  // namespace calls

// Implements run() by validating the call (Call::validate()) and then calling Impl's
// member template for its direction, at its dtype, so a family writes each algorithm once
// and never sees an invalid problem or a tensor of the wrong shape:
//   struct Naive : VariantOf<Naive> {
//       template <class T> void conv_forward_t(const ConvProblem&, const Tensor<T>& x, const Tensor<T>& w,
//                                              const Tensor<T>* b, Tensor<T>& y) const;
//       conv_backward_data_t(p, w, dy, dx), conv_backward_weights_t(p, x, dy, dw, db),
//       pool_forward_t(pool p, x, y, argmax), pool_backward_t(pool p, x, dy, dx) (max pooling),
//       avg_forward_t(pool p, x, y), avg_backward_t(pool p, dy, dx) (average pooling),
//       im2col_t(window p, x, col), col2im_t(window p, col, x)
//   };
// This is the one switch over directions a variant has.
template <class Impl>
class VariantOf : public Variant {
public:
    void run(const Call& c) const override {
        c.validate();
        if (c.dtype() == DType::f32) return run_as<float>(c);
        return run_as<double>(c);
    }

private:
    template <class T>
    void run_as(const Call& c) const {
        const Impl& impl = static_cast<const Impl&>(*this);
        const ConvProblem& p = c.problem();
        auto in = [&](Role r) -> const Tensor<T>& { return c.tensor<T>(r); };
        auto out = [&](Role r) -> Tensor<T>& { return c.tensor<T>(r); };
        auto maybe = [&](Role r) -> Tensor<T>* { return c.has(r) ? &c.tensor<T>(r) : nullptr; };
        switch (c.op()) {
            case Op::conv2d:
                switch (c.pass()) {
                    case Pass::forward:
                        return impl.template conv_forward_t<T>(p, in(Role::x), in(Role::w), maybe(Role::b), out(Role::y));
                    case Pass::backward_data:
                        return impl.template conv_backward_data_t<T>(p, in(Role::w), in(Role::dy), out(Role::dx));
                    case Pass::backward_weights:
                        return impl.template conv_backward_weights_t<T>(p, in(Role::x), in(Role::dy), out(Role::dw),
                                                                        maybe(Role::db));
                    case Pass::backward: break;
                }
                break;
            case Op::maxpool2d:
                if (c.pass() == Pass::forward)
                    return impl.template pool_forward_t<T>(c.pool_problem(), in(Role::x), out(Role::y),
                                                           c.tensor<int64_t>(Role::argmax));
                return impl.template pool_backward_t<T>(c.pool_problem(), in(Role::x), in(Role::dy), out(Role::dx));
            case Op::avgpool2d:
                if (c.pass() == Pass::forward) return impl.template avg_forward_t<T>(c.pool_problem(), in(Role::x), out(Role::y));
                return impl.template avg_backward_t<T>(c.pool_problem(), in(Role::dy), out(Role::dx));
            case Op::im2col: return impl.template im2col_t<T>(p, in(Role::x), out(Role::col));
            case Op::col2im: return impl.template col2im_t<T>(p, in(Role::col), out(Role::x));
        }
        throw std::logic_error("VariantOf: no kernel for " + std::string(to_string(c.op())) + " " +
                               c.direction().name);
    }
};

}  // namespace convconf
