// convconf golden add: a golden case from arrays as numpy prints them (issue 7 part 3), added
// to a golden file without disturbing anything already in it (issue 8).
//
// The case is built as the JSON a person would write, then the whole resulting file is read
// by the golden loader, so every rule of the format applies and its errors, with their JSON
// pointers, are what the user sees; then the case runs through naive, which must agree with
// the printed values unless --force.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "impl/core/descriptor.hpp"
#include "reference/registry.hpp"
#include "reference/golden/edit.hpp"
#include "reference/golden/golden.hpp"
#include "reference/golden/schema.hpp"
#include "reference/golden/writer.hpp"
#include "reference/input.hpp"
#include "reference/numpy_text.hpp"
#include "reference/output_file.hpp"
#include "tools/cmd_golden.hpp"

namespace convconf::cli {
namespace {

using ordered_json = nlohmann::ordered_json;
using Ints = std::vector<int64_t>;

// NAME=PATH of --input and --expected.
struct TensorArg {
    std::string flag;  // "--input" or "--expected"
    std::string name, path;
    std::string text() const { return flag + " " + name + "=" + path; }
};

struct Request {
    std::string file, name, note, source;
    Op op = Op::conv2d;
    Pass pass = Pass::forward;
    std::optional<Layout> layout;
    std::optional<WeightsLayout> weights_layout;
    std::optional<DType> dtype;
    std::optional<Ints> kernel, stride, pad, dilation, x_shape;  // as the flags gave them
    std::optional<bool> count_include_pad, ceil_mode;            // version 1.1's, as given
    std::optional<int64_t> groups;
    std::optional<std::string> descriptor;
    std::optional<ConvProblem> described;  // the descriptor's problem
    std::vector<TensorArg> inputs, expected;
    std::optional<Tolerance> tolerance;
    bool force = false;
};

bool valid_name(const std::string& s) {
    return !s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
}

// "2,2" -> {2, 2}: exactly one of `counts` comma-separated integers, or a UsageError naming the flag.
Ints integers(const std::string& flag, const std::string& text, std::initializer_list<size_t> counts,
              const char* example) {
    Ints out;
    bool ok = true;
    for (size_t start = 0; ok;) {
        const size_t comma = std::min(text.find(',', start), text.size());
        int64_t v = 0;
        const auto [end, error] = std::from_chars(text.data() + start, text.data() + comma, v);
        ok = error == std::errc() && end == text.data() + comma && comma > start;
        out.push_back(v);
        if (comma == text.size()) break;
        start = comma + 1;
    }
    if (!ok || std::find(counts.begin(), counts.end(), out.size()) == counts.end())
        throw UsageError(flag + ": expected " + example + ", got \"" + text + "\"");
    return out;
}

template <class F>
auto parsed(F parse, const std::string& text, const std::string& flag) {
    try {
        return parse(text, flag);
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
    }
}

std::vector<TensorArg> tensor_args(Args& args, const std::string& flag) {
    std::vector<TensorArg> out;
    for (const std::string& v : args.values(flag)) {
        const size_t eq = v.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
            throw UsageError(flag + ": expected NAME=PATH (e.g. x=x.txt, or x=- for stdin), got \"" + v +
                             "\"");
        out.push_back({flag, v.substr(0, eq), v.substr(eq + 1)});
    }
    return out;
}

std::string join(const std::vector<std::string_view>& names) {
    std::string s;
    for (auto n : names) s += (s.empty() ? "" : ", ") + std::string(n);
    return s.empty() ? "none" : s;
}

// The names the op and pass take (golden-format.md), every required one present, none twice.
void check_names(const std::vector<TensorArg>& given, const std::vector<std::string_view>& required,
                 const std::vector<std::string_view>& optional, const std::string& what, const Request& r) {
    const std::string op_pass = std::string(to_string(r.op)) + " " + std::string(to_string(r.pass));
    for (size_t i = 0; i < given.size(); ++i) {
        const auto& n = given[i].name;
        const bool known = std::find(required.begin(), required.end(), n) != required.end() ||
                           std::find(optional.begin(), optional.end(), n) != optional.end();
        if (!known)
            throw UsageError(given[i].text() + ": " + op_pass + " has no " + what + " \"" + n + "\" (its " +
                             what + "s: " + join(required) +
                             (optional.empty() ? "" : "; optional: " + join(optional)) + ")");
        for (size_t j = 0; j < i; ++j)
            if (given[j].name == n) throw UsageError(given[i].flag + ": " + n + " given twice");
    }
    for (auto n : required)
        if (std::none_of(given.begin(), given.end(), [&](const TensorArg& a) { return a.name == n; }))
            throw UsageError(op_pass + " needs " + given.front().flag + " " + std::string(n) + "=PATH");
}

// x's shape in `layout`'s axis order, as x_shape is written.
Ints x_shape_of(const ConvProblem& p, Layout layout) {
    const auto perm = physical_to_logical(axis_order(layout));
    const Dims4 d = p.x_dims();
    return {d[perm[0]], d[perm[1]], d[perm[2]], d[perm[3]]};
}

// The flag and the descriptor must say the same thing where both say it.
void agree(const std::optional<Ints>& flag_value, const Ints& described, const char* flag, const Request& r) {
    if (!flag_value || !r.described) return;
    Ints given = *flag_value;
    if (std::string(flag) == "--pad" && given.size() == 2) given = {given[0], given[1], given[0], given[1]};
    if (given == described) return;
    auto list = [](const Ints& v) {
        std::string s;
        for (int64_t e : v) s += (s.empty() ? "" : ",") + std::to_string(e);
        return s;
    };
    const std::string d = list(described);
    throw UsageError(std::string(flag) + " " + list(*flag_value) + " disagrees with the descriptor \"" +
                     *r.descriptor + "\", which gives " + d +
                     (std::string(flag) == "--dilation" ? " (1 is dense; the descriptor's dh0 is 1)" : ""));
}

// --flag true|false.
bool boolean(const std::string& flag, const std::string& text) {
    if (text == "true") return true;
    if (text == "false") return false;
    throw UsageError(flag + ": expected true or false, got \"" + text + "\"");
}

Request parse_request(Args& args) {
    Request r;
    const std::string count_include_pad = args.value("--count-include-pad", "");
    const std::string ceil_mode = args.value("--ceil-mode", "");
    const std::string groups = args.value("--groups", "");
    r.file = args.value("--file", "");
    r.name = args.value("--name", "");
    const std::string op = args.value("--op", ""), pass = args.value("--pass", "");
    const std::string layout = args.value("--layout", "");
    std::string weights_layout = args.value("--weights-layout", "");
    const std::string wlayout = args.value("--wlayout", "");
    const std::string dtype = args.value("--dtype", "");
    const std::string kernel = args.value("--kernel", ""), stride = args.value("--stride", "");
    const std::string pad = args.value("--pad", ""), dilation = args.value("--dilation", "");
    const std::string x_shape = args.value("--x-shape", ""), tolerance = args.value("--tolerance", "");
    r.note = args.value("--note", "");
    r.source = args.value("--source", "");
    r.force = args.flag("--force");
    r.inputs = tensor_args(args, "--input");
    r.expected = tensor_args(args, "--expected");
    const std::vector<std::string> positional = args.positional();

    if (r.file.empty()) throw UsageError("--file FILE is required (the golden file to add the case to)");
    if (r.name.empty()) throw UsageError("--name NAME is required");
    if (!valid_name(r.name)) throw UsageError("--name: a case name is [a-z0-9_]+, got \"" + r.name + "\"");
    if (op.empty() || pass.empty()) throw UsageError("--op and --pass are required");
    r.op = parsed(parse_op, op, "--op");
    r.pass = parsed(parse_pass, pass, "--pass");
    if (!is_valid_pass(r.op, r.pass))
        throw UsageError("--pass: " + std::string(to_string(r.op)) + " has no pass " + pass);
    if (!layout.empty()) r.layout = parsed(parse_layout, layout, "--layout");
    if (!wlayout.empty()) {
        if (!weights_layout.empty()) throw UsageError("--wlayout is --weights-layout: give one");
        weights_layout = wlayout;
    }
    if (!weights_layout.empty()) {
        if (!direction_of(r.op, r.pass).has_weights()) throw UsageError("--weights-layout: only conv2d has weights");
        r.weights_layout = parsed(parse_weights_layout, weights_layout, "--weights-layout");
    }
    if (!dtype.empty()) r.dtype = parsed(parse_dtype, dtype, "--dtype");
    if (!kernel.empty()) r.kernel = integers("--kernel", kernel, {2}, "KH,KW (e.g. 2,2)");
    if (!stride.empty()) r.stride = integers("--stride", stride, {2}, "SH,SW (e.g. 2,2)");
    if (!pad.empty()) r.pad = integers("--pad", pad, {2, 4}, "PH,PW or T,L,B,R (e.g. 1,1 or 0,0,1,1)");
    if (!dilation.empty()) r.dilation = integers("--dilation", dilation, {2}, "DH,DW (1 is dense, e.g. 2,2)");
    if (!x_shape.empty())
        r.x_shape = integers("--x-shape", x_shape, {4}, "four extents in the layout's order (e.g. 1,1,4,4)");
    if (!tolerance.empty()) {
        const size_t comma = tolerance.find(',');
        if (comma == std::string::npos)
            throw UsageError("--tolerance: expected ABS,REL (e.g. 1e-6,0), got \"" + tolerance + "\"");
        r.tolerance = Tolerance{parse_real("--tolerance", tolerance.substr(0, comma), 0, false, "a finite number >= 0"),
                                parse_real("--tolerance", tolerance.substr(comma + 1), 0, false, "a finite number >= 0")};
    }
    const bool pooling = direction_of(r.op, r.pass).geometry == Geometry::pool;
    if (!count_include_pad.empty()) {
        if (r.op != Op::avgpool2d) throw UsageError("--count-include-pad: only avgpool2d has a divisor to count");
        r.count_include_pad = boolean("--count-include-pad", count_include_pad);
    }
    if (r.op == Op::avgpool2d && !r.count_include_pad)
        throw UsageError("avgpool2d needs --count-include-pad true|false (whether the padding counts in the divisor)");
    if (!ceil_mode.empty()) {
        if (!pooling) throw UsageError("--ceil-mode: only maxpool2d and avgpool2d have a ceil mode");
        r.ceil_mode = boolean("--ceil-mode", ceil_mode);
    }
    if (!groups.empty()) {
        if (r.op != Op::conv2d) throw UsageError("--groups: only conv2d has groups");
        r.groups = parse_integer("--groups", groups, 1);
    }
    if (positional.size() > 1) throw UsageError("one descriptor at most, got \"" + positional[1] + "\" too");
    if (!positional.empty()) {
        r.descriptor = positional.front();
        ConvProblem p;
        if (direction_of(r.op, r.pass).has_weights()) {
            p = parse_conv_descriptor(*r.descriptor).problem;  // DescriptorError names the token
        } else {
            static_cast<WindowProblem&>(p) = parse_pool_descriptor(*r.descriptor).problem;
        }
        r.described = p;
        if (r.ceil_mode && *r.ceil_mode != p.ceil_mode)
            throw UsageError(std::string("--ceil-mode ") + (*r.ceil_mode ? "true" : "false") + " disagrees with the descriptor \"" +
                             *r.descriptor + "\", which " + (p.ceil_mode ? "has" : "lacks") + " ceil1");
        if (r.groups && *r.groups != p.g)
            throw UsageError("--groups " + std::to_string(*r.groups) + " disagrees with the descriptor \"" +
                             *r.descriptor + "\", which gives g" + std::to_string(p.g));
        agree(r.kernel, {p.kh, p.kw}, "--kernel", r);
        agree(r.stride, {p.sh, p.sw}, "--stride", r);
        agree(r.pad, {p.pt, p.pl, p.pb, p.pr}, "--pad", r);
        agree(r.dilation, {p.dh, p.dw}, "--dilation", r);
        agree(r.x_shape, x_shape_of(p, r.layout.value_or(Layout::nchw)), "--x-shape", r);
    }
    const bool needs_kernel = direction_of(r.op, r.pass).needs_kernel();
    if (needs_kernel && !r.kernel && !r.described)
        throw UsageError(std::string(to_string(r.op)) + " " + std::string(to_string(r.pass)) +
                         " needs --kernel KH,KW (or a descriptor)");
    const bool needs_x_shape = direction_of(r.op, r.pass).needs_x_shape();
    if (needs_x_shape && !r.x_shape && !r.described)
        throw UsageError(std::string(to_string(r.op)) + " " + std::string(to_string(r.pass)) +
                         " needs --x-shape N,C,H,W (in the layout's order; or a descriptor)");
    const Signature& sig = signature(r.op, r.pass);
    if (r.inputs.empty()) throw UsageError("--input NAME=PATH is required (the arrays the op takes)");
    if (r.expected.empty()) throw UsageError("--expected NAME=PATH is required (the arrays numpy printed)");
    check_names(r.inputs, sig.inputs, sig.optional_inputs, "input", r);
    check_names(r.expected, sig.outputs, sig.optional_outputs, "output", r);
    int from_stdin = 0;
    for (const auto* list : {&r.inputs, &r.expected})
        for (const TensorArg& a : *list) from_stdin += a.path == "-";
    if (from_stdin > 1) throw UsageError("only one array can come from stdin (PATH -)");
    return r;
}

// A nested JSON array of `a`'s values in numpy's shape.
ordered_json nested(const NumpyArray& a, size_t depth, size_t& next) {
    if (depth == a.shape.size()) return golden::json_number(a.data[next++]);
    ordered_json out = ordered_json::array();
    for (int64_t i = 0; i < a.shape[depth]; ++i) out.push_back(nested(a, depth + 1, next));
    return out;
}

NumpyArray read_array(const TensorArg& a) {
    std::string text;
    if (a.path == "-") {
        text = read_standard_input(a.text());
    } else {
        text = read_input_file(a.path, a.flag + " " + a.name + "=");
    }
    NumpyArray array;
    try {
        array = parse_numpy(text, a.path == "-" ? "<stdin>" : a.path);
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(a.text() + ": " + e.what());
    }
    if (array.shape.empty())
        throw std::invalid_argument(a.text() + ": a scalar, where an array was expected");
    return array;
}

struct Array {
    const TensorArg* arg;
    NumpyArray value;
};

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s;
    for (int64_t e : shape) s += (s.empty() ? "" : ",") + std::to_string(e);
    return "[" + s + "]";
}

// With a descriptor, the problem is the descriptor's: every array must have the shape it
// gives (an expected col, any shape of col's element count).
void check_shapes_against_descriptor(const std::vector<Array>& arrays, const Request& r) {
    if (!r.described) return;
    CheckSpec spec;
    spec.op = r.op;
    spec.pass = r.pass;
    spec.problem = *r.described;
    spec.problem.layout = r.layout.value_or(Layout::nchw);
    spec.problem.weights_layout = r.weights_layout.value_or(WeightsLayout::oihw);
    if (r.count_include_pad) spec.problem.alg = *r.count_include_pad ? PoolAlg::avg_p : PoolAlg::avg_np;
    const auto shapes = golden::tensor_shapes(spec);
    auto count = [](const std::vector<int64_t>& s) {
        int64_t n = 1;
        for (int64_t e : s) n *= e;
        return n;
    };
    for (const Array& a : arrays) {
        const std::vector<int64_t>& want = shapes.at(a.arg->name);
        const bool any_col = a.arg->flag == "--expected" && a.arg->name == "col";
        if (any_col ? count(a.value.shape) == count(want) : a.value.shape == want) continue;
        throw std::runtime_error(
            a.arg->text() + ": shape " + shape_text(a.value.shape) + " disagrees with the descriptor \"" +
            *r.descriptor + "\" (" + layout_string(spec) + "), which " + (any_col ? "gives col " : "needs ") +
            shape_text(want) + (any_col ? " (an expected col may have any shape of as many elements)" : "") +
            (r.descriptor->find("mb") == std::string::npos && a.value.shape[0] != want[0]
                 ? " (a descriptor without mb has benchdnn's mb2)"
                 : "") +
            "; nothing written");
    }
}

Ints pad_json(const Ints& p) {
    if (p[0] == p[2] && p[1] == p[3]) return {p[0], p[1]};
    return p;
}

// The case as a person would write it: what the user gave, defaults left out, the fields
// the op requires written out.
ordered_json case_json(const Request& r, const std::vector<Array>& arrays) {
    ordered_json c = ordered_json::object();
    c["name"] = r.name;
    if (!r.note.empty()) c["note"] = r.note;
    c["op"] = to_string(r.op);
    c["pass"] = to_string(r.pass);
    if (r.layout && *r.layout != Layout::nchw) c["layout"] = to_string(*r.layout);
    if (r.weights_layout && *r.weights_layout != WeightsLayout::oihw)
        c["weights_layout"] = to_string(*r.weights_layout);
    if (r.dtype) c["dtype"] = to_string(*r.dtype);
    const std::optional<ConvProblem>& d = r.described;
    if (r.groups) c["groups"] = *r.groups;
    else if (d && d->g != 1) c["groups"] = d->g;
    const bool needs_kernel = direction_of(r.op, r.pass).needs_kernel();
    if (r.kernel)
        c["kernel"] = *r.kernel;
    else if (needs_kernel)
        c["kernel"] = Ints{d->kh, d->kw};
    if (r.stride) {
        c["stride"] = *r.stride;
    } else if (d) {
        const Ints fallback = direction_of(r.op, r.pass).geometry == Geometry::pool ? Ints{d->kh, d->kw} : Ints{1, 1};
        if (Ints{d->sh, d->sw} != fallback) c["stride"] = Ints{d->sh, d->sw};
    }
    if (r.pad)
        c["pad"] = *r.pad;
    else if (d && (d->pt || d->pl || d->pb || d->pr))
        c["pad"] = pad_json({d->pt, d->pl, d->pb, d->pr});
    if (r.dilation)
        c["dilation"] = *r.dilation;
    else if (d && (d->dh != 1 || d->dw != 1))
        c["dilation"] = Ints{d->dh, d->dw};
    const bool needs_x_shape = direction_of(r.op, r.pass).needs_x_shape();
    if (r.x_shape) {
        c["x_shape"] = *r.x_shape;
    } else if (needs_x_shape) {
        c["x_shape"] = x_shape_of(*d, r.layout.value_or(Layout::nchw));
    }
    if (r.count_include_pad) c["count_include_pad"] = *r.count_include_pad;
    if (r.ceil_mode ? *r.ceil_mode : d && d->ceil_mode) c["ceil_mode"] = true;
    if (r.tolerance) c["tolerance"] = {{"abs", r.tolerance->abs}, {"rel", r.tolerance->rel}};
    c["inputs"] = ordered_json::object();
    c["expected"] = ordered_json::object();
    for (const Array& a : arrays) {
        size_t next = 0;
        c[a.arg->flag == "--input" ? "inputs" : "expected"][a.arg->name] = nested(a.value, 0, next);
    }
    return c;
}

// Where a value at `pointer` (within the case) came from on the command line.
std::string origin(const std::string& pointer, const Request& r) {
    auto under = [&](const std::string& prefix) {
        return pointer == prefix || pointer.rfind(prefix + "/", 0) == 0;
    };
    for (const auto* list : {&r.inputs, &r.expected})
        for (const TensorArg& a : *list)
            if (under((a.flag == "--input" ? "/inputs/" : "/expected/") + a.name)) return a.text();
    const std::pair<const char*, const std::optional<Ints>*> geometry[] = {{"kernel", &r.kernel},
                                                                           {"stride", &r.stride},
                                                                           {"pad", &r.pad},
                                                                           {"dilation", &r.dilation},
                                                                           {"x_shape", &r.x_shape}};
    for (const auto& [field, flag] : geometry)
        if (under(std::string("/") + field)) {
            if (flag->has_value())
                return field == std::string("x_shape") ? "--x-shape" : "--" + std::string(field);
            if (r.descriptor) return "the descriptor " + *r.descriptor;
        }
    if (under("/tolerance")) return "--tolerance";
    if (under("/groups")) return r.groups ? "--groups" : r.descriptor ? "the descriptor " + *r.descriptor : "";
    return "";
}

// The loader's error, with the command-line argument the offending value came from.
[[noreturn]] void refuse(const golden::GoldenError& e, const std::string& case_pointer, const Request& r) {
    std::string message = e.what();
    if (e.pointer().rfind(case_pointer, 0) == 0) {
        const std::string from = origin(e.pointer().substr(case_pointer.size()), r);
        if (!from.empty()) message += " (from " + from + ")";
    }
    throw std::runtime_error(message + "; nothing written");
}

// The descriptor's problem must be the one the arrays make: each field compared, reported
// at the JSON value the case took it from.
void check_against_descriptor(const golden::Case& c, const Request& r) {
    if (!r.described) return;
    const ConvProblem& d = *r.described;
    const ConvProblem& p = c.problem;
    const std::pair<const char*, std::pair<int64_t, int64_t>> fields[] = {
        {"mb", {p.mb, d.mb}}, {"ic", {p.ic, d.ic}}, {"ih", {p.ih, d.ih}}, {"iw", {p.iw, d.iw}},
        {"oc", {p.oc, d.oc}}, {"kh", {p.kh, d.kh}}, {"kw", {p.kw, d.kw}}, {"sh", {p.sh, d.sh}},
        {"sw", {p.sw, d.sw}}, {"pt", {p.pt, d.pt}}, {"pl", {p.pl, d.pl}}, {"pb", {p.pb, d.pb}},
        {"pr", {p.pr, d.pr}}, {"dh", {p.dh, d.dh}}, {"dw", {p.dw, d.dw}}};
    for (const auto& [field, values] : fields) {
        if (std::string(field) == "oc" && !direction_of(c.op, c.pass).has_weights()) continue;
        if (values.first == values.second) continue;
        const auto it = c.field_pointer.find(field);
        const std::string where = it == c.field_pointer.end() ? "" : it->second;
        std::string message = std::string(field) + " is " + std::to_string(values.first) +
                              " here, but the descriptor \"" + *r.descriptor + "\" gives " +
                              std::to_string(values.second);
        if (std::string(field) == "mb" && r.descriptor->find("mb") == std::string::npos)
            message += " (benchdnn's default when mb is not written)";
        refuse(golden::GoldenError(c.file, c.pointer + where, message), c.pointer, r);
    }
}

// A mismatch report without its repro line, for a case that was not written.
std::string without_repro(const std::string& detail) {
    std::string out;
    size_t start = 0;
    while (start < detail.size()) {
        size_t end = detail.find('\n', start);
        end = end == std::string::npos ? detail.size() : end + 1;
        const std::string line = detail.substr(start, end - start);
        if (line.rfind("  repro: convconf golden ", 0) != 0) out += line;
        start = end;
    }
    return out;
}

int cmd_add(Args& args) {
    const Request r = parse_request(args);
    const OutputFile out("--file", r.file);  // a file we could not write is refused before any work

    std::vector<Array> arrays;
    for (const auto* list : {&r.inputs, &r.expected})
        for (const TensorArg& a : *list) arrays.push_back({&a, read_array(a)});
    check_shapes_against_descriptor(arrays, r);

    // From reading the file to replacing it, no other convconf writes it: two adds started
    // together take turns, and the second appends to the first's result.
    const OutputFile::Lock lock(out);
    const std::optional<std::string>& current = lock.content();
    // The file as it is: it must load (a broken file is the user's to fix, not ours to
    // rewrite), and must not have a case of this name already.
    size_t old_count = 0;
    if (current) {
        if (!r.source.empty())
            throw UsageError("--source: " + r.file + " exists; its source stays as written");
        if (current->empty()) throw InputError(input_name("--file", r.file) + ": is empty");
        golden::File existing;
        try {
            existing = golden::load_string(*current, r.file);
        } catch (const golden::GoldenError& e) {
            throw std::runtime_error(std::string(e.what()) +
                                     "; the file must load before a case is added to it");
        }
        old_count = existing.cases.size();
        for (const golden::Case& c : existing.cases)
            if (c.name == r.name)
                throw std::runtime_error(r.file + ": (" + c.pointer + "/name) a case named \"" + r.name +
                                         "\" exists already; choose another --name (nothing written)");
    }
    const std::string source = !r.source.empty() ? r.source : "convconf golden add";
    const std::string before = current ? *current : golden::empty_file_text(source);

    const ordered_json c = case_json(r, arrays);
    const std::string after = golden::append_case(before, c);

    // The whole file through the loader: every rule of the format, with its pointers.
    golden::File file;
    const std::string case_pointer = "/cases/" + std::to_string(old_count);
    try {
        file = golden::load_string(after, r.file);
    } catch (const golden::GoldenError& e) {
        refuse(e, case_pointer, r);
    }
    if (file.cases.size() != old_count + 1 || file.cases.back().name != r.name)
        throw std::logic_error("golden add: the new file does not hold the old cases plus " + r.name);
    const golden::Case& added = file.cases.back();
    check_against_descriptor(added, r);
    const golden::Schema schema = golden::Schema::load(golden::default_schema_path());
    for (const golden::SchemaViolation& v : schema.violations(golden::parse_json(after, r.file)))
        throw std::runtime_error(r.file + ": " + (v.pointer.empty() ? "" : "(" + v.pointer + ") ") +
                                 v.message + " [golden/schema.json]; nothing written");

    // naive must agree with what numpy printed.
    bool naive_agrees = true;
    for (DType dt : added.dtypes) {
        const CheckResult result = golden::run_case(added, naive_variant(), dt);
        std::printf("%-8s %s %s naive %s\n", std::string(to_string(result.status)).c_str(), r.file.c_str(),
                    r.name.c_str(), std::string(to_string(dt)).c_str());
        if (result.status == Status::skipped) std::printf("  reason: %s\n", result.detail.c_str());
        if (result.status == Status::failed) {
            naive_agrees = false;
            std::cout << (r.force ? result.detail : without_repro(result.detail));
        }
    }
    std::fflush(stdout);
    if (!naive_agrees && !r.force) {
        std::fprintf(
            stderr,
            "convconf golden add: refused: naive disagrees with the expected values (above); nothing "
            "written.\n"
            "  Printed values rounded? Give --tolerance ABS,REL (or --dtype f64). Sure naive is wrong?\n"
            "  --force writes the case anyway.\n");
        return 1;
    }
    lock.replace(after);

    CheckSpec spec = golden::check_spec(added, added.dtypes.front());
    std::printf("added    %s to %s%s: %s %s %s %s\n", r.name.c_str(), r.file.c_str(),
                current ? "" : " (new file)", std::string(to_string(added.op)).c_str(),
                std::string(to_string(added.pass)).c_str(), descriptor(spec).c_str(),
                layout_string(spec).c_str());
    if (!naive_agrees) std::printf("warning  naive disagrees with this case (written because of --force)\n");
    std::printf("next     convconf golden --file %s --case %s   (every variant)\n", r.file.c_str(),
                r.name.c_str());
    return 0;
}

}  // namespace

const Command kGoldenAdd{
    "golden add", "a golden case from numpy's printed arrays",
    "usage: convconf golden add --file FILE --name NAME --op OP --pass PASS\n"
    "           --input NAME=PATH... --expected NAME=PATH... [DESCRIPTOR]\n"
    "           [--layout NCHW|NHWC] [--weights-layout OIHW|HWIO] [--dtype f32|f64]\n"
    "           [--kernel KH,KW] [--stride SH,SW] [--pad PH,PW|T,L,B,R] [--dilation DH,DW]\n"
    "           [--x-shape N,C,H,W] [--count-include-pad true|false] [--ceil-mode true|false]\n"
    "           [--groups G]\n"
    "           [--note TEXT] [--tolerance ABS,REL] [--source TEXT] [--force]\n"
    "  Adds a case to the golden FILE (created if absent, with --source or a default source)\n"
    "  from arrays as numpy prints them ([[13. 17.] [29. 33.]], array([[...]]), with or\n"
    "  without commas, nan, inf, -0.), read from files or from stdin (PATH -, once).\n"
    "  The arrays are in the case's layout order; their shapes give the problem with the\n"
    "  geometry flags, or a benchdnn DESCRIPTOR gives it (its dilation counts from 0: dh1 is\n"
    "  --dilation 2,2); flags that disagree with the descriptor are an error. OP and PASS,\n"
    "  and the names the arrays take, are the format's (../shared/golden-format.md):\n"
    "  conv2d forward x w [b] -> y; backward_data w dy (+ x shape) -> dx; backward_weights\n"
    "  x dy (+ kernel) -> dw [db]; maxpool2d forward x -> y [argmax]; backward x dy -> dx;\n"
    "  avgpool2d (--count-include-pad required) forward x -> y; backward dy (+ x shape) -> dx;\n"
    "  im2col forward x -> col; col2im forward col (+ x shape) -> x. Ceil mode: --ceil-mode\n"
    "  true, or ceil1 in the descriptor. Groups (conv2d): --groups G, or the descriptor's g;\n"
    "  w is then [oc, ic/G, kh, kw] in OIHW.\n"
    "  Refused, with nothing written: a file that does not load, a name that is not\n"
    "  [a-z0-9_]+ or that the file has, shapes that disagree with the problem (the loader's\n"
    "  message with the JSON pointer), and expected values naive disagrees with (exit 1,\n"
    "  with naive's mismatch report; --force writes the case anyway and says so), and a\n"
    "  FILE that is read-only or has several hard links (exit 2). The file is replaced\n"
    "  atomically (temporary file, then rename; a symlink's file, the link kept), its mode\n"
    "  and other bytes kept; adds to one file take turns (a lock on FILE.lock beside it).\n"
    "examples:\n"
    "  convconf golden add --file mine.json --name conv_pad1 --op conv2d --pass forward --pad 1,1 \\\n"
    "      --input x=x.txt --input w=w.txt --input b=b.txt --expected y=- < y.txt\n"
    "  convconf golden add --file mine.json --name pool_k2 --op maxpool2d --pass forward \\\n"
    "      mb1ic1ih4kh2sh2 --input x=x.txt --expected y=y.txt --note 'In [7]: pool.forward(x)'\n",
    cmd_add};

}  // namespace convconf::cli
