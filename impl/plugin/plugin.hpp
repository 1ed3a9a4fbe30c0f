// Outside implementations: a shared library written against the C ABI of
// convconf_plugin.h, loaded and wrapped as Variants, so that everything that runs an
// in-tree variant runs it the same way (docs/plugins.md).
//
// The harness side of the ABI is here and nowhere else: translating a Call into a
// convconf_call (and the C codes back), checking what a library hands over before any of
// it is used, and turning a plugin's status and message into an exception the checks
// report. A library stays loaded until the process ends.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "impl/core/call.hpp"
#include "impl/core/variant.hpp"
#include "impl/plugin/convconf_plugin.h"

namespace convconf::plugin {

// A library that cannot be used: the message names the path as given and what is wrong.
class PluginError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Library {
    std::string path;  // as given (--plugin, CONVCONF_PLUGINS)
    std::string file;  // its canonical path: the same library twice is loaded once
    std::vector<std::unique_ptr<Variant>> variants;
};

// Loads the library at path and checks its table: the entry symbol, the ABI version, each
// variant's name, and a run and supports function wherever it declares an op. Throws
// PluginError; nothing of a library that fails is registered.
Library load(const std::string& path);

// The C description of a call, owning what its pointers point to. Tensors are the
// direction's inputs then its outputs, with data pointers from the call's bound tensors
// (NULL where none is bound, as for supports()).
class CCall {
public:
    explicit CCall(const Call&);
    CCall(const CCall&) = delete;
    CCall& operator=(const CCall&) = delete;
    const convconf_call* get() const { return &call_; }
    // The roles run() said it left out (convconf_call.left_out).
    uint32_t left_out() const { return left_out_; }

private:
    convconf_problem problem_{};
    std::vector<convconf_tensor> tensors_;
    uint32_t left_out_ = 0;
    convconf_call call_{};
};

// A variant's name as reports can carry it: 1 to 64 of [A-Za-z0-9_-]. No '.', which
// JUnit's classname (variant.group) splits at, no space or quote a repro line would have
// to escape. Plugins' and workers' variants alike.
bool valid_variant_name(std::string_view);

// The ABI's codes (convconf_plugin.h) of the harness's vocabulary.
int32_t abi_code(Op);
int32_t abi_code(Pass);
int32_t abi_code(DType);
int32_t abi_code(Role);
int32_t abi_code(AxisOrder);
// The tensor a convconf_tensor describes: its logical extents and strides per axis.
convconf_tensor abi_tensor(Role, int32_t dtype, const TensorShape&, void* data);

}  // namespace convconf::plugin
