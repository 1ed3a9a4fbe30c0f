#include "reference/golden/writer.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "reference/output_file.hpp"

namespace convconf::golden {
namespace {

nlohmann::ordered_json number(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return v;
}

// {"shape": [...], "data": [...]} in storage order, which is the layout's row-major order.
template <class T>
nlohmann::ordered_json tensor_json(const Tensor<T>& t) {
    nlohmann::ordered_json data = nlohmann::ordered_json::array();
    for (const T& v : t.values()) data.push_back(number(double(v)));
    return {{"shape", t.shape()}, {"data", std::move(data)}};
}

bool is_flat_array(const nlohmann::ordered_json& v) {
    if (!v.is_array()) return false;
    for (const auto& e : v)
        if (e.is_structured()) return false;
    return true;
}

void format_into(const nlohmann::ordered_json& v, int indent, std::string& out) {
    const std::string pad(size_t(indent + 2), ' ');
    if (v.is_object() && !v.empty()) {
        out += "{\n";
        size_t i = 0;
        for (const auto& [key, value] : v.items()) {
            out += pad + nlohmann::ordered_json(key).dump() + ": ";
            format_into(value, indent + 2, out);
            out += ++i < v.size() ? ",\n" : "\n";
        }
        out += std::string(size_t(indent), ' ') + "}";
    } else if (v.is_array() && !v.empty() && !is_flat_array(v)) {
        out += "[\n";
        for (size_t i = 0; i < v.size(); ++i) {
            out += pad;
            format_into(v[i], indent + 2, out);
            out += i + 1 < v.size() ? ",\n" : "\n";
        }
        out += std::string(size_t(indent), ' ') + "]";
    } else {
        out += v.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
    }
}

// nlohmann's compact dump with a space after each ',' and ':', as people write JSON.
std::string compact(const nlohmann::ordered_json& v) {
    std::string out;
    if (v.is_array()) {
        out = "[";
        for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + compact(v[i]);
        return out + "]";
    }
    if (v.is_object()) {
        out = "{";
        for (const auto& [key, value] : v.items())
            out += (out.size() > 1 ? ", " : "") + nlohmann::ordered_json(key).dump() + ": " + compact(value);
        return out + "}";
    }
    return v.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
}

// A nested array of numbers (or "nan"-like strings) of depth >= 2, as a tensor is written:
// its depth; 0 for anything else.
size_t tensor_depth(const nlohmann::ordered_json& v) {
    size_t depth = 0;
    for (const auto* e = &v; e->is_array(); e = &(*e)[0], ++depth)
        if (e->empty()) return 0;
    auto uniform = [depth](const auto& self, const nlohmann::ordered_json& e, size_t d) -> bool {
        if (d == depth) return !e.is_structured();
        if (!e.is_array() || e.empty()) return false;
        for (const auto& x : e)
            if (!self(self, x, d + 1)) return false;
        return true;
    };
    return depth >= 2 && uniform(uniform, v, 0) ? depth : 0;
}

size_t widest_number(const nlohmann::ordered_json& v) {
    if (!v.is_array()) return compact(v).size();
    size_t w = 0;
    for (const auto& e : v) w = std::max(w, widest_number(e));
    return w;
}

// numpy's layout: rows on one line, each deeper bracket one column right of its parent's,
// numbers right-aligned to `width`. `prefix` starts every continuation line at the column
// of this array's opening bracket.
void tensor_into(const nlohmann::ordered_json& v, const std::string& prefix, size_t width,
                 const std::string& newline, std::string& out) {
    out += "[";
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i].is_array()) {
            if (i) out += "," + newline + prefix + " ";
            tensor_into(v[i], prefix + " ", width, newline, out);
        } else {
            const std::string s = compact(v[i]);
            out += (i ? ", " : "") + std::string(width - std::min(width, s.size()), ' ') + s;
        }
    }
    out += "]";
}

bool needs_lines(const nlohmann::ordered_json& v) {
    if (!v.is_object()) return false;
    for (const auto& [key, value] : v.items())
        if (tensor_depth(value) || needs_lines(value)) return true;
    return compact(v).size() > 100;
}

// `v` as the value of a member whose line starts with `line` and whose value starts
// `column` characters after that.
void member_value_into(const nlohmann::ordered_json& v, const std::string& line, size_t column,
                       const std::string& newline, std::string& out);

void object_into(const nlohmann::ordered_json& v, const std::string& line, const std::string& newline,
                 std::string& out) {
    const std::string inner = line + "  ";
    out += "{" + newline;
    const auto items = v.items();
    for (auto it = items.begin(); it != items.end();) {
        const std::string key = nlohmann::ordered_json(it.key()).dump() + ": ";
        out += inner + key;
        member_value_into(it.value(), inner, key.size(), newline, out);
        // "op" and "pass" share a line, as in the hand-written files.
        const bool op_line = it.key() == "op";
        ++it;
        if (op_line && it != items.end() && it.key() == "pass") {
            out += ", \"pass\": " + compact(it.value());
            ++it;
        }
        out += (it != items.end() ? "," : "") + newline;
    }
    out += line + "}";
}

void member_value_into(const nlohmann::ordered_json& v, const std::string& line, size_t column,
                       const std::string& newline, std::string& out) {
    if (tensor_depth(v)) tensor_into(v, line + std::string(column, ' '), widest_number(v), newline, out);
    else if (needs_lines(v)) object_into(v, line, newline, out);
    else out += compact(v);
}

}  // namespace

nlohmann::ordered_json json_number(double v) {
    if (std::isnan(v) || std::isinf(v)) return number(v);
    if (v == std::floor(v) && std::fabs(v) < 0x1p53 && !(v == 0 && std::signbit(v))) return int64_t(v);
    return v;
}

std::string format_case(const nlohmann::ordered_json& c, const std::string& indent,
                        const std::string& newline) {
    std::string out = indent;
    object_into(c, indent, newline, out);
    return out;
}

std::string format_json(const nlohmann::ordered_json& value) {
    std::string out;
    format_into(value, 0, out);
    return out + "\n";
}

nlohmann::ordered_json case_json(const std::string& name, const CheckSpec& spec, const Inputs<double>& inputs,
                         const Expectations& expected, const std::string& note) {
    const ConvProblem& p = spec.problem;
    nlohmann::ordered_json c = {
        {"name", name},
        {"op", to_string(spec.op)},
        {"pass", to_string(spec.pass)},
        {"layout", to_string(p.layout)},
        {"dtype", to_string(spec.dtype)},
        {"kernel", {p.kh, p.kw}},
        {"stride", {p.sh, p.sw}},
        {"pad", {p.pt, p.pl, p.pb, p.pr}},
        {"dilation", {p.dh, p.dw}},
    };
    const Direction& d = direction_of(spec);
    if (d.has_weights()) c["weights_layout"] = to_string(p.weights_layout);
    if (d.has_weights() && p.g != 1) c["groups"] = p.g;
    if (spec.op == Op::avgpool2d) c["count_include_pad"] = p.alg == PoolAlg::avg_p;
    if (d.geometry == Geometry::pool && p.ceil_mode) c["ceil_mode"] = true;
    if (d.needs_x_shape()) {
        const Tensor<double> x(axis_order(p.layout), p.x_dims());
        c["x_shape"] = x.shape();
    }
    nlohmann::ordered_json in = nlohmann::ordered_json::object(), out = nlohmann::ordered_json::object();
    for (const auto& [n, t] : inputs) in[n] = tensor_json(t);
    for (const auto& [n, e] : expected) out[n] = tensor_json(e.value);
    c["inputs"] = std::move(in);
    c["expected"] = std::move(out);
    if (!note.empty()) c["note"] = note;
    return c;
}

nlohmann::ordered_json file_json(const std::string& source, nlohmann::ordered_json cases) {
    return {{"format", "convconf-golden/1"}, {"source", source}, {"cases", std::move(cases)}};
}

std::filesystem::path write_new_file(const std::string& option, const std::filesystem::path& dir,
                                     const std::string& stem, const nlohmann::ordered_json& content) {
    return convconf::write_new_file(option, dir, stem, ".json", format_json(content));
}

}  // namespace convconf::golden
