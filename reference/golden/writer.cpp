#include "reference/golden/writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>

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

}  // namespace

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
    if (spec.op == Op::conv2d) c["weights_layout"] = to_string(p.weights_layout);
    if ((spec.op == Op::conv2d && spec.pass == Pass::backward_data) || spec.op == Op::col2im) {
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

std::filesystem::path write_new_file(const std::filesystem::path& dir, const std::string& stem,
                                     const nlohmann::ordered_json& content) {
    std::filesystem::create_directories(dir);
    const std::string text = format_json(content);
    for (int n = 1; n < 100000; ++n) {
        const auto path = dir / (stem + (n == 1 ? "" : "-" + std::to_string(n)) + ".json");
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            if (errno == EEXIST) continue;
            throw std::runtime_error(path.string() + ": cannot create: " + std::strerror(errno));
        }
        size_t done = 0;
        while (done < text.size()) {
            const ssize_t w = ::write(fd, text.data() + done, text.size() - done);
            if (w < 0) {
                const int err = errno;
                ::close(fd);
                throw std::runtime_error(path.string() + ": write failed: " + std::strerror(err));
            }
            done += size_t(w);
        }
        if (::close(fd) != 0) throw std::runtime_error(path.string() + ": close failed: " + std::strerror(errno));
        return path;
    }
    throw std::runtime_error(dir.string() + ": no free name for " + stem);
}

}  // namespace convconf::golden
