// The worker protocol's messages (docs/worker-protocol.md), both sides: the harness's
// (worker.cpp) and convconf's own worker (serve.cpp, `convconf worker`). Internal to
// impl/plugin/worker: it includes nlohmann/json, which the rest of impl/ does not.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "impl/core/call.hpp"

namespace convconf::worker {

inline constexpr int kProtocolVersion = 1;
// The problem fields a variant may list in its hello's "fields".
inline constexpr const char* kLaterFields[] = {"ceil_mode", "groups"};

// The protocol's name of a tensor's element type: "f32", "f64", argmax "s64".
std::string dtype_name(const Call&, Role);
int64_t element_bytes(const std::string& dtype);

// A tensor as the protocol describes it: role, dtype, layout, shape (storage order).
nlohmann::json tensor_json(const Call&, const Operand&, bool output);
int64_t element_count(const TensorShape&);

// The "call" object of a supports or run request.
nlohmann::json call_json(const Call&, int threads);

// What a worker announces of a variant in its hello.
struct VariantInfo {
    std::string name, description;
    std::vector<std::pair<Op, Pass>> directions;  // the op and pass pairs it has kernels for
    std::vector<DType> dtypes;
    // The problem fields added after version 1.0 of the contract that it reads ("ceil_mode"):
    // a call that sets one it does not list is declined for it by the harness.
    std::vector<std::string> fields;
    bool operator==(const VariantInfo&) const = default;
};
nlohmann::json variant_json(const VariantInfo&);
// Throws std::invalid_argument naming the JSON path ("/variants/0/ops/conv2d/1").
std::vector<VariantInfo> parse_variants(const nlohmann::json& hello);

// The call a "call" object describes, on the direction and problem it names; the
// problem is validated against the direction's rules. Throws std::invalid_argument or
// ProblemError naming the JSON path.
struct ParsedCall {
    const Direction* direction;
    DType dtype;
    ConvProblem problem;
    bool nan_data;
    int threads;
};
ParsedCall parse_call(const nlohmann::json& call);

}  // namespace convconf::worker
