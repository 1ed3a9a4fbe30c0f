// The one interface every implementation family provides.
//
// Every entry point OVERWRITES its outputs: each element of every output tensor is written
// (outputs arrive poisoned with NaN, so a forgotten element cannot pass). Accumulating
// algorithms (col2im, conv backward_data, maxpool backward) zero their output themselves.
// Tensors arrive in the problem's layouts: activations in p.layout, weights in
// p.weights_layout, bias and db 1-D [oc], col 2-D [mb*oh*ow, ic*kh*kw], argmax in y's shape.
// Problems arrive validated.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "impl/core/problem.hpp"
#include "impl/core/tensor.hpp"
#include "impl/core/types.hpp"

namespace convconf {

// What a check asks of a variant, for Variant::unsupported().
struct CheckKind {
    Op op;
    Pass pass;
    DType dtype;
    bool nan_data = false;  // the inputs hold NaN or infinities (pooling contract checks)
};

class Variant {
public:
    virtual ~Variant() = default;

    virtual std::string name() const = 0;
    // One line: the algorithm, for listings.
    virtual std::string description() const = 0;

    // Why this variant cannot run a check (a dtype it lacks, a guarantee it does not
    // give); std::nullopt when it can. A check it cannot run is reported as skipped
    // with this reason, never as passed.
    virtual std::optional<std::string> unsupported(const CheckKind&) const { return std::nullopt; }

    // Bytes of scratch memory the variant allocates for this op on this problem, beyond
    // its inputs and outputs (im2col's column matrix, a per-tap slice, a reorder buffer),
    // so memory use can be compared. p's WindowProblem part is the problem of maxpool2d,
    // im2col and col2im.
    virtual int64_t workspace_bytes(const CheckKind&, const ConvProblem&) const { return 0; }

    // What actually ran, when the variant dispatches to something it does not control
    // (e.g. the oneDNN implementation chosen for this problem); named in mismatch reports.
    virtual std::string implementation_info(const CheckKind&, const ConvProblem&) const { return {}; }

#define CONVCONF_VARIANT_ENTRY_POINTS(T, SPEC)                                                  \
    virtual void conv_forward(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& w,    \
                              const Tensor<T>* b, Tensor<T>& y) const SPEC;                    \
    virtual void conv_backward_data(const ConvProblem& p, const Tensor<T>& w,                  \
                                    const Tensor<T>& dy, Tensor<T>& dx) const SPEC;            \
    virtual void conv_backward_weights(const ConvProblem& p, const Tensor<T>& x,               \
                                       const Tensor<T>& dy, Tensor<T>& dw, Tensor<T>* db)      \
        const SPEC;                                                                             \
    virtual void pool_forward(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y,          \
                              Tensor<int64_t>& argmax) const SPEC;                             \
    virtual void pool_backward(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy,  \
                               Tensor<T>& dx) const SPEC;                                       \
    virtual void im2col(const WindowProblem& p, const Tensor<T>& x, Tensor<T>& col) const SPEC; \
    virtual void col2im(const WindowProblem& p, const Tensor<T>& col, Tensor<T>& x) const SPEC;

    // conv_forward: b may be null (no bias). conv_backward_weights: db may be null.
    // pool_forward: argmax receives each output's window-local index i*kw + j.
    // pool_backward: recomputes the chosen elements from x, then scatters dy.
    CONVCONF_VARIANT_ENTRY_POINTS(float, = 0)
    CONVCONF_VARIANT_ENTRY_POINTS(double, = 0)
};

// Every entry point validates before it computes: the problem (validate()), then each
// tensor's axis order and extents against the problem. Throws ProblemError naming the
// problem field or the tensor ("x", "w", "b", "y", "dy", "dx", "dw", "db", "argmax", "col").
struct Arg {
    const char* name;
    AxisOrder order;
    const std::vector<int64_t>& shape;
    template <class T>
    Arg(const char* n, const Tensor<T>& t) : name(n), order(t.order()), shape(t.shape()) {}
};
void check_conv_forward(const ConvProblem&, const Arg& x, const Arg& w, const Arg* b, const Arg& y);
void check_conv_backward_data(const ConvProblem&, const Arg& w, const Arg& dy, const Arg& dx);
void check_conv_backward_weights(const ConvProblem&, const Arg& x, const Arg& dy, const Arg& dw,
                                 const Arg* db);
void check_pool_forward(const PoolProblem&, const Arg& x, const Arg& y, const Arg& argmax);
void check_pool_backward(const PoolProblem&, const Arg& x, const Arg& dy, const Arg& dx);
void check_im2col(const WindowProblem&, const Arg& x, const Arg& col);

// Implements both dtypes' entry points by validating the arguments and then calling
// Impl's member templates, so a family writes each algorithm once and never sees an
// invalid problem or a tensor of the wrong shape:
//   struct Naive : VariantOf<Naive> { template <class T> void conv_forward_t(...) const; ... };
template <class Impl>
class VariantOf : public Variant {
public:
#define CONVCONF_FORWARD_TO_IMPL(T)                                                             \
    void conv_forward(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& w,            \
                      const Tensor<T>* b, Tensor<T>& y) const override {                       \
        const std::optional<Arg> b_arg = b ? std::optional<Arg>(Arg("b", *b)) : std::nullopt;   \
        check_conv_forward(p, {"x", x}, {"w", w}, b_arg ? &*b_arg : nullptr, {"y", y});         \
        self().template conv_forward_t<T>(p, x, w, b, y);                                       \
    }                                                                                           \
    void conv_backward_data(const ConvProblem& p, const Tensor<T>& w, const Tensor<T>& dy,     \
                            Tensor<T>& dx) const override {                                     \
        check_conv_backward_data(p, {"w", w}, {"dy", dy}, {"dx", dx});                          \
        self().template conv_backward_data_t<T>(p, w, dy, dx);                                  \
    }                                                                                           \
    void conv_backward_weights(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& dy,  \
                               Tensor<T>& dw, Tensor<T>* db) const override {                   \
        const std::optional<Arg> db_arg = db ? std::optional<Arg>(Arg("db", *db)) : std::nullopt; \
        check_conv_backward_weights(p, {"x", x}, {"dy", dy}, {"dw", dw}, db_arg ? &*db_arg : nullptr); \
        self().template conv_backward_weights_t<T>(p, x, dy, dw, db);                           \
    }                                                                                           \
    void pool_forward(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y,                  \
                      Tensor<int64_t>& argmax) const override {                                 \
        check_pool_forward(p, {"x", x}, {"y", y}, {"argmax", argmax});                          \
        self().template pool_forward_t<T>(p, x, y, argmax);                                     \
    }                                                                                           \
    void pool_backward(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy,          \
                       Tensor<T>& dx) const override {                                          \
        check_pool_backward(p, {"x", x}, {"dy", dy}, {"dx", dx});                               \
        self().template pool_backward_t<T>(p, x, dy, dx);                                       \
    }                                                                                           \
    void im2col(const WindowProblem& p, const Tensor<T>& x, Tensor<T>& col) const override {   \
        check_im2col(p, {"x", x}, {"col", col});                                                \
        self().template im2col_t<T>(p, x, col);                                                 \
    }                                                                                           \
    void col2im(const WindowProblem& p, const Tensor<T>& col, Tensor<T>& x) const override {   \
        check_im2col(p, {"x", x}, {"col", col});                                                \
        self().template col2im_t<T>(p, col, x);                                                 \
    }
    CONVCONF_FORWARD_TO_IMPL(float)
    CONVCONF_FORWARD_TO_IMPL(double)
#undef CONVCONF_FORWARD_TO_IMPL

private:
    const Impl& self() const { return static_cast<const Impl&>(*this); }
};

}  // namespace convconf
