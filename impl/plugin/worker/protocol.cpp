#include "impl/plugin/worker/protocol.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include "impl/core/descriptor.hpp"
#include "impl/plugin/plugin.hpp"

namespace convconf::worker {

using nlohmann::json;

std::string dtype_name(const Call& c, Role r) {
    return r == Role::argmax ? "s64" : std::string(to_string(c.dtype()));
}

int64_t element_bytes(const std::string& dtype) { return dtype == "f32" ? 4 : 8; }

int64_t element_count(const TensorShape& s) {
    int64_t n = 1;
    for (int64_t e : s.extents) n *= e;
    return n;
}

json tensor_json(const Call& c, const Operand& o, bool output) {
    const TensorShape s = shape_of(o.shape, c.problem());
    json t = {{"role", to_string(o.role)},
              {"dtype", dtype_name(c, o.role)},
              {"layout", to_string(s.order)},
              {"shape", s.extents}};
    if (output) t["optional"] = o.optional;
    return t;
}

json call_json(const Call& c, int threads) {
    const Direction& d = c.direction();
    const ConvProblem& p = c.problem();
    json problem = {{"mb", p.mb}, {"ic", p.ic}, {"ih", p.ih}, {"iw", p.iw}, {"oh", p.oh()}, {"ow", p.ow()},
                    {"kh", p.kh}, {"kw", p.kw}, {"sh", p.sh}, {"sw", p.sw}, {"pt", p.pt}, {"pl", p.pl},
                    {"pb", p.pb}, {"pr", p.pr}, {"dh", p.dh}, {"dw", p.dw}, {"layout", to_string(p.layout)}};
    std::string descriptor;
    if (d.has_weights()) {
        problem["oc"] = p.oc;
        problem["weights_layout"] = to_string(p.weights_layout);
        problem["groups"] = p.g;
        descriptor = to_descriptor(p);
    } else {
        descriptor = to_descriptor(pool_problem(p));
    }
    if (d.geometry == Geometry::pool) {
        problem["pool_alg"] = to_string(c.pool_problem().alg);
        problem["ceil_mode"] = p.ceil_mode;
    }
    json inputs = json::array(), outputs = json::array();
    for (const Operand& o : d.inputs) inputs.push_back(tensor_json(c, o, false));
    for (const Operand& o : d.outputs) outputs.push_back(tensor_json(c, o, true));
    return {{"op", to_string(c.op())},
            {"pass", to_string(c.pass())},
            {"direction", d.name},
            {"dtype", to_string(c.dtype())},
            {"nan_data", c.nan_data()},
            {"threads", threads},
            {"descriptor", descriptor},
            {"problem", problem},
            {"inputs", inputs},
            {"outputs", outputs}};
}

json variant_json(const VariantInfo& v) {
    json ops = json::object();
    for (const auto& [op, pass] : v.directions) ops[std::string(to_string(op))].push_back(to_string(pass));
    json dtypes = json::array();
    for (DType t : v.dtypes) dtypes.push_back(to_string(t));
    json out = {{"name", v.name}, {"description", v.description}, {"ops", ops}, {"dtypes", dtypes}};
    if (!v.fields.empty()) out["fields"] = v.fields;
    return out;
}

namespace {

const json& member(const json& object, const std::string& key, const std::string& at) {
    if (!object.is_object()) throw std::invalid_argument(at + " is not a JSON object");
    const auto it = object.find(key);
    if (it == object.end()) throw std::invalid_argument(at + "/" + key + " is missing");
    return *it;
}

std::string text(const json& object, const std::string& key, const std::string& at) {
    const json& v = member(object, key, at);
    if (!v.is_string()) throw std::invalid_argument(at + "/" + key + " is not a string: " + v.dump());
    return v.get<std::string>();
}

int64_t integer(const json& object, const std::string& key, const std::string& at) {
    const json& v = member(object, key, at);
    if (!v.is_number_integer()) throw std::invalid_argument(at + "/" + key + " is not an integer: " + v.dump());
    return v.get<int64_t>();
}

// parse_op and its kin, with the JSON path in the message.
template <class F>
auto named(F parse, const json& object, const std::string& key, const std::string& at) {
    const std::string t = text(object, key, at);
    try {
        return parse(t);
    } catch (const std::exception& e) {
        throw std::invalid_argument(at + "/" + key + ": " + e.what());
    }
}

}  // namespace

std::vector<VariantInfo> parse_variants(const json& hello) {
    const json& list = member(hello, "variants", "");
    if (!list.is_array() || list.empty()) throw std::invalid_argument("/variants is not a non-empty array");
    std::vector<VariantInfo> out;
    for (size_t i = 0; i < list.size(); ++i) {
        const std::string at = "/variants/" + std::to_string(i);
        VariantInfo v;
        v.name = text(list[i], "name", at);
        if (!plugin::valid_variant_name(v.name))  // the plugin ABI's rule
            throw std::invalid_argument(at + "/name must be 1 to 64 letters, digits, '_' or '-', not \"" + v.name + "\"");
        for (const VariantInfo& seen : out)
            if (seen.name == v.name) throw std::invalid_argument(at + "/name: a second variant called " + v.name);
        if (list[i].contains("description")) v.description = text(list[i], "description", at);
        const json& ops = member(list[i], "ops", at);
        if (!ops.is_object() || ops.empty()) throw std::invalid_argument(at + "/ops is not a non-empty object");
        for (const auto& [op_name, passes] : ops.items()) {
            const std::string op_at = at + "/ops/" + op_name;
            Op op;
            try {
                op = parse_op(op_name);
            } catch (const std::exception& e) {
                throw std::invalid_argument(op_at + ": " + e.what());
            }
            if (!passes.is_array() || passes.empty())
                throw std::invalid_argument(op_at + " is not a non-empty array of passes");
            for (size_t k = 0; k < passes.size(); ++k) {
                const std::string pass_at = op_at + "/" + std::to_string(k);
                if (!passes[k].is_string()) throw std::invalid_argument(pass_at + " is not a string");
                Pass pass;
                try {
                    pass = parse_pass(passes[k].get<std::string>());
                    (void)direction_of(op, pass);
                } catch (const std::exception& e) {
                    throw std::invalid_argument(pass_at + ": " + e.what());
                }
                v.directions.emplace_back(op, pass);
            }
        }
        const json& dtypes = member(list[i], "dtypes", at);
        if (!dtypes.is_array() || dtypes.empty()) throw std::invalid_argument(at + "/dtypes is not a non-empty array");
        for (size_t k = 0; k < dtypes.size(); ++k) {
            const std::string dt_at = at + "/dtypes/" + std::to_string(k);
            if (!dtypes[k].is_string()) throw std::invalid_argument(dt_at + " is not a string");
            try {
                v.dtypes.push_back(parse_dtype(dtypes[k].get<std::string>()));
            } catch (const std::exception& e) {
                throw std::invalid_argument(dt_at + ": " + e.what());
            }
        }
        if (list[i].contains("fields")) {
            const json& fields = list[i]["fields"];
            if (!fields.is_array()) throw std::invalid_argument(at + "/fields is not an array");
            for (size_t k = 0; k < fields.size(); ++k) {
                const std::string f_at = at + "/fields/" + std::to_string(k);
                const bool known = fields[k].is_string() &&
                                   std::any_of(std::begin(kLaterFields), std::end(kLaterFields),
                                               [&](const char* f) { return fields[k].get<std::string>() == f; });
                if (!known)
                    throw std::invalid_argument(f_at + ": " + fields[k].dump() +
                                                " is not a problem field this convconf knows (ceil_mode, groups)");
                v.fields.push_back(fields[k].get<std::string>());
            }
        }
        out.push_back(std::move(v));
    }
    return out;
}

ParsedCall parse_call(const json& call) {
    const std::string at = "/call";
    const Op op = named([](const std::string& t) { return parse_op(t); }, call, "op", at);
    const Pass pass = named([](const std::string& t) { return parse_pass(t); }, call, "pass", at);
    const std::string name = text(call, "direction", at);
    const Direction* direction = nullptr;
    for (const Direction& d : all_directions())
        if (d.op == op && d.pass == pass && name == d.name) direction = &d;
    if (!direction)
        throw std::invalid_argument(at + "/direction: " + std::string(to_string(op)) + " " +
                                    std::string(to_string(pass)) + " has no direction " + name);
    ParsedCall out{direction, named([](const std::string& t) { return parse_dtype(t); }, call, "dtype", at), {}, false, 1};
    const json& nan = member(call, "nan_data", at);
    if (!nan.is_boolean()) throw std::invalid_argument(at + "/nan_data is not true or false");
    out.nan_data = nan.get<bool>();
    out.threads = int(std::max<int64_t>(1, integer(call, "threads", at)));
    const std::string pat = at + "/problem";
    const json& p = member(call, "problem", at);
    ConvProblem& q = out.problem;
    for (auto [field, slot] : {std::pair{"mb", &q.mb}, {"ic", &q.ic}, {"ih", &q.ih}, {"iw", &q.iw}, {"kh", &q.kh},
                               {"kw", &q.kw}, {"sh", &q.sh}, {"sw", &q.sw}, {"pt", &q.pt}, {"pl", &q.pl},
                               {"pb", &q.pb}, {"pr", &q.pr}, {"dh", &q.dh}, {"dw", &q.dw}})
        *slot = integer(p, field, pat);
    q.layout = named([](const std::string& t) { return parse_layout(t); }, p, "layout", pat);
    if (direction->geometry == Geometry::pool) {
        q.alg = named([](const std::string& t) { return parse_pool_alg(t, "pool_alg"); }, p, "pool_alg", pat);
        const json& ceil = member(p, "ceil_mode", pat);
        if (!ceil.is_boolean()) throw std::invalid_argument(pat + "/ceil_mode is not true or false");
        q.ceil_mode = ceil.get<bool>();
    }
    if (direction->has_weights()) {
        q.oc = integer(p, "oc", pat);
        // Added with contract version 1.1: a message without it is a plain convolution.
        q.g = p.contains("groups") ? integer(p, "groups", pat) : 1;
        q.weights_layout = named([](const std::string& t) { return parse_weights_layout(t); }, p, "weights_layout", pat);
    }
    validate_problem(*direction, q);
    if (integer(p, "oh", pat) != q.oh() || integer(p, "ow", pat) != q.ow())
        throw std::invalid_argument(pat + ": oh, ow are " + std::to_string(integer(p, "oh", pat)) + ", " +
                                    std::to_string(integer(p, "ow", pat)) + ", but the problem gives " +
                                    std::to_string(q.oh()) + ", " + std::to_string(q.ow()));
    return out;
}

}  // namespace convconf::worker
