#include "reference/onednn/onednn.hpp"

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

namespace convconf::onednn {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

constexpr const char* kNoF64 = "oneDNN 2.6 has no f64 convolution or pooling on CPU";
constexpr const char* kNoIm2col = "oneDNN has no im2col/col2im primitive";
// The infinities in the same checks fare no better (README.md here, "Divergences").
constexpr const char* kNoNaN =
    "oneDNN gives no NaN guarantee for max-pooling (nor for -inf: its maximum starts at -FLT_MAX)";

const dnnl::engine& cpu() {
    static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

// ---- The problem in oneDNN's terms ---------------------------------------------------

// The one place dilation is converted: the contract counts the distance between taps
// (1 = dense, as PyTorch and ONNX do), oneDNN the gaps between them (0 = dense).
memory::dims onednn_dilation(const WindowProblem& p) { return {p.dh - 1, p.dw - 1}; }

struct Window {
    memory::dims strides, kernel, dilation, padding_l, padding_r;
};

// padding_l is (top, left) and padding_r (bottom, right), so asymmetric padding passes
// through as it is.
Window window(const WindowProblem& p) {
    return {{p.sh, p.sw}, {p.kh, p.kw}, onednn_dilation(p), {p.pt, p.pl}, {p.pb, p.pr}};
}

// Pooling's right pad for oneDNN: the one its last window reaches, (o-1)*s + ext - i - pad_l,
// and at least 0. oneDNN has no ceil mode (its output size is
// floor((i + pad_l + pad_r - ext) / s) + 1), and this pad gives ceil mode's output size:
// larger than the problem's where the last window overhangs the padded input, smaller where
// ceil mode drops a window. It is never as large as the window (the last window starts
// inside the input), which oneDNN refuses. Where the last window ends before the input does
// (ih6 kh1 sh2) the reached pad is negative and 0 gives the same floor: floor mode with no
// pad has at least o windows, and no more than the problem's own, which has o. (oneDNN 2.6
// computes such a case right with the negative pad too, measured; this adapter used to
// decline it.)
// In floor mode it is also at most the problem's (rows no window reaches are cut).
int64_t pooling_pad_r(int64_t out, int64_t in, int64_t stride, int64_t pad_l, int64_t pad_r, int64_t extent,
                      bool ceil_mode) {
    const int64_t reached = std::max<int64_t>((out - 1) * stride + extent - in - pad_l, 0);
    return ceil_mode ? reached : std::min(reached, pad_r);
}

Window pooling_window(const PoolProblem& p) {
    Window g = window(p);
    g.padding_r = {pooling_pad_r(p.oh(), p.ih, p.sh, p.pt, p.pb, p.kh_extent(), p.ceil_mode),
                   pooling_pad_r(p.ow(), p.iw, p.sw, p.pl, p.pr, p.kw_extent(), p.ceil_mode)};
    return g;
}

// Why oneDNN cannot compute a pooling exactly as the contract defines it, or nullopt. Its
// include-padding average divides by kh*kw: every tap, also those of an enlarged right pad
// (ceil mode's overhang), where the contract counts only taps inside the padded input.
std::optional<std::string> pooling_unsupported(const PoolProblem& p) {
    const Window g = pooling_window(p);
    if (p.alg == PoolAlg::avg_p && (g.padding_r[0] > p.pb || g.padding_r[1] > p.pr))
        return std::string("a ceil-mode window overhangs the padded input: oneDNN's include-padding divisor "
                           "(kh*kw) counts those taps, the contract does not");
    return std::nullopt;
}

std::string to_string(const Window& g) {
    auto pair = [](const memory::dims& d) {
        return std::to_string(d[0]) + "x" + std::to_string(d[1]);
    };
    return "strides " + pair(g.strides) + ", kernel " + pair(g.kernel) + ", dilation " +
           pair(g.dilation) + " (0 = dense), padding_l " + pair(g.padding_l) + ", padding_r " +
           pair(g.padding_r);
}

// oneDNN's errors name what it rejected, not what it was given: add the window in its
// terms, so that a wrong conversion shows in the message.
template <class F>
auto explained_with(const Window& g, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const dnnl::error& e) {
        throw std::runtime_error(std::string("oneDNN: ") + e.what() + " (given " + to_string(g) + ")");
    }
}
template <class F>
auto explained(const WindowProblem& p, F&& f) -> decltype(f()) {
    return explained_with(window(p), f);
}
template <class F>
auto explained(const PoolProblem& p, F&& f) -> decltype(f()) {
    return explained_with(pooling_window(p), f);
}

memory::desc f32_desc(const Dims4& d, Tag tag) {
    return {memory::dims(d.begin(), d.end()), memory::data_type::f32, tag};
}
// Our tensors as they arrive: logical dims (n,c,h,w) or (o,i,h,w) in the problem's layout.
memory::desc plain(const Dims4& d, Layout l) {
    return f32_desc(d, l == Layout::nchw ? Tag::nchw : Tag::nhwc);
}
memory::desc plain(const Dims4& d, WeightsLayout l) {
    return f32_desc(d, l == WeightsLayout::oihw ? Tag::oihw : Tag::hwio);
}
// Whatever layout oneDNN prefers for this problem (on x86 usually blocked: nChw8c, OIhw8i8o),
// so the optimised kernels run rather than a plain-layout fallback.
memory::desc onednn_choice(const Dims4& d) { return f32_desc(d, Tag::any); }
memory::desc bias_desc(int64_t oc) { return {{oc}, memory::data_type::f32, Tag::a}; }

// w's dims as oneDNN takes them: (o, i, h, w), or with groups its grouped weights
// (g, o/g, i/g, h, w).
memory::dims weights_dims(const ConvProblem& p) {
    if (p.g == 1) return {p.oc, p.ic, p.kh, p.kw};
    return {p.g, p.ocg(), p.icg(), p.kh, p.kw};
}
memory::desc weights_choice(const ConvProblem& p) { return {weights_dims(p), memory::data_type::f32, Tag::any}; }
// Our w as it arrives. Grouped OIHW, [oc][ic/g][kh][kw], is oneDNN's goihw; grouped HWIO,
// [kh][kw][ic/g][oc] with oc = g*(oc/g), is given by its strides along (g, o, i, h, w).
memory::desc plain_weights(const ConvProblem& p) {
    if (p.g == 1) return plain(p.w_dims(), p.weights_layout);
    if (p.weights_layout == WeightsLayout::oihw) return {weights_dims(p), memory::data_type::f32, Tag::goihw};
    const int64_t oc = p.oc, icg = p.icg();
    return {weights_dims(p), memory::data_type::f32, memory::dims{p.ocg(), 1, oc, p.kw * icg * oc, icg * oc}};
}

// Every primitive leaves its scratchpad to us (user mode), so its size can be counted.
dnnl::primitive_attr attributes() {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
}

// ---- The plumbing every pass shares --------------------------------------------------

// The implementation of every primitive executed on this thread since the variant's last
// run() began (reorders aside): what implementations_ran() reports.
thread_local std::vector<std::string> executed;

// One primitive execution with its arguments in the caller's layouts. Where the primitive
// chose another layout for an argument, Primitive gives it a buffer in that layout, reorders
// inputs in before and outputs out after. Data pointers may be null to size a call
// without running it.
class Primitive {
public:
    explicit Primitive(dnnl::primitive_desc pd) : pd_(std::move(pd)) {}

    Primitive& input(int arg, const memory::desc& user, const void* data) {
        // oneDNN reads inputs only; its memory objects simply have no const handle.
        bindings_.push_back({arg, user, const_cast<void*>(data), true});
        return *this;
    }
    Primitive& output(int arg, const memory::desc& user, void* data) {
        bindings_.push_back({arg, user, data, false});
        return *this;
    }

    // Bytes allocated beyond the caller's buffers: reorder targets and the scratchpad.
    int64_t scratch_bytes() const {
        int64_t bytes = int64_t(pd_.scratchpad_desc().get_size());
        for (const Binding& b : bindings_)
            if (chosen(b) != b.user) bytes += int64_t(chosen(b).get_size());
        return bytes;
    }

    std::string implementation() const { return pd_.impl_info_str(); }

    void execute() const {
        dnnl::stream stream(cpu());
        std::unordered_map<int, memory> args;
        std::vector<std::pair<memory, memory>> reorders_out;
        for (const Binding& b : bindings_) {
            if (!b.data) throw std::logic_error("onednn: a call sized without data cannot run");
            memory user(b.user, cpu(), b.data);
            const memory::desc want = chosen(b);
            if (want == b.user) {
                args.emplace(b.arg, user);
                continue;
            }
            memory inner(want, cpu());
            if (b.is_input)
                reorder(stream, user, inner);
            else
                reorders_out.emplace_back(inner, user);
            args.emplace(b.arg, inner);
        }
        if (pd_.scratchpad_desc().get_size() > 0)
            args.emplace(DNNL_ARG_SCRATCHPAD, memory(pd_.scratchpad_desc(), cpu()));
        const std::string impl = pd_.impl_info_str();
        if (std::find(executed.begin(), executed.end(), impl) == executed.end()) executed.push_back(impl);
        dnnl::primitive(pd_).execute(stream, args);
        for (auto& [from, to] : reorders_out) reorder(stream, from, to);
        stream.wait();
    }

private:
    static void reorder(const dnnl::stream& stream, memory& from, memory& to) {
        dnnl::reorder(from, to).execute(stream, from, to);
    }

    struct Binding {
        int arg;
        memory::desc user;
        void* data;
        bool is_input;
    };
    memory::desc chosen(const Binding& b) const {
        return pd_.query_md(dnnl::query::exec_arg_md, b.arg);
    }

    dnnl::primitive_desc pd_;
    std::vector<Binding> bindings_;
};

// ---- Convolution ---------------------------------------------------------------------

// forward_training: the prop kind the backward passes take as their hint, and for f32 the
// same kernels as inference.
dnnl::convolution_forward::primitive_desc conv_forward_pd(const ConvProblem& p, bool bias) {
    const Window g = window(p);
    const dnnl::convolution_forward::desc d(
        dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
        onednn_choice(p.x_dims()), weights_choice(p),
        bias ? bias_desc(p.oc) : memory::desc(), onednn_choice(p.y_dims()), g.strides,
        g.dilation, g.padding_l, g.padding_r);
    return {d, attributes(), cpu()};
}

Primitive conv_forward_call(const ConvProblem& p, bool bias, const void* x, const void* w,
                       const void* b, void* y) {
    Primitive c(conv_forward_pd(p, bias));
    c.input(DNNL_ARG_SRC, plain(p.x_dims(), p.layout), x)
        .input(DNNL_ARG_WEIGHTS, plain_weights(p), w);
    if (bias) c.input(DNNL_ARG_BIAS, bias_desc(p.oc), b);
    c.output(DNNL_ARG_DST, plain(p.y_dims(), p.layout), y);
    return c;
}

Primitive conv_backward_data_call(const ConvProblem& p, const void* w, const void* dy, void* dx) {
    const Window g = window(p);
    const dnnl::convolution_backward_data::desc d(
        dnnl::algorithm::convolution_direct, onednn_choice(p.x_dims()), weights_choice(p),
        onednn_choice(p.y_dims()), g.strides, g.dilation, g.padding_l, g.padding_r);
    Primitive c(dnnl::convolution_backward_data::primitive_desc(d, attributes(), cpu(),
                                                           conv_forward_pd(p, false)));
    c.input(DNNL_ARG_WEIGHTS, plain_weights(p), w)
        .input(DNNL_ARG_DIFF_DST, plain(p.y_dims(), p.layout), dy)
        .output(DNNL_ARG_DIFF_SRC, plain(p.x_dims(), p.layout), dx);
    return c;
}

Primitive conv_backward_weights_call(const ConvProblem& p, bool bias, const void* x, const void* dy,
                                void* dw, void* db) {
    const Window g = window(p);
    const dnnl::convolution_backward_weights::desc d(
        dnnl::algorithm::convolution_direct, onednn_choice(p.x_dims()), weights_choice(p),
        bias ? bias_desc(p.oc) : memory::desc(), onednn_choice(p.y_dims()), g.strides,
        g.dilation, g.padding_l, g.padding_r);
    Primitive c(dnnl::convolution_backward_weights::primitive_desc(d, attributes(), cpu(),
                                                              conv_forward_pd(p, bias)));
    c.input(DNNL_ARG_SRC, plain(p.x_dims(), p.layout), x)
        .input(DNNL_ARG_DIFF_DST, plain(p.y_dims(), p.layout), dy)
        .output(DNNL_ARG_DIFF_WEIGHTS, plain_weights(p), dw);
    if (bias) c.output(DNNL_ARG_DIFF_BIAS, bias_desc(p.oc), db);
    return c;
}

// ---- Max-pooling ---------------------------------------------------------------------

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The layout max-pooling runs in. oneDNN 2.6 pooling cannot choose its source layout
// (format_tag::any is for outputs only), and on plain NCHW it runs a simple C++ loop
// (simple_nchw), not its optimised kernels. So NCHW x is reordered into the layout
// oneDNN's own convolutions choose for such a tensor, the one pooling meets inside a oneDNN
// network (nChw8c on AVX2); NHWC stays NHWC, which its JIT kernels take as it is.
memory::desc pooling_source(const PoolProblem& p) {
    if (p.layout == Layout::nhwc) return plain(p.x_dims(), p.layout);
    const Dims4 x = p.x_dims();
    const dnnl::convolution_forward::desc producer(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
        onednn_choice(x), onednn_choice({x[1], x[1], 1, 1}), onednn_choice(x), {1, 1}, {0, 0},
        {0, 0});
    return dnnl::convolution_forward::primitive_desc(producer, cpu()).dst_desc();
}

// oneDNN's name for a pooling algorithm.
dnnl::algorithm pooling_algorithm(PoolAlg a) {
    switch (a) {
        case PoolAlg::max: return dnnl::algorithm::pooling_max;
        case PoolAlg::avg_p: return dnnl::algorithm::pooling_avg_include_padding;
        case PoolAlg::avg_np: return dnnl::algorithm::pooling_avg_exclude_padding;
    }
    throw std::logic_error("no oneDNN algorithm for pooling " + std::string(to_string(a)));
}

// Pooling as oneDNN trains with it: for max, forward_training records in a workspace which
// element each window chose, and the backward pass routes dy through that workspace; average
// pooling has no workspace (its size is 0) and its backward needs no forward.
// y and the gradients follow x's layout.
class Pooling {
public:
    explicit Pooling(const PoolProblem& p)
        : p_(p),
          forward_pd_(forward_pd(p)),
          backward_pd_(backward_pd(p, forward_pd_)),
          workspace_(forward_pd_.workspace_desc().get_size()) {}

    Primitive forward(const void* x, void* y) {
        Primitive c(forward_pd_);
        c.input(DNNL_ARG_SRC, plain(p_.x_dims(), p_.layout), x)
            .output(DNNL_ARG_DST, plain(p_.y_dims(), p_.layout), y);
        if (!is_average(p_.alg)) c.output(DNNL_ARG_WORKSPACE, forward_pd_.workspace_desc(), workspace_.data());
        return c;
    }

    // Max pooling: uses the workspace of the last forward() executed.
    Primitive backward(const void* dy, void* dx) {
        Primitive c(backward_pd_);
        c.input(DNNL_ARG_DIFF_DST, plain(p_.y_dims(), p_.layout), dy);
        if (!is_average(p_.alg)) c.input(DNNL_ARG_WORKSPACE, forward_pd_.workspace_desc(), workspace_.data());
        c.output(DNNL_ARG_DIFF_SRC, plain(p_.x_dims(), p_.layout), dx);
        return c;
    }

    // argmax[n,c,oh,ow] = the window-local index i*kw + j of the element the last forward()
    // chose. oneDNN does not document its workspace format, so the choice is read back
    // through what it does document: backward routes each dy to the element forward chose.
    // Windows whose positions lie at least ceil(extent/stride) apart share no element of x,
    // so with dy one-hot on such a set of windows, each 1 in dx is one window's choice; one
    // backward pass per residue class (oh mod step_h, ow mod step_w) reads every window.
    // A window whose choice cannot be read (no 1 in it, or more than one) keeps -1, which
    // the comparison reports.
    void read_choices(Tensor<int64_t>& argmax) {
        const AxisOrder order = axis_order(p_.layout);
        Tensor<float> dy(order, p_.y_dims()), dx(order, p_.x_dims());
        const Steps s = steps();
        for (int64_t rh = 0; rh < s.h; ++rh)
            for (int64_t rw = 0; rw < s.w; ++rw) {
                dy.fill(0.0f);
                for_each_window(s, rh, rw, [&](int64_t n, int64_t c, int64_t oh, int64_t ow) {
                    dy.at(n, c, oh, ow) = 1.0f;
                });
                backward(dy.data(), dx.data()).execute();
                for_each_window(s, rh, rw, [&](int64_t n, int64_t c, int64_t oh, int64_t ow) {
                    argmax.at(n, c, oh, ow) = tap_holding_one(dx, n, c, oh, ow);
                });
            }
    }

    std::string implementation() const {
        return std::string("forward ") + forward_pd_.impl_info_str() + ", backward " +
               backward_pd_.impl_info_str();
    }

    // What the variant's forward (with argmax read back) or backward allocates besides the
    // caller's tensors: the workspace, reorder buffers and scratchpads of both passes, and
    // the one-hot dy and its dx (forward) or the y nobody asked for (backward). Average
    // pooling: the pass's own buffers alone.
    int64_t scratch_bytes(Pass pass) {
        if (is_average(p_.alg))
            return pass == Pass::forward ? forward(nullptr, nullptr).scratch_bytes() : backward(nullptr, nullptr).scratch_bytes();
        const int64_t x_bytes = 4 * checked_count("x", {p_.mb, p_.ic, p_.ih, p_.iw});
        const int64_t y_bytes = 4 * checked_count("y", {p_.mb, p_.ic, p_.oh(), p_.ow()});
        const int64_t passes = int64_t(workspace_.size()) +
                               forward(nullptr, nullptr).scratch_bytes() +
                               backward(nullptr, nullptr).scratch_bytes();
        return passes + (pass == Pass::forward ? x_bytes + y_bytes : y_bytes);
    }

private:
    static dnnl::pooling_v2_forward::primitive_desc forward_pd(const PoolProblem& p) {
        const Window g = pooling_window(p);
        const dnnl::pooling_v2_forward::desc d(
            dnnl::prop_kind::forward_training, pooling_algorithm(p.alg),
            pooling_source(p), onednn_choice(p.y_dims()), g.strides, g.kernel,
            g.dilation, g.padding_l, g.padding_r);
        return {d, attributes(), cpu()};
    }
    static dnnl::pooling_v2_backward::primitive_desc backward_pd(
        const PoolProblem& p, const dnnl::pooling_v2_forward::primitive_desc& hint) {
        const Window g = pooling_window(p);
        const dnnl::pooling_v2_backward::desc d(
            pooling_algorithm(p.alg), onednn_choice(p.x_dims()), onednn_choice(p.y_dims()),
            g.strides, g.kernel, g.dilation, g.padding_l, g.padding_r);
        return {d, attributes(), cpu(), hint};
    }

    struct Steps {
        int64_t h, w;
    };
    Steps steps() const {
        return {std::min(ceil_div(p_.kh_extent(), p_.sh), p_.oh()),
                std::min(ceil_div(p_.kw_extent(), p_.sw), p_.ow())};
    }
    template <class F>
    void for_each_window(Steps s, int64_t rh, int64_t rw, F&& f) const {
        const int64_t OH = p_.oh(), OW = p_.ow();
        for (int64_t n = 0; n < p_.mb; ++n)
            for (int64_t c = 0; c < p_.ic; ++c)
                for (int64_t oh = rh; oh < OH; oh += s.h)
                    for (int64_t ow = rw; ow < OW; ow += s.w) f(n, c, oh, ow);
    }
    int64_t tap_holding_one(const Tensor<float>& dx, int64_t n, int64_t c, int64_t oh,
                            int64_t ow) const {
        int64_t chosen = -1;
        for (int64_t i = 0; i < p_.kh; ++i) {
            const int64_t ih = oh * p_.sh - p_.pt + i * p_.dh;
            if (ih < 0 || ih >= p_.ih) continue;
            for (int64_t j = 0; j < p_.kw; ++j) {
                const int64_t iw = ow * p_.sw - p_.pl + j * p_.dw;
                if (iw < 0 || iw >= p_.iw) continue;
                const float v = dx.at(n, c, ih, iw);
                if (v == 0.0f) continue;
                if (v != 1.0f || chosen >= 0) return -1;
                chosen = i * p_.kw + j;
            }
        }
        return chosen;
    }

    PoolProblem p_;
    dnnl::pooling_v2_forward::primitive_desc forward_pd_;
    dnnl::pooling_v2_backward::primitive_desc backward_pd_;
    std::vector<std::byte> workspace_;
};

// ---- The variant ---------------------------------------------------------------------

template <class T>
void require_f32() {
    if constexpr (!std::is_same_v<T, float>)
        throw std::logic_error(
            std::string("onednn called at f64, which it declares unsupported: ") + kNoF64);
}

class OneDnnVariant final : public VariantOf<OneDnnVariant> {
public:
    std::string name() const override { return "onednn"; }
    std::string description() const override {
        return "oneDNN " + version() +
               " (libdnnl): conv and pooling primitives in the layouts oneDNN picks, reordered "
               "in and out";
    }

    std::optional<std::string> unsupported(const Call& c) const override {
        if (c.dtype() != DType::f32) return std::string(kNoF64);
        if (c.op() == Op::im2col || c.op() == Op::col2im) return std::string(kNoIm2col);
        if (c.nan_data()) return std::string(kNoNaN);
        if (c.direction().geometry == Geometry::pool) return pooling_unsupported(c.pool_problem());
        return std::nullopt;
    }

    void run(const Call& c) const override {
        executed.clear();
        VariantOf<OneDnnVariant>::run(c);
    }
    std::vector<std::string> implementations_ran() const override { return executed; }

    // Both size the same calls the entry points run.
    int64_t workspace_bytes(const Call& c) const override {
        if (unsupported(c)) return 0;
        return explained(c.problem(), [&] {
            if (c.direction().geometry == Geometry::pool) return Pooling(c.pool_problem()).scratch_bytes(c.pass());
            return conv_call(c).scratch_bytes();
        });
    }
    std::string implementation_info(const Call& c) const override {
        if (unsupported(c)) return {};
        return explained(c.problem(), [&] {
            if (c.direction().geometry == Geometry::pool) return Pooling(c.pool_problem()).implementation();
            return conv_call(c).implementation();
        });
    }

    template <class T>
    void conv_forward_t(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& w,
                        const Tensor<T>* b, Tensor<T>& y) const {
        require_f32<T>();
        explained(p, [&] {
            conv_forward_call(p, b != nullptr, x.data(), w.data(), b ? b->data() : nullptr,
                              y.data())
                .execute();
        });
    }
    template <class T>
    void conv_backward_data_t(const ConvProblem& p, const Tensor<T>& w, const Tensor<T>& dy,
                              Tensor<T>& dx) const {
        require_f32<T>();
        explained(p, [&] { conv_backward_data_call(p, w.data(), dy.data(), dx.data()).execute(); });
    }
    template <class T>
    void conv_backward_weights_t(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& dy,
                                 Tensor<T>& dw, Tensor<T>* db) const {
        require_f32<T>();
        explained(p, [&] {
            conv_backward_weights_call(p, db != nullptr, x.data(), dy.data(), dw.data(),
                                       db ? db->data() : nullptr)
                .execute();
        });
    }
    template <class T>
    void pool_forward_t(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y,
                        Tensor<int64_t>& argmax) const {
        require_f32<T>();
        explained(p, [&] {
            Pooling pool(p);
            pool.forward(x.data(), y.data()).execute();
            pool.read_choices(argmax);
        });
    }
    template <class T>
    void pool_backward_t(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy,
                         Tensor<T>& dx) const {
        require_f32<T>();
        explained(p, [&] {
            Pooling pool(p);
            Tensor<float> y(axis_order(p.layout), p.y_dims());
            pool.forward(x.data(), y.data()).execute();
            pool.backward(dy.data(), dx.data()).execute();
        });
    }
    template <class T>
    void avg_forward_t(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y) const {
        require_f32<T>();
        explained(p, [&] { Pooling(p).forward(x.data(), y.data()).execute(); });
    }
    template <class T>
    void avg_backward_t(const PoolProblem& p, const Tensor<T>& dy, Tensor<T>& dx) const {
        require_f32<T>();
        explained(p, [&] { Pooling(p).backward(dy.data(), dx.data()).execute(); });
    }
    template <class T>
    void im2col_t(const WindowProblem&, const Tensor<T>&, Tensor<T>&) const {
        throw std::logic_error(std::string("onednn called for im2col: ") + kNoIm2col);
    }
    template <class T>
    void col2im_t(const WindowProblem&, const Tensor<T>&, Tensor<T>&) const {
        throw std::logic_error(std::string("onednn called for col2im: ") + kNoIm2col);
    }

private:
    static std::string version() {
        const dnnl_version_t* v = dnnl_version();
        return std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
               std::to_string(v->patch);
    }
    // The call's primitive, sized without data (FWD_B and BWD_WB with their bias).
    static Primitive conv_call(const Call& c) {
        const ConvProblem& p = c.problem();
        const bool bias = c.direction().bias;
        switch (c.pass()) {
            case Pass::forward: return conv_forward_call(p, bias, nullptr, nullptr, nullptr, nullptr);
            case Pass::backward_data: return conv_backward_data_call(p, nullptr, nullptr, nullptr);
            default: return conv_backward_weights_call(p, bias, nullptr, nullptr, nullptr, nullptr);
        }
    }
};

}  // namespace

std::unique_ptr<Variant> make_variant() { return std::make_unique<OneDnnVariant>(); }

}  // namespace convconf::onednn
