// XNNPACK through the plugin ABI: libconvconf_xnnpack_plugin.so, variant `xnnpack`.
//
// A real library tested by convconf the way a kernel author's would be: this file knows
// convconf only through impl/plugin/convconf_plugin.h, and calls XNNPACK's operator API
// (Debian's libxnnpack-dev, a February 2022 snapshot) for every call that API can express:
//   conv2d forward          xnn_create_convolution2d_nhwc_f32 (padding per side, stride,
//                           dilation, bias or none)
//   conv2d backward_data    xnn_create_deconvolution2d_nhwc_f32: dx is the transposed
//                           convolution of dy, cropped by the padding, with XNNPACK's output
//                           "adjustment" for the rows and columns a stride leaves over
//   maxpool2d forward       xnn_create_argmax_pooling2d_nhwc_f32, which gives y and argmax,
//                           where it applies: stride = window, no dilation; elsewhere
//                           xnn_create_max_pooling2d_nhwc_f32 (any stride and dilation),
//                           which gives y alone, and argmax is left out (the ABI's optional
//                           output: the check compares y and says argmax was not checked)
// Declined with the reason: f64 (XNNPACK's operators are f32, f16 and quantised), conv2d
// backward_weights and maxpool2d backward (XNNPACK is an inference library: no gradients).
//
// XNNPACK runs NHWC activations and OHWI weights. Tensors already NHWC and dense are passed
// as they are; any other layout is copied into a dense NHWC buffer through the call's
// strides and the output copied back, so NCHW is converted, never declined. XNNPACK numbers
// a window's elements column by column (j*kh + i); the contract numbers them row by row
// (i*kw + j), so each index is renumbered. Which element XNNPACK chooses is left as it
// chose it: a different choice is a divergence convconf reports.
//
// Each run() creates the operator (XNNPACK packs the weights then), sets it up, runs it
// and deletes it: bench's times include the packing, which an inference engine does once.
#include <pthreadpool.h>
#include <xnnpack.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "impl/plugin/convconf_plugin.h"

namespace {

// ---- Tensors through the call's strides --------------------------------------------------

// Elements of slack after every array XNNPACK reads (XNN_EXTRA_BYTES, xnnpack.h).
constexpr size_t kExtra = (XNN_EXTRA_BYTES + sizeof(float) - 1) / sizeof(float);

float* element(const convconf_tensor* t, int64_t a, int64_t b, int64_t c, int64_t d) {
    return static_cast<float*>(t->data) + a * t->strides[0] + b * t->strides[1] + c * t->strides[2] +
           d * t->strides[3];
}

// A dense (n, h, w, c) view of a 4-D activation tensor, or of weights as (o, h, w, i): the
// tensor's own memory when it is stored so, else a copy (and written back by store()).
//
// XNNPACK may read XNN_EXTRA_BYTES past the end of an input (xnnpack.h), so an input is
// always a copy with that much after it; a dense NHWC output is written in place. A guarded
// input, followed by `guard` elements of +infinity: a read past
// its end then shows in a max as +inf, where the harness's own guard (a NaN, which XNNPACK's
// max passes over) or whatever memory follows would hide it or make it random.
class Nhwc {
public:
    Nhwc(const convconf_tensor* t, bool read, int64_t guard = 0) : t_(t) {
        const int64_t n = t->shape[0], c = t->shape[1], h = t->shape[2], w = t->shape[3];
        dense_ = !read && t->strides[1] == 1 && t->strides[3] == c && t->strides[2] == w * c &&
                 t->strides[0] == h * w * c;
        if (dense_) return;
        copy_.assign(size_t(n * h * w * c + std::max(guard, int64_t(kExtra))), std::numeric_limits<float>::infinity());
        if (!read) return;
        for (int64_t a = 0; a < n; ++a)
            for (int64_t y = 0; y < h; ++y)
                for (int64_t x = 0; x < w; ++x)
                    for (int64_t k = 0; k < c; ++k) copy_[size_t(((a * h + y) * w + x) * c + k)] = *element(t, a, k, y, x);
    }
    float* data() { return dense_ ? static_cast<float*>(t_->data) : copy_.data(); }
    // The copy, back into the call's tensor.
    void store() {
        if (dense_) return;
        const int64_t n = t_->shape[0], c = t_->shape[1], h = t_->shape[2], w = t_->shape[3];
        for (int64_t a = 0; a < n; ++a)
            for (int64_t y = 0; y < h; ++y)
                for (int64_t x = 0; x < w; ++x)
                    for (int64_t k = 0; k < c; ++k) *element(t_, a, k, y, x) = copy_[size_t(((a * h + y) * w + x) * c + k)];
    }

private:
    const convconf_tensor* t_;
    bool dense_ = false;
    std::vector<float> copy_;
};

// The deconvolution's kernel, [groups][ic/groups][kh][kw][oc/groups]: dx[c] gathers dy[k]
// through w[k][c][i][j], within each group (w's i extent is already ic/groups).
std::vector<float> transposed_weights(const convconf_tensor* w, int64_t groups) {
    const int64_t oc = w->shape[0], icg = w->shape[1], kh = w->shape[2], kw = w->shape[3], ocg = oc / groups;
    std::vector<float> out(size_t(oc * icg * kh * kw) + kExtra);
    for (int64_t q = 0; q < groups; ++q)
        for (int64_t c = 0; c < icg; ++c)
            for (int64_t i = 0; i < kh; ++i)
                for (int64_t j = 0; j < kw; ++j)
                    for (int64_t k = 0; k < ocg; ++k)
                        out[size_t((((q * icg + c) * kh + i) * kw + j) * ocg + k)] = *element(w, q * ocg + k, c, i, j);
    return out;
}

std::vector<float> dense_vector(const convconf_tensor* b) {
    std::vector<float> out(size_t(b->shape[0]) + kExtra);
    for (int64_t k = 0; k < b->shape[0]; ++k) out[size_t(k)] = static_cast<const float*>(b->data)[k * b->strides[0]];
    return out;
}

// ---- XNNPACK ---------------------------------------------------------------------------

bool initialized() {
    static const bool ok = xnn_initialize(nullptr) == xnn_status_success;
    return ok;
}

// XNNPACK runs on the calling thread without a pool; with more threads allowed, on a pool
// of that many, one per calling thread (convconf may call from several at once).
pthreadpool_t pool(int32_t threads) {
    struct Pool {
        int32_t threads = 0;
        pthreadpool_t p = nullptr;
        ~Pool() {
            if (p) pthreadpool_destroy(p);
        }
    };
    thread_local Pool cached;
    if (threads <= 1) return nullptr;
    if (cached.threads != threads) {
        if (cached.p) pthreadpool_destroy(cached.p);
        cached.p = pthreadpool_create(size_t(threads));
        cached.threads = threads;
    }
    return cached.p;
}

const char* status_text(xnn_status s) {
    switch (s) {
        case xnn_status_success: return "success";
        case xnn_status_uninitialized: return "uninitialized";
        case xnn_status_invalid_parameter: return "invalid parameter";
        case xnn_status_invalid_state: return "invalid state";
        case xnn_status_unsupported_parameter: return "unsupported parameter";
        case xnn_status_unsupported_hardware: return "unsupported hardware";
        case xnn_status_out_of_memory: return "out of memory";
    }
    return "unknown status";
}

// An XNNPACK call that failed, with its step.
struct Failure {
    std::string text;
};
void require(xnn_status s, const char* step) {
    if (s != xnn_status_success) throw Failure{std::string(step) + " returned " + status_text(s)};
}

struct Operator {
    xnn_operator_t op = nullptr;
    ~Operator() {
        if (op) xnn_delete_operator(op);
    }
};

constexpr float kInf = std::numeric_limits<float>::infinity();

void conv_forward(const convconf_call* c) {
    const convconf_problem& p = *c->problem;
    const convconf_tensor* b = convconf_find_tensor(c, CONVCONF_ROLE_B);
    Nhwc x(convconf_find_tensor(c, CONVCONF_ROLE_X), true), w(convconf_find_tensor(c, CONVCONF_ROLE_W), true);
    Nhwc y(convconf_find_tensor(c, CONVCONF_ROLE_Y), false);
    const std::vector<float> bias = b ? dense_vector(b) : std::vector<float>();
    Operator op;
    require(xnn_create_convolution2d_nhwc_f32(uint32_t(p.pt), uint32_t(p.pr), uint32_t(p.pb), uint32_t(p.pl),
                                              uint32_t(p.kh), uint32_t(p.kw), uint32_t(p.sh), uint32_t(p.sw),
                                              uint32_t(p.dh), uint32_t(p.dw), uint32_t(p.groups),
                                              size_t(p.ic / p.groups), size_t(p.oc / p.groups), size_t(p.ic),
                                              size_t(p.oc), w.data(), b ? bias.data() : nullptr,
                                              -kInf, kInf, 0, &op.op),
            "xnn_create_convolution2d_nhwc_f32");
    require(xnn_setup_convolution2d_nhwc_f32(op.op, size_t(p.mb), size_t(p.ih), size_t(p.iw), x.data(), y.data(),
                                             pool(c->threads)),
            "xnn_setup_convolution2d_nhwc_f32");
    require(xnn_run_operator(op.op, pool(c->threads)), "xnn_run_operator");
    y.store();
}

// The rows (columns) XNNPACK's deconvolution adds past the last full stride so that its
// output is ih (iw): ih - (sh*(oh-1) + dh*(kh-1) + 1 - pt - pb), in [0, sh).
int64_t adjustment(int64_t in, int64_t out, int64_t k, int64_t s, int64_t d, int64_t pad) {
    return in - (s * (out - 1) + d * (k - 1) + 1 - pad);
}

void conv_backward_data(const convconf_call* c) {
    const convconf_problem& p = *c->problem;
    const std::vector<float> kernel = transposed_weights(convconf_find_tensor(c, CONVCONF_ROLE_W), p.groups);
    Nhwc dy(convconf_find_tensor(c, CONVCONF_ROLE_DY), true), dx(convconf_find_tensor(c, CONVCONF_ROLE_DX), false);
    const int64_t ah = adjustment(p.ih, p.oh, p.kh, p.sh, p.dh, p.pt + p.pb);
    const int64_t aw = adjustment(p.iw, p.ow, p.kw, p.sw, p.dw, p.pl + p.pr);
    Operator op;
    require(xnn_create_deconvolution2d_nhwc_f32(uint32_t(p.pt), uint32_t(p.pr), uint32_t(p.pb), uint32_t(p.pl),
                                                uint32_t(p.kh), uint32_t(p.kw), uint32_t(p.sh), uint32_t(p.sw),
                                                uint32_t(p.dh), uint32_t(p.dw), uint32_t(p.groups),
                                                size_t(p.oc / p.groups), size_t(p.ic / p.groups), size_t(p.oc),
                                                size_t(p.ic), kernel.data(), nullptr, -kInf, kInf, 0,
                                                &op.op),
            "xnn_create_deconvolution2d_nhwc_f32");
    require(xnn_setup_deconvolution2d_nhwc_f32(op.op, size_t(p.mb), size_t(p.oh), size_t(p.ow), uint32_t(ah),
                                               uint32_t(aw), dy.data(), dx.data(), pool(c->threads)),
            "xnn_setup_deconvolution2d_nhwc_f32");
    require(xnn_run_operator(op.op, pool(c->threads)), "xnn_run_operator");
    dx.store();
}

// Argmax pooling applies: stride = window, no dilation.
bool argmax_pooling_applies(const convconf_problem& p) { return p.sh == p.kh && p.sw == p.kw && p.dh == 1 && p.dw == 1; }

// Any stride and dilation: XNNPACK's max pooling, which gives y alone; argmax is left out.
// x is guarded (Nhwc): this snapshot reads past the end of x for a dilated window with
// padding below (docs/xnnpack.md).
void max_pool_forward(const convconf_call* c) {
    const convconf_problem& p = *c->problem;
    const int64_t guard = (p.dh * (p.kh - 1) + p.pb) * p.iw * p.ic + (p.dw * (p.kw - 1) + p.pr) * p.ic;
    Nhwc x(convconf_find_tensor(c, CONVCONF_ROLE_X), true, guard), y(convconf_find_tensor(c, CONVCONF_ROLE_Y), false);
    Operator op;
    require(xnn_create_max_pooling2d_nhwc_f32(uint32_t(p.pt), uint32_t(p.pr), uint32_t(p.pb), uint32_t(p.pl),
                                              uint32_t(p.kh), uint32_t(p.kw), uint32_t(p.sh), uint32_t(p.sw),
                                              uint32_t(p.dh), uint32_t(p.dw), size_t(p.ic), size_t(p.ic),
                                              size_t(p.ic), -kInf, kInf, 0, &op.op),
            "xnn_create_max_pooling2d_nhwc_f32");
    require(xnn_setup_max_pooling2d_nhwc_f32(op.op, size_t(p.mb), size_t(p.ih), size_t(p.iw), x.data(), y.data(),
                                             pool(c->threads)),
            "xnn_setup_max_pooling2d_nhwc_f32");
    require(xnn_run_operator(op.op, pool(c->threads)), "xnn_run_operator");
    y.store();
    *c->left_out |= 1u << CONVCONF_ROLE_ARGMAX;
}

void pool_forward(const convconf_call* c) {
    if (!argmax_pooling_applies(*c->problem)) return max_pool_forward(c);
    const convconf_problem& p = *c->problem;
    Nhwc x(convconf_find_tensor(c, CONVCONF_ROLE_X), true), y(convconf_find_tensor(c, CONVCONF_ROLE_Y), false);
    const convconf_tensor* argmax = convconf_find_tensor(c, CONVCONF_ROLE_ARGMAX);
    std::vector<uint32_t> index(size_t(p.mb * p.oh * p.ow * p.ic));
    Operator op;
    require(xnn_create_argmax_pooling2d_nhwc_f32(uint32_t(p.pt), uint32_t(p.pr), uint32_t(p.pb), uint32_t(p.pl),
                                                 uint32_t(p.kh), uint32_t(p.kw), size_t(p.ic), size_t(p.ic),
                                                 size_t(p.ic), 0, &op.op),
            "xnn_create_argmax_pooling2d_nhwc_f32");
    require(xnn_setup_argmax_pooling2d_nhwc_f32(op.op, size_t(p.mb), size_t(p.ih), size_t(p.iw), x.data(), y.data(),
                                                index.data(), pool(c->threads)),
            "xnn_setup_argmax_pooling2d_nhwc_f32");
    require(xnn_run_operator(op.op, pool(c->threads)), "xnn_run_operator");
    y.store();
    // XNNPACK's index j*kh + i over the whole window, renumbered i*kw + j. With padding it
    // can name a tap in the padding: XNNPACK clamps a padded tap's coordinates into x and so
    // reads the edge element again, and reports that tap when it comes first. That is left
    // as XNNPACK reports it (a divergence: the contract's choice is always inside x).
    for (int64_t n = 0; n < p.mb; ++n)
        for (int64_t oh = 0; oh < p.oh; ++oh)
            for (int64_t ow = 0; ow < p.ow; ++ow)
                for (int64_t k = 0; k < p.ic; ++k) {
                    const int64_t v = index[size_t(((n * p.oh + oh) * p.ow + ow) * p.ic + k)];
                    auto* out = static_cast<int64_t*>(argmax->data) + n * argmax->strides[0] +
                                k * argmax->strides[1] + oh * argmax->strides[2] + ow * argmax->strides[3];
                    *out = (v % p.kh) * p.kw + v / p.kh;
                }
}

// ---- The functions of the table ----------------------------------------------------------

bool fits_uint32(const convconf_problem& p) {
    for (int64_t v : {p.pt, p.pl, p.pb, p.pr, p.kh, p.kw, p.sh, p.sw, p.dh, p.dw, p.oh, p.ow})
        if (v > int64_t(UINT32_MAX)) return false;
    return true;
}

const char* supports(const convconf_call* c) {
    if (c->struct_size < sizeof(convconf_call) || c->problem->struct_size < sizeof(convconf_problem))
        return "a call struct smaller than ABI version 1's";
    if (!initialized()) return "xnn_initialize failed (XNNPACK needs SSE2 at least)";
    if (c->dtype != CONVCONF_DTYPE_F32) return "XNNPACK's operators are f32, f16 and quantised: no f64";
    const convconf_problem& p = *c->problem;
    if (p.groups < 1 || p.groups > int64_t(UINT32_MAX)) return "groups outside XNNPACK's uint32_t range";
    if (!fits_uint32(p)) return "a problem field above 2^32, which XNNPACK's uint32_t parameters cannot hold";
    if (c->op == CONVCONF_OP_CONV2D) {
        if (c->pass == CONVCONF_PASS_FORWARD) return nullptr;
        if (c->pass == CONVCONF_PASS_BACKWARD_DATA) return nullptr;
        if (c->pass == CONVCONF_PASS_BACKWARD_WEIGHTS)
            return "XNNPACK is an inference library: it has no operator for the weights' gradient";
        return "a conv2d pass this plugin does not know";
    }
    if (c->op == CONVCONF_OP_MAXPOOL2D) {
        if (p.pool_alg != CONVCONF_POOL_MAX) return "a pooling algorithm this plugin does not know";
        if (p.ceil_mode) return "ceil mode: this plugin builds XNNPACK's pooling with floor mode's output size";
        if (c->pass == CONVCONF_PASS_BACKWARD)
            return "XNNPACK is an inference library: it has no operator for the pooling gradient";
        if (c->pass != CONVCONF_PASS_FORWARD) return "a maxpool2d pass this plugin does not know";
        if (p.kh * p.kw == 1) return "XNNPACK's pooling refuses a 1x1 window (invalid parameter)";
        if (argmax_pooling_applies(p)) return nullptr;
        // Max pooling gives y alone: the call must let argmax be left out.
        const convconf_tensor* argmax = convconf_find_tensor(c, CONVCONF_ROLE_ARGMAX);
        if (!argmax || !argmax->optional)
            return "XNNPACK's argmax pooling has stride = window and no dilation; its max pooling "
                   "takes any, but gives no argmax, and this call needs one";
        return nullptr;
    }
    return "an op this plugin does not know";
}

int32_t run(const convconf_call* c, char* message, size_t message_size) {
    try {
        if (const char* no = supports(c)) throw Failure{std::string("declined: ") + no};
        if (c->op == CONVCONF_OP_CONV2D && c->pass == CONVCONF_PASS_FORWARD) conv_forward(c);
        else if (c->op == CONVCONF_OP_CONV2D) conv_backward_data(c);
        else pool_forward(c);
        return CONVCONF_OK;
    } catch (const Failure& f) {
        std::snprintf(message, message_size, "%s", f.text.c_str());
    } catch (const std::exception& e) {
        std::snprintf(message, message_size, "%s", e.what());
    }
    return CONVCONF_ERROR;
}

const convconf_variant variants[] = {{
    sizeof(convconf_variant),
    "xnnpack",
    "XNNPACK (libxnnpack0, Debian's 2022-02-16 snapshot): convolution, deconvolution and argmax pooling, NHWC f32",
    (1u << CONVCONF_OP_CONV2D) | (1u << CONVCONF_OP_MAXPOOL2D),
    supports,
    run,
    nullptr,  // XNNPACK allocates its packed weights and indirection buffers itself: not told
}};
// problem_size: every field of this header's convconf_problem, ceil_mode and groups included
// (supports() declines ceil mode: XNNPACK's pooling output size is floor mode's; groups go to
// XNNPACK's own groups parameter).
const convconf_plugin table = {sizeof(convconf_plugin), CONVCONF_PLUGIN_ABI_VERSION, 1, variants,
                               sizeof(convconf_problem)};

}  // namespace

extern "C" __attribute__((visibility("default"))) const convconf_plugin* convconf_plugin_entry(void) { return &table; }
