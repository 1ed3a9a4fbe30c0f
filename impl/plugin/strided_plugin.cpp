// The strided family built a second time, as a plugin: libconvconf_strided_plugin.so, whose
// one variant `strided-plugin` is the in-tree `strided` reached only through the C ABI.
//
// It proves the ABI complete: this file reads each call from convconf_plugin.h's structs
// alone (codes, problem, tensors by role with their strides), never from the harness's
// loader, so a run through it that passes the checks the in-tree variant passes, counted
// the same, shows the header carries everything a kernel needs. The harness's tensors are
// copied into the family's own tensors and the outputs copied back through their strides,
// as an adapter to a kernel with its own tensor type would.
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "impl/core/call.hpp"
#include "impl/core/threads.hpp"
#include "impl/core/variant.hpp"
#include "impl/plugin/convconf_plugin.h"
#include "impl/strided/strided.hpp"

namespace {

using namespace convconf;

const Variant& strided() {
    static const std::unique_ptr<Variant> v = strided::make_variant();
    return *v;
}

// ---- Reading a call: every code the header defines; anything else declines --------------

std::optional<Op> op_of(int32_t code) {
    switch (code) {
        case CONVCONF_OP_CONV2D: return Op::conv2d;
        case CONVCONF_OP_MAXPOOL2D: return Op::maxpool2d;
        case CONVCONF_OP_IM2COL: return Op::im2col;
        case CONVCONF_OP_COL2IM: return Op::col2im;
        case CONVCONF_OP_AVGPOOL2D: return Op::avgpool2d;
    }
    return std::nullopt;
}
std::optional<Pass> pass_of(int32_t code) {
    switch (code) {
        case CONVCONF_PASS_FORWARD: return Pass::forward;
        case CONVCONF_PASS_BACKWARD_DATA: return Pass::backward_data;
        case CONVCONF_PASS_BACKWARD_WEIGHTS: return Pass::backward_weights;
        case CONVCONF_PASS_BACKWARD: return Pass::backward;
    }
    return std::nullopt;
}
std::optional<Role> role_of(int32_t code) {
    switch (code) {
        case CONVCONF_ROLE_X: return Role::x;
        case CONVCONF_ROLE_W: return Role::w;
        case CONVCONF_ROLE_B: return Role::b;
        case CONVCONF_ROLE_Y: return Role::y;
        case CONVCONF_ROLE_DY: return Role::dy;
        case CONVCONF_ROLE_DX: return Role::dx;
        case CONVCONF_ROLE_DW: return Role::dw;
        case CONVCONF_ROLE_DB: return Role::db;
        case CONVCONF_ROLE_ARGMAX: return Role::argmax;
        case CONVCONF_ROLE_COL: return Role::col;
    }
    return std::nullopt;
}

// A call as the family's Call, or why it cannot be one.
struct Read {
    const Direction* direction = nullptr;
    DType dtype = DType::f32;
    ConvProblem problem;
    bool nan_data = false;
    std::string error;  // non-empty: declined
};

Read read(const convconf_call* c) {
    Read r;
    if (!c || c->struct_size < sizeof(convconf_call) || !c->problem || c->problem->struct_size < sizeof(convconf_problem))
        return r.error = "a call struct smaller than ABI version 1's", r;
    const std::optional<Op> op = op_of(c->op);
    const std::optional<Pass> pass = pass_of(c->pass);
    if (!op || !pass) return r.error = "op " + std::to_string(c->op) + " pass " + std::to_string(c->pass) + " unknown", r;
    if (c->dtype != CONVCONF_DTYPE_F32 && c->dtype != CONVCONF_DTYPE_F64)
        return r.error = "dtype " + std::to_string(c->dtype) + " unknown", r;
    r.dtype = c->dtype == CONVCONF_DTYPE_F32 ? DType::f32 : DType::f64;
    const convconf_problem& q = *c->problem;
    if (q.layout != CONVCONF_LAYOUT_NCHW && q.layout != CONVCONF_LAYOUT_NHWC)
        return r.error = "activation layout " + std::to_string(q.layout) + " unknown", r;
    if (q.weights_layout != CONVCONF_LAYOUT_OIHW && q.weights_layout != CONVCONF_LAYOUT_HWIO)
        return r.error = "weights layout " + std::to_string(q.weights_layout) + " unknown", r;
    ConvProblem& p = r.problem;
    switch (q.pool_alg) {
        case CONVCONF_POOL_MAX: p.alg = PoolAlg::max; break;
        case CONVCONF_POOL_AVG_P: p.alg = PoolAlg::avg_p; break;
        case CONVCONF_POOL_AVG_NP: p.alg = PoolAlg::avg_np; break;
        default: return r.error = "pooling algorithm " + std::to_string(q.pool_alg) + " unknown", r;
    }
    if (q.ceil_mode != 0 && q.ceil_mode != 1) return r.error = "ceil_mode " + std::to_string(q.ceil_mode) + " unknown", r;
    p.ceil_mode = q.ceil_mode == 1;
    if (q.groups < 1) return r.error = "groups " + std::to_string(q.groups) + " below 1", r;
    p.g = q.groups;
    p.mb = q.mb, p.ic = q.ic, p.oc = q.oc, p.ih = q.ih, p.iw = q.iw, p.kh = q.kh, p.kw = q.kw;
    p.sh = q.sh, p.sw = q.sw, p.pt = q.pt, p.pl = q.pl, p.pb = q.pb, p.pr = q.pr, p.dh = q.dh, p.dw = q.dw;
    p.layout = q.layout == CONVCONF_LAYOUT_NCHW ? Layout::nchw : Layout::nhwc;
    p.weights_layout = q.weights_layout == CONVCONF_LAYOUT_OIHW ? WeightsLayout::oihw : WeightsLayout::hwio;
    // The direction: its optional tensor (b in forward, db in backward_weights) is there
    // or not.
    bool optional_tensor = false;
    for (int32_t i = 0; i < c->ntensors; ++i)
        if (c->tensors[i].role == CONVCONF_ROLE_B || c->tensors[i].role == CONVCONF_ROLE_DB) optional_tensor = true;
    if (!is_valid_pass(*op, *pass)) return r.error = std::string(to_string(*op)) + " has no such pass", r;
    r.direction = &direction_of(*op, *pass, optional_tensor);
    r.nan_data = c->nan_data != 0;
    return r;
}

// ---- Tensors: copied in and out through the call's strides --------------------------------

template <class E>
E* element(const convconf_tensor& t, const int64_t* index) {
    int64_t offset = 0;
    for (int a = 0; a < t.ndim; ++a) offset += index[a] * t.strides[a];
    return static_cast<E*>(t.data) + offset;
}

// Visits every logical index of t's extents, outermost axis first.
template <class F>
void for_each_index(const convconf_tensor& t, F&& f) {
    int64_t index[4] = {0, 0, 0, 0};
    int64_t count = 1;
    for (int a = 0; a < t.ndim; ++a) count *= t.shape[a];
    for (int64_t e = 0; e < count; ++e) {
        f(index);
        for (int a = t.ndim - 1; a >= 0; --a) {
            if (++index[a] < t.shape[a]) break;
            index[a] = 0;
        }
    }
}

template <class E>
E& at(Tensor<E>& t, const int64_t* index, int ndim) {
    if (ndim == 4) return t.at(index[0], index[1], index[2], index[3]);
    if (ndim == 2) return t[index[0] * t.shape()[1] + index[1]];
    return t[index[0]];
}

// The family's tensors of one call, bound to a Call.
template <class T>
class Bound {
public:
    Bound(const Read& r, const convconf_call* c) : call_(*r.direction, r.dtype, r.problem, r.nan_data), c_(c) {
        for (int32_t i = 0; i < c->ntensors; ++i) {
            const convconf_tensor& t = c->tensors[i];
            const std::optional<Role> role = role_of(t.role);
            if (!role) throw std::invalid_argument("tensor " + std::to_string(i) + ": role " + std::to_string(t.role) + " unknown");
            const Operand* o = operand(*r.direction, *role);
            if (!o) throw std::invalid_argument("tensor " + std::string(to_string(*role)) + " is not one of the call's");
            const TensorShape s = shape_of(o->shape, r.problem);
            require_extents(t, s);
            if (*role == Role::argmax) {
                argmax_ = make_tensor<int64_t>(s, true);  // poisoned: an unwritten element shows
                call_.bind(*role, argmax_);
            } else {
                // Poisoned, as the harness's outputs are: an element the family leaves unwritten
                // reaches the harness as poison (inputs are overwritten below).
                tensors_.push_back(std::make_unique<Tensor<T>>(make_tensor<T>(s, true)));
                Tensor<T>& mine = *tensors_.back();
                if (r.direction->reads(*role))
                    for_each_index(t, [&](const int64_t* ix) { at(mine, ix, t.ndim) = *element<T>(t, ix); });
                call_.bind(*role, mine);
            }
        }
    }
    const Call& call() const { return call_; }
    // The outputs, copied to the harness's tensors.
    void write_back() {
        size_t k = 0;
        for (int32_t i = 0; i < c_->ntensors; ++i) {
            const convconf_tensor& t = c_->tensors[i];
            const Role role = *role_of(t.role);
            if (role == Role::argmax) {
                for_each_index(t, [&](const int64_t* ix) { *element<int64_t>(t, ix) = at(argmax_, ix, t.ndim); });
                continue;
            }
            Tensor<T>& mine = *tensors_[k++];
            if (call_.direction().writes(role))
                for_each_index(t, [&](const int64_t* ix) { *element<T>(t, ix) = at(mine, ix, t.ndim); });
        }
    }

private:
    // t's logical extents are those the problem gives its role.
    static void require_extents(const convconf_tensor& t, const TensorShape& s) {
        const std::vector<int64_t> logical = logical_extents(s);
        bool same = t.ndim == int32_t(logical.size());
        for (size_t a = 0; same && a < logical.size(); ++a) same = t.shape[a] == logical[a];
        if (!same) throw std::invalid_argument("a tensor's extents are not those its problem gives it");
    }
    static const Operand* operand(const Direction& d, Role r) {
        for (const auto* list : {&d.inputs, &d.outputs})
            for (const Operand& o : *list)
                if (o.role == r) return &o;
        return nullptr;
    }

    Call call_;
    const convconf_call* c_;
    std::vector<std::unique_ptr<Tensor<T>>> tensors_;
    Tensor<int64_t> argmax_;
};

void write_message(char* message, size_t size, const std::string& text) {
    if (!message || size == 0) return;
    const size_t n = std::min(size - 1, text.size());
    std::memcpy(message, text.data(), n);
    message[n] = '\0';
}

// ---- The functions of the table ------------------------------------------------------------

const char* supports(const convconf_call* c) {
    thread_local std::string reason;
    try {
        const Read r = read(c);
        if (!r.error.empty()) return (reason = r.error).c_str();
        const std::optional<std::string> no = strided().unsupported(Call(*r.direction, r.dtype, r.problem, r.nan_data));
        if (!no) return nullptr;
        return (reason = *no).c_str();
    } catch (const std::exception& e) {
        return (reason = e.what()).c_str();
    }
}

int32_t run(const convconf_call* c, char* message, size_t message_size) {
    try {
        const Read r = read(c);
        if (!r.error.empty()) throw std::invalid_argument(r.error);
        set_threads(c->threads);  // the family's parallel regions use what the call allows
        if (r.dtype == DType::f32) {
            Bound<float> b(r, c);
            strided().run(b.call());
            b.write_back();
        } else {
            Bound<double> b(r, c);
            strided().run(b.call());
            b.write_back();
        }
        return CONVCONF_OK;
    } catch (const std::exception& e) {
        write_message(message, message_size, e.what());
        return CONVCONF_ERROR;
    }
}

int64_t workspace_bytes(const convconf_call* c) {
    try {
        const Read r = read(c);
        if (!r.error.empty()) return 0;
        return strided().workspace_bytes(Call(*r.direction, r.dtype, r.problem, r.nan_data));
    } catch (const std::exception&) {
        return 0;
    }
}

const convconf_variant variants[] = {{
    sizeof(convconf_variant),
    "strided-plugin",
    "the strided family through the plugin ABI (impl/plugin/strided_plugin.cpp)",
    (1u << CONVCONF_OP_CONV2D) | (1u << CONVCONF_OP_MAXPOOL2D) | (1u << CONVCONF_OP_IM2COL) | (1u << CONVCONF_OP_COL2IM) |
        (1u << CONVCONF_OP_AVGPOOL2D),
    supports,
    run,
    workspace_bytes,
}};
const convconf_plugin table = {sizeof(convconf_plugin), CONVCONF_PLUGIN_ABI_VERSION, 1, variants,
                               sizeof(convconf_problem)};

}  // namespace

extern "C" __attribute__((visibility("default"))) const convconf_plugin* convconf_plugin_entry(void) { return &table; }
