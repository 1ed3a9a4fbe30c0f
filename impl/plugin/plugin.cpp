#include "impl/plugin/plugin.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>

#include "impl/core/threads.hpp"

namespace convconf::plugin {

// Bytes of a struct up to and including `member`: the least struct_size a writer of this
// ABI version can have given.
#define CONVCONF_SIZE_THROUGH(type, member) (offsetof(type, member) + sizeof(type::member))

int32_t abi_code(Op op) {
    switch (op) {
        case Op::conv2d: return CONVCONF_OP_CONV2D;
        case Op::maxpool2d: return CONVCONF_OP_MAXPOOL2D;
        case Op::im2col: return CONVCONF_OP_IM2COL;
        case Op::col2im: return CONVCONF_OP_COL2IM;
        case Op::avgpool2d: return CONVCONF_OP_AVGPOOL2D;
    }
    throw std::logic_error("plugin: no ABI code for an op");
}

int32_t abi_code(Pass pass) {
    switch (pass) {
        case Pass::forward: return CONVCONF_PASS_FORWARD;
        case Pass::backward_data: return CONVCONF_PASS_BACKWARD_DATA;
        case Pass::backward_weights: return CONVCONF_PASS_BACKWARD_WEIGHTS;
        case Pass::backward: return CONVCONF_PASS_BACKWARD;
    }
    throw std::logic_error("plugin: no ABI code for a pass");
}

int32_t abi_code(DType dtype) { return dtype == DType::f32 ? CONVCONF_DTYPE_F32 : CONVCONF_DTYPE_F64; }

int32_t abi_code(Role role) {
    static constexpr std::array<int32_t, kRoleCount> codes{
        CONVCONF_ROLE_X,  CONVCONF_ROLE_W,  CONVCONF_ROLE_B,  CONVCONF_ROLE_Y,      CONVCONF_ROLE_DY,
        CONVCONF_ROLE_DX, CONVCONF_ROLE_DW, CONVCONF_ROLE_DB, CONVCONF_ROLE_ARGMAX, CONVCONF_ROLE_COL};
    static_assert(int(Role::col) == kRoleCount - 1);
    return codes.at(size_t(role));
}

int32_t abi_code(AxisOrder order) {
    switch (order) {
        case AxisOrder::plain: return CONVCONF_LAYOUT_PLAIN;
        case AxisOrder::nchw: return CONVCONF_LAYOUT_NCHW;
        case AxisOrder::nhwc: return CONVCONF_LAYOUT_NHWC;
        case AxisOrder::oihw: return CONVCONF_LAYOUT_OIHW;
        case AxisOrder::hwio: return CONVCONF_LAYOUT_HWIO;
    }
    throw std::logic_error("plugin: no ABI code for an axis order");
}

convconf_tensor abi_tensor(Role role, int32_t dtype, const TensorShape& s, void* data) {
    convconf_tensor t{};
    t.struct_size = sizeof(convconf_tensor);
    t.role = abi_code(role);
    t.dtype = dtype;
    t.layout = abi_code(s.order);
    t.ndim = int32_t(s.extents.size());
    t.data = data;
    if (s.extents.size() > 4) throw std::logic_error("plugin: a tensor of more than 4 axes");
    // Storage order: the last axis is contiguous. A 4-D order's physical axis p is logical
    // axis perm[p]; a plain tensor's axes are its logical axes.
    std::array<int, 4> perm{0, 1, 2, 3};
    if (s.order != AxisOrder::plain) perm = physical_to_logical(s.order);
    int64_t stride = 1;
    for (int p = t.ndim - 1; p >= 0; --p) {
        t.shape[perm[size_t(p)]] = s.extents[size_t(p)];
        t.strides[perm[size_t(p)]] = stride;
        stride *= s.extents[size_t(p)];
    }
    return t;
}

CCall::CCall(const Call& c) {
    const ConvProblem& p = c.problem();
    const Direction& d = c.direction();
    problem_.struct_size = sizeof(convconf_problem);
    problem_.mb = p.mb, problem_.ic = p.ic, problem_.oc = d.has_weights() ? p.oc : 1;
    problem_.ih = p.ih, problem_.iw = p.iw, problem_.oh = p.oh(), problem_.ow = p.ow();
    problem_.kh = p.kh, problem_.kw = p.kw, problem_.sh = p.sh, problem_.sw = p.sw;
    problem_.pt = p.pt, problem_.pl = p.pl, problem_.pb = p.pb, problem_.pr = p.pr;
    problem_.dh = p.dh, problem_.dw = p.dw;
    problem_.layout = abi_code(axis_order(p.layout));
    problem_.weights_layout = abi_code(axis_order(p.weights_layout));
    problem_.pool_alg = CONVCONF_POOL_MAX;  // 0 for the ops that are not poolings too
    if (d.geometry == Geometry::pool) {
        switch (c.pool_problem().alg) {
            case PoolAlg::max: problem_.pool_alg = CONVCONF_POOL_MAX; break;
            case PoolAlg::avg_p: problem_.pool_alg = CONVCONF_POOL_AVG_P; break;
            case PoolAlg::avg_np: problem_.pool_alg = CONVCONF_POOL_AVG_NP; break;
        }
    }
    problem_.ceil_mode = p.ceil_mode ? 1 : 0;
    problem_.groups = p.g;
    bool bound = false;
    auto add = [&](const Operand& o, bool output) {
        bound = bound || c.has(o.role);
        const int32_t dtype = o.role == Role::argmax ? CONVCONF_DTYPE_S64 : abi_code(c.dtype());
        tensors_.push_back(abi_tensor(o.role, dtype, shape_of(o.shape, p), c.data(o.role)));
        tensors_.back().optional = output && o.optional ? 1 : 0;
    };
    for (const Operand& o : d.inputs) add(o, false);
    for (const Operand& o : d.outputs) add(o, true);
    call_.struct_size = sizeof(convconf_call);
    call_.op = abi_code(c.op());
    call_.pass = abi_code(c.pass());
    call_.dtype = abi_code(c.dtype());
    call_.nan_data = c.nan_data() ? 1 : 0;
    call_.ntensors = int32_t(tensors_.size());
    call_.threads = std::max(1, max_threads());  // what the harness set for this thread's kernels
    call_.problem = &problem_;
    call_.tensors = tensors_.data();
    // Only a call with its tensors can leave one out (supports() and workspace_bytes() get NULL).
    call_.left_out = bound ? &left_out_ : nullptr;
}

namespace {

// One variant of a loaded library.
class PluginVariant final : public Variant {
public:
    // problem_size: the plugin's sizeof(convconf_problem), 0 where it does not say.
    PluginVariant(std::string path, const convconf_variant& v, uint32_t problem_size)
        : path_(std::move(path)),
          v_(v),
          name_(v.name),
          description_(v.description ? v.description : ""),
          knows_ceil_mode_(problem_size >= CONVCONF_SIZE_THROUGH(convconf_problem, ceil_mode)),
          knows_groups_(problem_size >= CONVCONF_SIZE_THROUGH(convconf_problem, groups)) {}

    std::string name() const override { return name_; }
    std::string description() const override { return description_ + " [plugin " + path_ + "]"; }

    std::optional<std::string> unsupported(const Call& c) const override {
        if (!(v_.ops & (1u << abi_code(c.op()))))
            return "plugin " + name_ + " has no kernel for " + std::string(to_string(c.op()));
        if (c.problem().ceil_mode && !knows_ceil_mode_)
            return "plugin " + name_ + " was built with a convconf_plugin.h that predates ceil_mode "
                   "(its convconf_plugin.problem_size does not reach the field)";
        if (c.problem().g != 1 && !knows_groups_)
            return "plugin " + name_ + " was built with a convconf_plugin.h that predates groups "
                   "(its convconf_plugin.problem_size does not reach the field)";
        const CCall call(c);
        const char* reason = v_.supports(call.get());
        if (!reason) return std::nullopt;
        return "plugin " + name_ + ": " + one_line(reason);
    }

    void run(const Call& c) const override {
        c.validate();
        const CCall call(c);
        std::array<char, 1024> message{};
        const int32_t status = v_.run(call.get(), message.data(), message.size());
        if (status == CONVCONF_OK) {
            for (int r = 0; r < kRoleCount; ++r) {
                if (!(call.left_out() & (1u << abi_code(Role(r))))) continue;
                try {
                    c.leave_out(Role(r));
                } catch (const std::logic_error&) {
                    throw std::runtime_error("plugin " + path_ + ": run() left out " + std::string(to_string(Role(r))) +
                                             ", which " + std::string(to_string(c.op())) + " " + c.direction().name +
                                             " does not let a variant leave out");
                }
            }
            if (call.left_out() >> kRoleCount)
                throw std::runtime_error("plugin " + path_ + ": run() set a left_out bit of no role");
            return;
        }
        message.back() = '\0';  // a plugin that filled the buffer without its NUL
        const std::string said = message[0] ? one_line(message.data()) : "(no message)";
        throw std::runtime_error("plugin " + path_ + ": run() returned status " + std::to_string(status) +
                                 " for a call its supports() accepted: " + said);
    }

    int64_t workspace_bytes(const Call& c) const override {
        if (!v_.workspace_bytes) return 0;
        const CCall call(c);
        const int64_t bytes = v_.workspace_bytes(call.get());
        if (bytes < 0)
            throw std::runtime_error("plugin " + path_ + ": workspace_bytes() returned " + std::to_string(bytes));
        return bytes;
    }

    // Mismatch reports name the library a result came from.
    std::string implementation_info(const Call&) const override { return "plugin " + path_; }

private:
    // A plugin's text as one line of a report (a newline would forge report lines).
    static std::string one_line(const char* text) {
        std::string s(text);
        for (char& ch : s)
            if (ch == '\n' || ch == '\r') ch = ' ';
        return s;
    }

    std::string path_;
    convconf_variant v_;
    std::string name_, description_;
    bool knows_ceil_mode_;
    bool knows_groups_;
};

}  // namespace

bool valid_variant_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
    return true;
}

Library load(const std::string& path) {
    const std::string where = "plugin " + path;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw PluginError(where + ": no such file");
    if (std::filesystem::is_directory(path, ec)) throw PluginError(where + ": is a directory, not a shared library");
    Library lib;
    lib.path = path;
    lib.file = std::filesystem::canonical(path, ec).string();
    if (ec) throw PluginError(where + ": " + ec.message());
    // By its canonical path, so that a bare file name is never looked up on the library
    // search path; RTLD_LOCAL keeps its symbols to itself.
    void* handle = dlopen(lib.file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) throw PluginError(where + ": not a loadable shared library: " + dlerror());
    // The library stays loaded: its functions are the variants' until the process ends,
    // and unloading a library that started threads is not safe.
    dlerror();
    void* symbol = dlsym(handle, CONVCONF_PLUGIN_ENTRY);
    if (!symbol) {
        const char* e = dlerror();
        throw PluginError(where + ": no exported function " + CONVCONF_PLUGIN_ENTRY + " (" +
                          (e ? e : "the symbol is NULL") + ")");
    }
    convconf_plugin_entry_fn entry;
    std::memcpy(&entry, &symbol, sizeof entry);
    const convconf_plugin* table = entry();
    if (!table) throw PluginError(where + ": " + CONVCONF_PLUGIN_ENTRY + "() returned NULL");
    if (table->struct_size < CONVCONF_SIZE_THROUGH(convconf_plugin, abi_version))
        throw PluginError(where + ": its convconf_plugin struct_size is " + std::to_string(table->struct_size) +
                          ", too small to hold an ABI version");
    if (table->abi_version != CONVCONF_PLUGIN_ABI_VERSION)
        throw PluginError(where + ": built for plugin ABI version " + std::to_string(table->abi_version) +
                          ", but this convconf has ABI version " + std::to_string(CONVCONF_PLUGIN_ABI_VERSION) +
                          " (rebuild it against this convconf's convconf_plugin.h)");
    if (table->struct_size < CONVCONF_SIZE_THROUGH(convconf_plugin, variants))
        throw PluginError(where + ": its convconf_plugin struct_size is " + std::to_string(table->struct_size) +
                          ", smaller than version " + std::to_string(CONVCONF_PLUGIN_ABI_VERSION) + "'s " +
                          std::to_string(CONVCONF_SIZE_THROUGH(convconf_plugin, variants)));
    if (table->nvariants < 1 || !table->variants)
        throw PluginError(where + ": its table has no variants (nvariants " + std::to_string(table->nvariants) + ")");
    std::set<std::string> names;
    for (int32_t i = 0; i < table->nvariants; ++i) {
        const convconf_variant& v = table->variants[i];
        const std::string which = where + ": variant " + std::to_string(i);
        if (v.struct_size < CONVCONF_SIZE_THROUGH(convconf_variant, workspace_bytes))
            throw PluginError(which + ": struct_size " + std::to_string(v.struct_size) + " is smaller than version " +
                              std::to_string(CONVCONF_PLUGIN_ABI_VERSION) + "'s " +
                              std::to_string(CONVCONF_SIZE_THROUGH(convconf_variant, workspace_bytes)));
        if (!v.name || !valid_variant_name(v.name))
            throw PluginError(which + ": its name must be 1 to 64 letters, digits, '_' or '-'" +
                              (v.name ? std::string(", not \"") + v.name + "\"" : std::string(", not NULL")));
        const std::string named = where + ": variant " + v.name;
        if (!names.insert(v.name).second) throw PluginError(named + ": the library names two variants so");
        for (const Direction& d : all_directions()) {
            if (!(v.ops & (1u << abi_code(d.op)))) continue;
            for (const auto& [fn, what] : {std::pair{bool(v.run), "run"}, std::pair{bool(v.supports), "supports"}})
                if (!fn)
                    throw PluginError(named + ": declares " + std::string(to_string(d.op)) + " but its " + what +
                                      " function is NULL");
        }
        const uint32_t problem_size =
            table->struct_size >= CONVCONF_SIZE_THROUGH(convconf_plugin, problem_size) ? table->problem_size : 0;
        lib.variants.push_back(std::make_unique<PluginVariant>(lib.file, v, problem_size));
    }
    return lib;
}

}  // namespace convconf::plugin
