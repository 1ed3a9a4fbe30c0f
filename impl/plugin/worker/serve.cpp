#include "impl/plugin/worker/serve.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <iterator>
#include <optional>

#include "impl/core/threads.hpp"
#include "impl/plugin/worker/process.hpp"
#include "impl/plugin/worker/protocol.hpp"

namespace convconf::worker {

using nlohmann::json;

namespace {

// Reads exactly n bytes; false at the end of the input before the first byte.
bool read_exactly(int fd, void* to, size_t n, bool may_end) {
    auto* p = static_cast<unsigned char*>(to);
    size_t got = 0;
    while (got < n) {
        const ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw std::runtime_error(std::string("reading stdin: ") + std::strerror(errno));
        if (r == 0) {
            if (got == 0 && may_end) return false;
            throw std::runtime_error("stdin ended in the middle of a frame");
        }
        got += size_t(r);
    }
    return true;
}

void write_all(int fd, const void* from, size_t n) {
    const auto* p = static_cast<const unsigned char*>(from);
    while (n > 0) {
        const ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) throw std::runtime_error(std::string("writing stdout: ") + std::strerror(errno));
        p += w, n -= size_t(w);
    }
}

void send(int fd, const json& header, const std::vector<std::pair<const void*, size_t>>& payload = {}) {
    const std::string h = header.dump();
    write_all(fd, frame_prefix(uint32_t(h.size())).data(), 8);
    write_all(fd, h.data(), h.size());
    for (const auto& [data, bytes] : payload) write_all(fd, data, bytes);
}

json error(const std::string& message) { return {{"type", "error"}, {"message", message}}; }

const Variant* find(const std::vector<const Variant*>& variants, const json& request) {
    if (!request.contains("variant") || !request["variant"].is_string())
        throw std::invalid_argument("/variant is missing or not a string");
    for (const Variant* v : variants)
        if (v->name() == request["variant"].get<std::string>()) return v;
    throw std::invalid_argument("no variant " + request["variant"].dump() + " here");
}

// A run: inputs from the payload, outputs poisoned, the variant's run, then what the
// in-process harness would inspect of the memory around it.
template <class T>
void run(int out_fd, const Variant& v, const ParsedCall& pc, const json& request, const std::vector<unsigned char>& payload) {
    const Direction& d = *pc.direction;
    Call call(d, pc.dtype, pc.problem, pc.nan_data);
    std::map<Role, Tensor<T>> tensors;
    Tensor<int64_t> argmax;
    const json& list = request.at("tensors");
    if (list.size() != d.inputs.size())
        return send(out_fd, error("/tensors has " + std::to_string(list.size()) + " entries; " + d.name + " has " +
                                  std::to_string(d.inputs.size()) + " inputs"));
    size_t offset = 0;
    for (size_t i = 0; i < d.inputs.size(); ++i) {
        const Operand& o = d.inputs[i];
        Tensor<T>& t = tensors[o.role] = make_tensor<T>(shape_of(o.shape, pc.problem));
        const size_t bytes = size_t(t.size()) * sizeof(T);
        if (list[i].value("role", "") != to_string(o.role) || list[i].value("bytes", uint64_t(0)) != bytes)
            return send(out_fd, error("/tensors/" + std::to_string(i) + " is " + list[i].dump() + "; " + d.name +
                                      "'s input " + std::to_string(i) + " is " + std::string(to_string(o.role)) +
                                      " of " + std::to_string(bytes) + " bytes"));
        std::memcpy(t.data(), payload.data() + offset, bytes);
        offset += bytes;
        call.bind(o.role, t);
    }
    const std::map<Role, Tensor<T>> before = tensors;
    for (const Operand& o : d.outputs) {
        const TensorShape s = shape_of(o.shape, pc.problem);
        if (o.role == Role::argmax) {
            argmax = make_tensor<int64_t>(s, true);
            call.bind(o.role, argmax);
        } else {
            call.bind(o.role, tensors[o.role] = make_tensor<T>(s, true));
        }
    }
    set_threads(pc.threads);
    try {
        v.run(call);
    } catch (const std::exception& e) {
        return send(out_fd, error(e.what()));
    }
    json sent = json::array(), left_out = json::array();
    std::vector<std::pair<const void*, size_t>> pieces;
    for (const Operand& o : d.outputs) {
        const std::string name(to_string(o.role));
        const std::string damage = o.role == Role::argmax ? argmax.guard_damage() : tensors.at(o.role).guard_damage();
        if (!damage.empty())
            return send(out_fd, error("OUT OF BOUNDS WRITE: output " + name + ": the variant wrote " + damage));
        if (call.left_out(o.role)) {
            left_out.push_back(name);
            continue;
        }
        const void* data = o.role == Role::argmax ? static_cast<const void*>(argmax.data()) : tensors.at(o.role).data();
        const TensorShape s = shape_of(o.shape, pc.problem);
        const size_t bytes = size_t(element_count(s) * element_bytes(dtype_name(call, o.role)));
        sent.push_back({{"role", name}, {"dtype", dtype_name(call, o.role)}, {"shape", s.extents}, {"bytes", bytes}});
        pieces.emplace_back(data, bytes);
    }
    for (const auto& [role, was] : before)
        if (std::memcmp(was.data(), tensors.at(role).data(), size_t(was.size()) * sizeof(T)) != 0)
            return send(out_fd, error("INPUT CHANGED: input " + std::string(to_string(role)) + ": the variant wrote into it"));
    send(out_fd, {{"type", "result"}, {"tensors", sent}, {"left_out", left_out}}, pieces);
}

void answer(int out_fd, const std::vector<const Variant*>& variants, const json& request,
            const std::vector<unsigned char>& payload) {
    const std::string type = request.value("type", "");
    if (type == "hello") {
        json list = json::array();
        for (const Variant* v : variants) {
            // Every later field: a plugin variant that predates one declines it in supports.
            VariantInfo info{v->name(), v->description(), {}, {DType::f32, DType::f64},
                             {std::begin(kLaterFields), std::end(kLaterFields)}};
            for (const Direction& d : all_directions()) {
                const auto pair = std::pair{d.op, d.pass};
                if (std::find(info.directions.begin(), info.directions.end(), pair) == info.directions.end())
                    info.directions.push_back(pair);
            }
            list.push_back(variant_json(info));
        }
        return send(out_fd, {{"type", "hello"}, {"protocol", kProtocolVersion}, {"variants", list}});
    }
    if (type == "ping") return send(out_fd, {{"type", "pong"}});
    if (type != "supports" && type != "run") return send(out_fd, error("no request type \"" + type + "\" in protocol 1"));
    const Variant* v = nullptr;
    std::optional<ParsedCall> pc;
    try {
        v = find(variants, request);
        pc = parse_call(request.at("call"));
    } catch (const std::exception& e) {
        return send(out_fd, error(std::string("a ") + type + " request I cannot read: " + e.what()));
    }
    const Call call(*pc->direction, pc->dtype, pc->problem, pc->nan_data);
    if (type == "supports") {
        const std::optional<std::string> reason = v->unsupported(call);
        if (!reason) return send(out_fd, {{"type", "supported"}});
        return send(out_fd, {{"type", "unsupported"}, {"reason", *reason}});
    }
    if (pc->dtype == DType::f32) return run<float>(out_fd, *v, *pc, request, payload);
    return run<double>(out_fd, *v, *pc, request, payload);
}

}  // namespace

int serve(const std::vector<const Variant*>& variants, int in_fd, int out_fd) {
    try {
        for (;;) {
            unsigned char prefix[8];
            if (!read_exactly(in_fd, prefix, 8, true)) return 0;
            if (std::memcmp(prefix, kMagic, 4) != 0) throw std::runtime_error("stdin holds something that is not a frame");
            const uint32_t length = header_length(prefix);
            if (length > kMaxHeaderBytes) throw std::runtime_error("a header of " + std::to_string(length) + " bytes");
            std::string header(length, '\0');
            read_exactly(in_fd, header.data(), length, false);
            const uint64_t bytes = payload_bytes(header);
            std::vector<unsigned char> payload(static_cast<size_t>(bytes));
            read_exactly(in_fd, payload.data(), payload.size(), false);
            answer(out_fd, variants, json::parse(header), payload);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "convconf worker: %s\n", e.what());
        return 2;
    }
}

}  // namespace convconf::worker
