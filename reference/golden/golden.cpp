// The loader of format convconf-golden/1. Strict: a typo must not pass silently, so every
// object's fields are checked against the contract and every shape against the problem.
#include "reference/golden/golden.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <functional>
#include <new>
#include <set>

#include <nlohmann/json.hpp>

#if !JSON_DIAGNOSTICS
#error "JSON_DIAGNOSTICS must be 1 (a compile definition of convconf_golden) so errors carry the JSON pointer"
#endif

#ifndef CONVCONF_GOLDEN_DIR
#error "CONVCONF_GOLDEN_DIR must name the source tree's golden/ directory"
#endif

namespace convconf::golden {

GoldenError::GoldenError(const std::string& file, const std::string& pointer,
                         const std::string& message)
    : std::runtime_error(file + ": " + (pointer.empty() ? "" : "(" + pointer + ") ") + message),
      pointer_(pointer) {}

namespace {

using json = nlohmann::json;

constexpr std::string_view kFormat = "convconf-golden/1";
constexpr int64_t kMaxElements = kMaxTensorElements;  // reference/input.hpp

std::string escape_key(std::string_view key) {
    std::string out;
    for (char ch : key) out += ch == '~' ? "~0" : ch == '/' ? "~1" : std::string(1, ch);
    return out;
}

// A JSON value with its pointer, so that our own errors name it the way nlohmann's
// diagnostics do. Never copy the json itself: JSON_DIAGNOSTICS finds a value's pointer
// through its parents, which only the parsed document has.
struct Node {
    const json& j;
    std::string pointer;
    const std::string& file;

    [[noreturn]] void fail(const std::string& message) const { throw GoldenError(file, pointer, message); }

    bool has(std::string_view key) const { return j.contains(key); }
    Node at(std::string_view key) const {
        if (!j.contains(key)) fail("missing required field \"" + std::string(key) + "\"");
        return {j.at(std::string(key)), pointer + "/" + escape_key(key), file};
    }
    Node at(size_t i) const { return {j.at(i), pointer + "/" + std::to_string(i), file}; }

    void require_object() const {
        if (!j.is_object()) fail(std::string("type must be object, but is ") + j.type_name());
    }
    void require_array() const {
        if (!j.is_array()) fail(std::string("type must be array, but is ") + j.type_name());
    }
    // Every field must be one of `known`: a misspelt optional field would otherwise be
    // silently ignored and its default used.
    void require_known_fields(const std::vector<std::string_view>& known) const {
        require_object();
        for (const auto& item : j.items()) {
            if (std::find(known.begin(), known.end(), item.key()) != known.end()) continue;
            std::string list;
            for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
            Node{item.value(), pointer + "/" + escape_key(item.key()), file}.fail(
                "unknown field \"" + item.key() + "\" (expected one of " + list + ")");
        }
    }
};

std::string text(const Node& n) { return n.j.get<std::string>(); }

bool boolean(const Node& n) {
    if (!n.j.is_boolean()) n.fail("type must be true or false, but is " + n.j.dump());
    return n.j.get<bool>();
}

int64_t integer(const Node& n) {
    if (n.j.is_number_float()) n.fail("type must be an integer, but is " + n.j.dump());
    if (n.j.is_number_unsigned() && n.j.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
        n.fail("integer " + n.j.dump() + " is out of range");
    return n.j.get<int64_t>();
}

// A JSON number, or one of the strings "nan", "inf", "-inf".
double number(const Node& n) {
    if (n.j.is_string()) {
        const std::string s = text(n);
        if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
        if (s == "inf") return std::numeric_limits<double>::infinity();
        if (s == "-inf") return -std::numeric_limits<double>::infinity();
        n.fail("the string \"" + s + "\" is not a number (only \"nan\", \"inf\", \"-inf\" are)");
    }
    return n.j.get<double>();
}

std::vector<int64_t> integers(const Node& n, std::initializer_list<size_t> sizes) {
    n.require_array();
    if (std::find(sizes.begin(), sizes.end(), n.j.size()) == sizes.end()) {
        std::string allowed;
        for (size_t s : sizes) allowed += (allowed.empty() ? "" : " or ") + std::to_string(s);
        n.fail("must have " + allowed + " elements, has " + std::to_string(n.j.size()));
    }
    std::vector<int64_t> v;
    for (size_t i = 0; i < n.j.size(); ++i) v.push_back(integer(n.at(i)));
    return v;
}

// "Every dimension is at least 1" (golden-format.md).
std::vector<int64_t> shape_of(const Node& n) {
    n.require_array();
    if (n.j.empty()) n.fail("a shape needs at least one extent");
    std::vector<int64_t> shape;
    int64_t count = 1;
    for (size_t i = 0; i < n.j.size(); ++i) {
        const int64_t e = integer(n.at(i));
        if (e < 1) n.at(i).fail("every extent must be >= 1, got " + std::to_string(e));
        if (__builtin_mul_overflow(count, e, &count)) n.fail("element count overflows 64 bits");
        shape.push_back(e);
    }
    return shape;
}

int64_t element_count(const std::vector<int64_t>& shape) {
    int64_t count = 1;
    for (int64_t e : shape) count *= e;  // shape_of() ruled out overflow
    return count;
}

// A TENSOR or a SHAPE as written: its shape, and its values unless it is a SHAPE.
struct RawTensor {
    std::vector<int64_t> shape;
    std::optional<std::vector<double>> values;
};

void read_nested(const Node& n, size_t depth, const std::vector<int64_t>& shape,
                 std::vector<double>& out) {
    if (depth == shape.size()) {
        if (n.j.is_array())
            n.fail("non-rectangular nested array: a number was expected here, at depth " +
                   std::to_string(depth) + " like the first element");
        out.push_back(number(n));
        return;
    }
    if (!n.j.is_array() || int64_t(n.j.size()) != shape[depth])
        n.fail("non-rectangular nested array: expected an array of " + std::to_string(shape[depth]) +
               " elements here (as the first array at this depth), but is " +
               (n.j.is_array() ? "an array of " + std::to_string(n.j.size()) : std::string(n.j.type_name())));
    for (size_t i = 0; i < n.j.size(); ++i) read_nested(n.at(i), depth + 1, shape, out);
}

RawTensor read_nested(const Node& n) {
    RawTensor t;
    // The shape is read off the first element at each depth; read_nested checks the rest.
    const json* first = &n.j;
    std::string pointer = n.pointer;
    int64_t count = 1;  // saturates: extents multiply past int64 in a few bytes of nesting
    while (first->is_array()) {
        if (first->empty()) Node{*first, pointer, n.file}.fail("empty array: every extent must be >= 1");
        if (t.shape.size() == kMaxRank)
            Node{*first, pointer, n.file}.fail("nested deeper than " + std::to_string(kMaxRank) +
                                               " arrays: a tensor has at most " +
                                               std::to_string(kMaxRank) + " dimensions");
        t.shape.push_back(int64_t(first->size()));
        if (__builtin_mul_overflow(count, t.shape.back(), &count)) count = kMaxElements + 1;
        first = &(*first)[0];
        pointer += "/0";
    }
    if (count > kMaxElements) n.fail("too many elements for a golden tensor (at most " + std::to_string(kMaxElements) + ")");
    t.values.emplace();
    read_nested(n, 0, t.shape, *t.values);
    return t;
}

std::vector<double> read_data(const Node& n, const std::vector<int64_t>& shape) {
    n.require_array();
    const int64_t want = element_count(shape);
    if (int64_t(n.j.size()) != want)
        n.fail("has " + std::to_string(n.j.size()) + " values, but shape " + shape_text(shape) +
               " holds " + std::to_string(want));
    std::vector<double> v;
    for (size_t i = 0; i < n.j.size(); ++i) v.push_back(number(n.at(i)));
    return v;
}

std::vector<double> read_arange(const Node& n, const std::vector<int64_t>& shape) {
    n.require_known_fields({"start", "step"});
    const double start = n.has("start") ? number(n.at("start")) : 0.0;
    const double step = n.has("step") ? number(n.at("step")) : 1.0;
    std::vector<double> v(size_t(element_count(shape)));
    for (size_t i = 0; i < v.size(); ++i) v[i] = start + double(i) * step;
    return v;
}

// shape_only: a SHAPE ({"shape": [...]} alone) is allowed (expected outputs only).
RawTensor read_tensor(const Node& n, bool shape_only) {
    if (n.j.is_array()) return read_nested(n);
    if (!n.j.is_object())
        n.fail(std::string("a tensor is a nested array or an object with \"shape\", but this is ") +
               n.j.type_name());
    n.require_known_fields({"shape", "data", "arange", "fill"});
    RawTensor t{shape_of(n.at("shape")), std::nullopt};
    const int given = int(n.has("data")) + int(n.has("arange")) + int(n.has("fill"));
    if (given > 1) n.fail("give one of \"data\", \"arange\", \"fill\", not several");
    if (given == 0) {
        if (!shape_only)
            n.fail("an input needs values: \"data\", \"arange\" or \"fill\" beside \"shape\"");
        return t;
    }
    if (element_count(t.shape) > kMaxElements) n.fail("too many elements for a golden tensor (at most " + std::to_string(kMaxElements) + ")");
    if (n.has("data")) t.values = read_data(n.at("data"), t.shape);
    else if (n.has("arange")) t.values = read_arange(n.at("arange"), t.shape);
    else t.values.emplace(size_t(element_count(t.shape)), number(n.at("fill")));
    return t;
}

// The axis order a tensor of this contract name is written in, and the rank it must have
// (0: any, for an expected col).
struct WrittenAs {
    AxisOrder order;
    int rank;
};

WrittenAs written_as(std::string_view name, bool output, const ConvProblem& p) {
    if (name == "w" || name == "dw") return {axis_order(p.weights_layout), 4};
    if (name == "b" || name == "db") return {AxisOrder::plain, 1};
    if (name == "col") return {AxisOrder::plain, output ? 0 : 2};
    return {axis_order(p.layout), 4};  // x, y, dx, dy, argmax
}

// A tensor whose storage order is `order` and whose storage shape is `shape`.
Tensor<double> make_tensor(AxisOrder order, const std::vector<int64_t>& shape,
                           std::vector<double> values) {
    Tensor<double> t = convconf::make_tensor<double>({order, shape});
    t.assign(values);
    return t;
}

// The logical (n, c, h, w) extents of a 4-D storage shape, without allocating a tensor.
Dims4 logical_dims(AxisOrder order, const std::vector<int64_t>& shape) {
    const auto perm = physical_to_logical(order);
    Dims4 dims{};
    for (int i = 0; i < 4; ++i) dims[perm[i]] = shape.at(size_t(i));
    return dims;
}

void require_rank(const Node& n, const RawTensor& t, const WrittenAs& role, std::string_view name) {
    if (role.rank != 0 && int(t.shape.size()) != role.rank)
        n.fail(std::string(name) + " must have rank " + std::to_string(role.rank) + " (" +
               std::string(to_string(role.order)) + "), but its shape is " + shape_text(t.shape));
}

// The object of named tensors `inputs` or `expected`, by the op and pass's signature.
template <class Store>
void read_named(const Node& n, const std::vector<std::string_view>& required,
                const std::vector<std::string_view>& optional, bool output, Case& c, Store store) {
    std::vector<std::string_view> known = required;
    known.insert(known.end(), optional.begin(), optional.end());
    n.require_known_fields(known);
    for (auto name : required) n.at(name);  // throws "missing required field"
    for (auto name : known) {
        if (!n.has(name)) continue;
        const Node t = n.at(name);
        const RawTensor raw = read_tensor(t, output);
        const WrittenAs role = written_as(name, output, c.problem);
        require_rank(t, raw, role, name);
        store(name, raw, role);
    }
}

void read_inputs(const Node& n, Case& c) {
    const Signature& sig = signature(c.op, c.pass);
    read_named(n, sig.inputs, sig.optional_inputs, false, c,
               [&](std::string_view name, const RawTensor& raw, const WrittenAs& role) {
                   c.inputs.emplace(name, make_tensor(role.order, raw.shape, *raw.values));
               });
    c.integer_data = c.nan_data = false;
    bool all_integer = true;
    for (const auto& [name, t] : c.inputs)
        for (double v : t.values()) {
            if (!std::isfinite(v)) {
                c.nan_data = true;
                // golden-format.md: "conv2d golden cases use finite values".
                if (c.op == Op::conv2d)
                    n.at(name).fail("conv2d golden cases use finite values; this input holds " +
                                    std::string(std::isnan(v) ? "NaN" : "an infinity"));
            }
            all_integer = all_integer && std::isfinite(v) && v == std::floor(v);
        }
    c.integer_data = all_integer;
}

void read_expected(const Node& n, Case& c) {
    const Signature& sig = signature(c.op, c.pass);
    read_named(n, sig.outputs, sig.optional_outputs, true, c,
               [&](std::string_view name, const RawTensor& raw, const WrittenAs& role) {
                   ExpectedOutput e{raw.shape, std::nullopt};
                   if (raw.values) e.value = make_tensor(role.rank == 0 ? AxisOrder::plain : role.order,
                                                         raw.shape, *raw.values);
                   c.expected.emplace(name, std::move(e));
               });
}

// The problem from the case's fields and its tensors' shapes. Each field's origin is kept
// so that validate() can report a ProblemError at the JSON value it came from.
void build_problem(const Node& n, Case& c) {
    ConvProblem& p = c.problem;
    auto from = [&](std::initializer_list<const char*> fields, const std::string& pointer) {
        for (const char* f : fields) c.field_pointer[f] = pointer;
    };
    const AxisOrder act = axis_order(p.layout);
    if (c.inputs.count("x")) {
        const Dims4 d = c.inputs.at("x").dims();
        p.mb = d[0], p.ic = d[1], p.ih = d[2], p.iw = d[3];
        from({"mb", "ic", "ih", "iw", "x"}, "/inputs/x");
    } else {
        // conv2d backward_data and col2im: x_shape is required, and is x's 4-D shape.
        const Node xs = n.at("x_shape");
        const std::vector<int64_t> x_shape = shape_of(xs);
        if (x_shape.size() != 4) xs.fail("must have 4 elements (x's shape), has " + std::to_string(x_shape.size()));
        const Dims4 d = logical_dims(act, x_shape);
        p.mb = d[0], p.ic = d[1], p.ih = d[2], p.iw = d[3];
        from({"mb", "ic", "ih", "iw", "x"}, "/x_shape");
    }
    if (n.has("kernel")) c.kernel = integers(n.at("kernel"), {2});
    const Direction& dir = direction_of(c.op, c.pass, c.bias());
    if (!dir.needs_kernel()) {
        const Dims4 w = c.inputs.at("w").dims();
        p.oc = w[0], p.kh = w[2], p.kw = w[3];
        from({"oc", "kh", "kw", "w"}, "/inputs/w");
    } else {
        if (!c.kernel) n.at("kernel");  // throws "missing required field"
        p.kh = (*c.kernel)[0], p.kw = (*c.kernel)[1];
        from({"kh", "kw"}, "/kernel");
        if (dir.has_weights()) {
            p.oc = c.inputs.at("dy").dims()[1];
            from({"oc", "w", "y"}, "/inputs/dy");
        }
    }
    // Stride defaults to 1, and to the kernel for maxpool2d and avgpool2d (golden-format.md).
    const bool pool = dir.geometry == Geometry::pool;
    std::vector<int64_t> stride = n.has("stride") ? integers(n.at("stride"), {2})
                                  : pool           ? std::vector<int64_t>{p.kh, p.kw}
                                                   : std::vector<int64_t>{1, 1};
    p.sh = stride[0], p.sw = stride[1];
    from({"sh", "sw"}, n.has("stride") || !pool ? "/stride" : "/kernel");
    if (n.has("pad")) {
        std::vector<int64_t> pad = integers(n.at("pad"), {2, 4});
        if (pad.size() == 2) pad = {pad[0], pad[1], pad[0], pad[1]};  // [ph, pw]
        p.pt = pad[0], p.pl = pad[1], p.pb = pad[2], p.pr = pad[3];
    }
    from({"pt", "pl", "pb", "pr"}, "/pad");
    if (n.has("dilation")) {
        const std::vector<int64_t> d = integers(n.at("dilation"), {2});
        p.dh = d[0], p.dw = d[1];
    }
    from({"dh", "dw"}, "/dilation");
    if (n.has("x_shape")) c.x_shape = shape_of(n.at("x_shape"));
    // Version 1.1. A field on an op it does not belong to, or count_include_pad missing on
    // avgpool2d, is an invalid problem (validate_problem), so that a case can expect_error it.
    // ceil_mode true is the only value that is not the default: a false one off the
    // poolings is still set, so that validation sees it.
    if (n.has("ceil_mode")) {
        p.ceil_mode = boolean(n.at("ceil_mode"));
        c.later_fields.push_back("ceil_mode");
    }
    from({"ceil_mode"}, "/ceil_mode");
    if (n.has("count_include_pad")) {
        p.alg = boolean(n.at("count_include_pad")) ? PoolAlg::avg_p : PoolAlg::avg_np;
        c.later_fields.push_back("count_include_pad");
    }
    from({"alg"}, "/count_include_pad");
    if (n.has("groups")) {
        p.g = integer(n.at("groups"));
        c.later_fields.push_back("groups");
    }
    from({"g"}, "/groups");
}

void read_tolerance(const Node& n, Case& c) {
    n.require_known_fields({"abs", "rel"});
    Tolerance t;
    for (auto [key, value] : {std::pair{"abs", &t.abs}, {"rel", &t.rel}}) {
        if (!n.has(key)) continue;
        *value = number(n.at(key));
        if (!(*value >= 0) || std::isinf(*value)) n.at(key).fail("must be a finite number >= 0");
    }
    c.tolerance = t;
}

bool valid_name(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
    });
}

template <class E, class Parse>
E read_enum(const Node& n, Parse parse) {
    try {
        return parse(text(n), "");
    } catch (const std::invalid_argument& e) {
        // parse_* name `what` first; ours is the pointer, so drop their ": " prefix.
        const std::string m = e.what();
        n.fail(m.rfind(": ", 0) == 0 ? m.substr(2) : m);
    }
}

Case read_case(const Node& n) {
    n.require_known_fields({"name", "op", "pass", "layout", "weights_layout", "dtype", "kernel",
                            "stride", "pad", "dilation", "x_shape", "inputs", "expected",
                            "expect_error", "tolerance", "note", "count_include_pad", "ceil_mode",
                            "groups"});
    Case c;
    c.file = n.file;
    c.pointer = n.pointer;
    c.name = text(n.at("name"));
    if (!valid_name(c.name))
        n.at("name").fail("a case name is [a-z0-9_]+, got \"" + c.name + "\"");
    c.op = read_enum<Op>(n.at("op"), parse_op);
    c.pass = read_enum<Pass>(n.at("pass"), parse_pass);
    if (!is_valid_pass(c.op, c.pass))
        n.at("pass").fail(std::string(to_string(c.op)) + " has no pass " + std::string(to_string(c.pass)));
    if (n.has("layout")) c.problem.layout = read_enum<Layout>(n.at("layout"), parse_layout);
    if (n.has("weights_layout"))
        c.problem.weights_layout = read_enum<WeightsLayout>(n.at("weights_layout"), parse_weights_layout);
    c.dtypes = n.has("dtype") ? std::vector<DType>{read_enum<DType>(n.at("dtype"), parse_dtype)}
                              : std::vector<DType>{DType::f32, DType::f64};
    if (n.has("expected") == n.has("expect_error"))
        n.fail(n.has("expected") ? "give one of \"expected\", \"expect_error\", not both"
                                 : "missing required field \"expected\" (or \"expect_error\")");
    read_inputs(n.at("inputs"), c);
    if (n.has("expected")) read_expected(n.at("expected"), c);
    if (n.has("expect_error")) c.expect_error = text(n.at("expect_error"));
    if (n.has("tolerance")) read_tolerance(n.at("tolerance"), c);
    if (n.has("note")) c.note = text(n.at("note"));
    build_problem(n, c);
    if (!c.expect_error) validate(c);
    return c;
}

File read_file(const Node& n) {
    n.require_known_fields({"format", "source", "cases"});
    const Node format = n.at("format");
    if (text(format) != kFormat)
        format.fail("unsupported format \"" + text(format) + "\" (this reader reads \"" +
                    std::string(kFormat) + "\")");
    File f;
    f.name = n.file;
    if (n.has("source")) f.source = text(n.at("source"));
    const Node cases = n.at("cases");
    cases.require_array();
    std::map<std::string, std::string> first_seen;
    int64_t elements = 0;  // in every tensor of the file so far
    for (size_t i = 0; i < cases.j.size(); ++i) {
        const Node cn = cases.at(i);
        Case c = read_case(cn);
        const auto [it, fresh] = first_seen.emplace(c.name, cn.pointer);
        if (!fresh) cn.at("name").fail("duplicate case name \"" + c.name + "\" (first at " + it->second + ")");
        for (const auto& [name, t] : c.inputs) elements += t.size();
        for (const auto& [name, e] : c.expected) elements += e.value ? e.value->size() : 0;
        if (elements > kMaxFileElements)
            cn.fail("too many elements for a golden file: its tensors hold more than " +
                    std::to_string(kMaxFileElements) + " in all");
        f.cases.push_back(std::move(c));
    }
    return f;
}

// "[json.exception.type_error.302] (/x) type must be..." -> "(/x) type must be...".
std::string without_exception_id(const std::string& what) {
    if (what.rfind("[json.exception.", 0) != 0) return what;
    const size_t end = what.find("] ");
    return end == std::string::npos ? what : what.substr(end + 2);
}

// parse_json's watch over nlohmann's parser, through its callback: one frame per open object
// or array, so that a limit or a duplicate key is reported at its JSON pointer, before the
// document is built further.
class StrictParse {
public:
    StrictParse(const std::string& file, const JsonLimits& limits) : file_(file), limits_(limits) {}

    bool operator()(int, json::parse_event_t event, json& parsed) {
        using E = json::parse_event_t;
        switch (event) {
            case E::object_start:
            case E::array_start:
                count_value();
                if (frames_.size() == limits_.max_depth)
                    fail(pointer(frames_.size()), "nested deeper than " + std::to_string(limits_.max_depth) +
                                                      " arrays and objects (a golden tensor has at most " +
                                                      std::to_string(kMaxRank) + " dimensions)");
                frames_.push_back({event == E::object_start, 0, {}, {}});
                break;
            case E::key: {
                Frame& f = frames_.back();
                f.key = parsed.get<std::string>();
                if (!f.keys.insert(f.key).second)
                    fail(pointer(frames_.size() - 1),
                         "duplicate key \"" + f.key + "\" (a key may appear once in an object)");
                break;
            }
            case E::object_end:
            case E::array_end:
                frames_.pop_back();
                next_element();
                break;
            case E::value:
                count_value();
                next_element();
                break;
        }
        return true;
    }

private:
    struct Frame {
        bool object;
        size_t index;          // an array's: the element being read
        std::string key;       // an object's: the member being read
        std::set<std::string, std::less<>> keys;  // an object's: every key so far
    };

    void count_value() {
        if (++values_ > limits_.max_values)
            fail(pointer(frames_.size()), "more than " + std::to_string(limits_.max_values) +
                                              " JSON values (a golden file holds at most " +
                                              std::to_string(kMaxFileElements) + " values)");
    }
    void next_element() {
        if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
    }
    // The pointer of the value the first `depth` frames lead to.
    std::string pointer(size_t depth) const {
        std::string p;
        for (size_t i = 0; i < depth; ++i)
            p += "/" + (frames_[i].object ? escape_key(frames_[i].key) : std::to_string(frames_[i].index));
        return p;
    }
    [[noreturn]] void fail(const std::string& pointer, const std::string& message) const {
        throw GoldenError(file_, pointer, message);
    }

    const std::string& file_;
    const JsonLimits& limits_;
    std::vector<Frame> frames_;
    int64_t values_ = 0;
};

}  // namespace

// The direction with the optional tensors (FWD_B, BWD_WB) when the case gives one of the
// tensors only that direction has.
bool Case::bias() const {
    const Direction& with = direction_of(op, pass, true);
    if (!with.bias) return false;
    const Direction& without = direction_of(op, pass, false);
    for (const Operand& o : with.inputs)
        if (!without.reads(o.role) && inputs.count(to_string(o.role))) return true;
    for (const Operand& o : with.outputs)
        if (!without.writes(o.role) && expected.count(to_string(o.role))) return true;
    return false;
}

json parse_json(std::string_view text, const std::string& display_name, const JsonLimits& limits) {
    StrictParse watch(display_name, limits);
    try {
        return json::parse(text, std::ref(watch));
    } catch (const json::exception& e) {
        throw GoldenError(display_name, "", without_exception_id(e.what()));
    }
}

File load_json(const json& doc, const std::string& display_name) {
    try {
        return read_file(Node{doc, "", display_name});
    } catch (const json::exception& e) {
        throw GoldenError(display_name, "", without_exception_id(e.what()));
    }
}

File load_string(std::string_view text, const std::string& display_name) {
    try {
        return load_json(parse_json(text, display_name), display_name);
    } catch (const std::bad_alloc&) {
        // The harness's memory, not the file's fault: the environment's error (exit 2), named.
        throw std::runtime_error("out of memory reading the golden file " + display_name + " (" +
                                 std::to_string(text.size()) + " bytes)");
    }
}

File load_file(const std::filesystem::path& path, std::string name, std::string_view origin) {
    if (name.empty()) name = path.string();
    return load_string(read_input_file(path, origin), name);
}

std::vector<std::filesystem::path> list_files(const std::filesystem::path& dir, std::string_view origin) {
    require_directory(dir, origin);
    std::vector<std::filesystem::path> files;
    std::error_code error;
    // Every *.json but the schema, whatever it is: one that is no readable file is reported
    // by load_file, never skipped in silence.
    for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end; it.increment(error))
        if (it->path().extension() == ".json" && it->path().filename() != "schema.json")
            files.push_back(it->path());
    if (error) throw InputError(input_name(origin, dir) + ": cannot be listed: " + error.message());
    std::sort(files.begin(), files.end());
    return files;
}

std::string display_name(const std::filesystem::path& dir, const std::filesystem::path& file) {
    std::filesystem::path d = dir.lexically_normal();
    if (d.filename().empty()) d = d.parent_path();
    return (d.filename() / file.filename()).string();
}

std::filesystem::path default_directory() { return CONVCONF_GOLDEN_DIR; }

std::map<std::string, std::vector<int64_t>, std::less<>> tensor_shapes(const CheckSpec& spec) {
    std::map<std::string, std::vector<int64_t>, std::less<>> shapes;
    for (const Direction& d : all_directions()) {
        if (d.op != spec.op || d.pass != spec.pass) continue;
        for (const auto* list : {&d.inputs, &d.outputs})
            for (const Operand& o : *list) shapes[std::string(to_string(o.role))] = shape_of(o.shape, spec.problem).extents;
    }
    return shapes;
}

void validate(const Case& c) {
    const CheckSpec spec = check_spec(c, c.dtypes.front());
    auto fail = [&](const std::string& where, const std::string& message) {
        throw GoldenError(c.file, c.pointer + where, message);
    };
    // Version 1.1's fields, each on its ops only, whatever its value (golden-format.md).
    for (const std::string& field : c.later_fields) {
        const std::string owners = field == "ceil_mode" ? "maxpool2d and avgpool2d"
                                   : field == "groups"  ? "conv2d"
                                                        : "avgpool2d";
        const bool belongs = field == "ceil_mode" ? (c.op == Op::maxpool2d || c.op == Op::avgpool2d)
                             : field == "groups"  ? c.op == Op::conv2d
                                                  : c.op == Op::avgpool2d;
        if (!belongs) fail("/" + field, field + " belongs to " + owners + ", not " + std::string(to_string(c.op)));
    }
    if (c.op == Op::avgpool2d &&
        std::find(c.later_fields.begin(), c.later_fields.end(), "count_include_pad") == c.later_fields.end())
        fail("", "missing required field \"count_include_pad\" (avgpool2d: whether the padding counts in the divisor)");
    try {
        convconf::validate(spec);
    } catch (const ProblemError& e) {
        const auto it = c.field_pointer.find(e.field());
        fail(it == c.field_pointer.end() ? "" : it->second, e.field() + ": " + e.message());
    } catch (const std::invalid_argument& e) {
        fail("", e.what());
    }
    const ConvProblem& p = c.problem;
    const auto shapes = tensor_shapes(spec);
    const std::string where = descriptor(spec) + ", " + layout_string(spec);
    for (const auto& [name, t] : c.inputs)
        if (t.shape() != shapes.at(name))
            fail("/inputs/" + name, "shape " + shape_text(t.shape()) +
                                        " disagrees with the problem (" + where + "), which needs " +
                                        shape_text(shapes.at(name)) + " here");
    const std::vector<int64_t> x_extents = shape_of(Shape::image, p).extents;
    if (c.x_shape && *c.x_shape != x_extents)
        fail("/x_shape", "x_shape " + shape_text(*c.x_shape) + " disagrees with the problem (" +
                             where + "), which needs " + shape_text(x_extents));
    if (c.kernel && *c.kernel != std::vector<int64_t>{p.kh, p.kw})
        fail("/kernel", "kernel " + shape_text(*c.kernel) + " disagrees with w's " +
                            shape_text({p.kh, p.kw}));
    // An expected output of the wrong shape is a typo in the file, never a variant's fault,
    // so it is the file's error. An expected col may have any shape of col's element count.
    for (const auto& [name, e] : c.expected) {
        const std::vector<int64_t>& gives = shapes.at(name);
        if (name == "col") {
            if (element_count(e.shape) != element_count(gives))
                fail("/expected/col", "shape " + shape_text(e.shape) + " holds " +
                                          std::to_string(element_count(e.shape)) +
                                          " elements, but the problem (" + where + ") gives col " +
                                          shape_text(gives) + ", " + std::to_string(element_count(gives)) +
                                          " elements");
        } else if (e.shape != gives) {
            fail("/expected/" + name, "shape " + shape_text(e.shape) + " disagrees with the problem (" +
                                          where + "), which gives " + shape_text(gives) + " here");
        }
    }
}

}  // namespace convconf::golden
