#include "reference/conformance.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "impl/core/descriptor.hpp"
#include "reference/compare.hpp"
#include "reference/expected.hpp"
#include "reference/problem_table.hpp"

namespace convconf {
namespace {

PoolProblem pool_problem(const ConvProblem& p) {
    PoolProblem pp;
    static_cast<WindowProblem&>(pp) = p;
    return pp;
}

void validate(const CheckSpec& s) {
    if (!is_valid_pass(s.op, s.pass))
        throw std::invalid_argument(std::string(to_string(s.op)) + " has no pass " +
                                    std::string(to_string(s.pass)));
    switch (s.op) {
        case Op::conv2d: s.problem.validate(); break;
        case Op::maxpool2d: pool_problem(s.problem).validate(); break;
        default: static_cast<const WindowProblem&>(s.problem).validate(); break;
    }
    if (s.fill == Fill::special && s.op != Op::maxpool2d)
        throw std::invalid_argument("fill special (NaN and infinities) applies to maxpool2d only: "
                                    "the contract defines conv2d on finite values");
}

// Runs one check at dtype T; the body is the same for every dtype.
template <class T>
class TypedCheck {
public:
    TypedCheck(const Variant& v, const CheckSpec& s) : v_(v), s_(s) {
        ctx_.op = s.op;
        ctx_.pass = s.pass;
        ctx_.variant = v.name();
        ctx_.dtype = s.dtype;
        ctx_.layout = layout_string(s);
        ctx_.problem = descriptor(s);
        ctx_.repro = repro_command(s, v.name());
        ctx_.note = "data: fill " + std::string(to_string(s.fill)) + ", seed " + std::to_string(s.seed);
        const std::string impl = v.implementation_info({s.op, s.pass, s.dtype, s.fill == Fill::special}, s.problem);
        if (!impl.empty()) ctx_.note += "; implementation: " + impl;
    }

    CheckResult run() {
        const ConvProblem& p = s_.problem;
        const AxisOrder act = axis_order(p.layout), wei = axis_order(p.weights_layout);
        switch (s_.op) {
            case Op::conv2d: {
                if (s_.pass == Pass::forward) {
                    const int64_t r = magnitude(p.ic * p.kh * p.kw + 1);
                    auto x = input(act, p.x_dims(), "x", r), w = input(wei, p.w_dims(), "w", r);
                    auto b = input({p.oc}, "b", r);
                    auto y = Tensor<T>::poisoned(act, p.y_dims());
                    v_.conv_forward(p, x, w, s_.bias ? &b : nullptr, y);
                    const Tensor<double> bd = b.template cast<double>();
                    check(y, expect_conv_forward(p, d(x), d(w), s_.bias ? &bd : nullptr), "y");
                } else if (s_.pass == Pass::backward_data) {
                    const int64_t r = magnitude(p.oc * p.kh * p.kw);
                    auto w = input(wei, p.w_dims(), "w", r), dy = input(act, p.y_dims(), "dy", r);
                    auto dx = Tensor<T>::poisoned(act, p.x_dims());
                    v_.conv_backward_data(p, w, dy, dx);
                    check(dx, expect_conv_backward_data(p, d(w), d(dy)), "dx");
                } else {
                    const int64_t r = magnitude(p.mb * p.oh() * p.ow());
                    auto x = input(act, p.x_dims(), "x", r), dy = input(act, p.y_dims(), "dy", r);
                    auto dw = Tensor<T>::poisoned(wei, p.w_dims());
                    auto db = Tensor<T>::poisoned({p.oc});
                    v_.conv_backward_weights(p, x, dy, dw, s_.bias ? &db : nullptr);
                    const auto e = expect_conv_backward_weights(p, d(x), d(dy), s_.bias);
                    check(dw, e.dw, "dw");
                    if (e.db) check(db, *e.db, "db");
                }
                break;
            }
            case Op::maxpool2d: {
                const PoolProblem pp = pool_problem(p);
                auto x = input(act, pp.x_dims(), "x", 4);
                if (s_.pass == Pass::forward) {
                    auto y = Tensor<T>::poisoned(act, pp.y_dims());
                    auto argmax = Tensor<int64_t>::poisoned(act, pp.y_dims());
                    v_.pool_forward(pp, x, y, argmax);
                    const auto e = expect_pool_forward(pp, d(x));
                    check(y, e.y, "y");
                    check(argmax, Expected{e.argmax.template cast<double>(), {}, 0}, "argmax");
                } else {
                    // dy is never NaN: the NaN rules concern which element x chooses.
                    const Fill dy_fill = s_.fill == Fill::special ? Fill::floats : s_.fill;
                    auto dy = input(act, pp.y_dims(), "dy", magnitude(pp.kh * pp.kw), dy_fill);
                    auto dx = Tensor<T>::poisoned(act, pp.x_dims());
                    v_.pool_backward(pp, x, dy, dx);
                    check(dx, expect_pool_backward(pp, d(x), d(dy)), "dx");
                }
                break;
            }
            case Op::im2col: {
                auto x = input(act, p.x_dims(), "x", 4);
                const auto cd = p.col_dims();
                auto col = Tensor<T>::poisoned({cd[0], cd[1]});
                v_.im2col(p, x, col);
                check(col, expect_im2col(p, d(x)), "col");
                break;
            }
            case Op::col2im: {
                const auto cd = p.col_dims();
                auto col = input({cd[0], cd[1]}, "col", magnitude(p.kh * p.kw));
                auto x = Tensor<T>::poisoned(act, p.x_dims());
                v_.col2im(p, col, x);
                check(x, expect_col2im(p, d(col)), "x");
                break;
            }
        }
        return result_;
    }

private:
    int64_t magnitude(int64_t n) const { return exact_magnitude(n, s_.dtype); }

    Tensor<T> input(AxisOrder order, const Dims4& dims, const char* role, int64_t r,
                    std::optional<Fill> kind = std::nullopt) const {
        Tensor<T> t(order, dims);
        fill(t, kind.value_or(s_.fill), role_seed(s_.seed, role), r);
        return t;
    }
    Tensor<T> input(std::vector<int64_t> shape, const char* role, int64_t r) const {
        Tensor<T> t(std::move(shape));
        fill(t, s_.fill, role_seed(s_.seed, role), r);
        return t;
    }
    static Tensor<double> d(const Tensor<T>& t) { return t.template cast<double>(); }

    // Exact mode for selections and copies, and for integer data whose every partial sum
    // is an integer below 2^p (checked on the data itself, not assumed); bound otherwise.
    template <class U>
    void check(const Tensor<U>& got, const Expected& e, const char* output) {
        bool exact = e.abs_sum.empty();
        if (!exact && s_.fill != Fill::floats && s_.fill != Fill::special) {
            const double limit = std::ldexp(1.0, mantissa_digits(s_.dtype));
            exact = std::all_of(e.abs_sum.values().begin(), e.abs_sum.values().end(),
                                [&](double v) { return v <= limit; });
        }
        const Tensor<double> bound = exact ? Tensor<double>() : derived_bound(e, s_.dtype);
        ReportContext ctx = ctx_;
        ctx.output = output;
        const Comparison c = compare(got, e.value, exact ? nullptr : &bound, ctx);
        result_.max_abs_error = std::max(result_.max_abs_error, c.max_abs_error);
        result_.max_rel_error = std::max(result_.max_rel_error, c.max_rel_error);
        if (!c.ok) {
            result_.status = Status::failed;
            result_.detail += c.report;
        }
    }

    const Variant& v_;
    const CheckSpec& s_;
    ReportContext ctx_;
    CheckResult result_;
};

}  // namespace

std::string descriptor(const CheckSpec& s) {
    if (s.op == Op::conv2d) return to_descriptor(s.problem);
    return to_descriptor(pool_problem(s.problem));
}

std::string direction(const CheckSpec& s) {
    switch (s.pass) {
        case Pass::forward:
            return s.op == Op::conv2d ? (s.bias ? "FWD_B" : "FWD_D") : "FWD";
        case Pass::backward_data: return "BWD_D";
        case Pass::backward_weights: return s.bias ? "BWD_WB" : "BWD_W";
        case Pass::backward: return "BWD";
    }
    return "?";
}

void apply_direction(CheckSpec& s, std::string_view dir) {
    struct Dir {
        Op op;
        const char* name;
        Pass pass;
        bool bias;
    };
    static constexpr Dir kDirs[] = {
        {Op::conv2d, "FWD_B", Pass::forward, true},
        {Op::conv2d, "FWD_D", Pass::forward, false},
        {Op::conv2d, "BWD_D", Pass::backward_data, false},
        {Op::conv2d, "BWD_W", Pass::backward_weights, false},
        {Op::conv2d, "BWD_WB", Pass::backward_weights, true},
        {Op::maxpool2d, "FWD", Pass::forward, false},
        {Op::maxpool2d, "BWD", Pass::backward, false},
        {Op::im2col, "FWD", Pass::forward, false},
        {Op::col2im, "FWD", Pass::forward, false},
    };
    std::string accepted;
    for (const Dir& d : kDirs) {
        if (d.op != s.op) continue;
        if (d.name == dir) {
            s.pass = d.pass;
            s.bias = d.bias;
            return;
        }
        accepted += (accepted.empty() ? "" : ", ") + std::string(d.name);
    }
    throw std::invalid_argument("--dir: \"" + std::string(dir) + "\" is not a direction of " +
                                std::string(to_string(s.op)) + " (expected one of " + accepted + ")");
}

std::string layout_string(const CheckSpec& s) {
    std::string l(to_string(s.problem.layout));
    if (s.op == Op::conv2d) l += "/" + std::string(to_string(s.problem.weights_layout));
    return l;
}

std::string repro_command(const CheckSpec& s, std::string_view variant) {
    std::ostringstream o;
    o << "convconf check --variant " << variant << " --op " << to_string(s.op) << " --dir "
      << direction(s) << " --dtype " << to_string(s.dtype) << " --layout "
      << to_string(s.problem.layout);
    if (s.op == Op::conv2d) o << " --wlayout " << to_string(s.problem.weights_layout);
    o << " --fill " << to_string(s.fill) << " --seed " << s.seed << " " << descriptor(s);
    return o.str();
}

std::string check_name(const CheckSpec& s) {
    return std::string(to_string(s.op)) + " " + direction(s) + " " + std::string(to_string(s.dtype)) +
           " " + layout_string(s) + " " + std::string(to_string(s.fill)) + " " + descriptor(s);
}

std::string_view to_string(Status s) {
    switch (s) {
        case Status::passed: return "passed";
        case Status::failed: return "failed";
        case Status::skipped: return "skipped";
    }
    return "?";
}

CheckResult run_check(const Variant& v, const CheckSpec& s) {
    validate(s);
    const CheckKind kind{s.op, s.pass, s.dtype, s.fill == Fill::special};
    if (auto reason = v.unsupported(kind)) return {Status::skipped, *reason};
    try {
        return s.dtype == DType::f32 ? TypedCheck<float>(v, s).run() : TypedCheck<double>(v, s).run();
    } catch (const std::exception& e) {
        return {Status::failed,
                "ERROR " + std::string(to_string(s.op)) + " " + std::string(to_string(s.pass)) +
                    ": variant " + v.name() + " threw: " + e.what() + "\n  problem: " +
                    descriptor(s) + "\n  repro: " + repro_command(s, v.name()) + "\n"};
    }
}

std::vector<CheckSpec> default_plan() {
    std::vector<CheckSpec> plan;
    const std::pair<Layout, WeightsLayout> layouts[] = {{Layout::nchw, WeightsLayout::oihw},
                                                        {Layout::nhwc, WeightsLayout::hwio},
                                                        {Layout::nchw, WeightsLayout::hwio},
                                                        {Layout::nhwc, WeightsLayout::oihw}};
    struct Dir {
        Op op;
        Pass pass;
        bool bias;
    };
    const Dir conv_dirs[] = {{Op::conv2d, Pass::forward, true},
                             {Op::conv2d, Pass::forward, false},
                             {Op::conv2d, Pass::backward_data, false},
                             {Op::conv2d, Pass::backward_weights, true},
                             {Op::conv2d, Pass::backward_weights, false},
                             {Op::im2col, Pass::forward, false},
                             {Op::col2im, Pass::forward, false}};
    for (const NamedConv& n : conv_problems()) {
        const ConvProblem& base = n.problem;
        for (const auto& [layout, wl] : layouts)
            for (const Dir& d : conv_dirs) {
                // im2col/col2im have no weights: one weights layout is enough.
                if (d.op != Op::conv2d && wl != (layout == Layout::nchw ? WeightsLayout::oihw
                                                                         : WeightsLayout::hwio))
                    continue;
                for (DType dt : {DType::f32, DType::f64})
                    for (Fill f : {Fill::integers, Fill::floats}) {
                        CheckSpec s{d.op, d.pass, dt, d.bias, base, f, 1};
                        s.problem.layout = layout;
                        s.problem.weights_layout = wl;
                        plan.push_back(s);
                    }
            }
    }
    for (const NamedPool& n : pool_problems()) {
        const PoolProblem& pp = n.problem;
        for (Layout layout : {Layout::nchw, Layout::nhwc})
            for (Pass pass : {Pass::forward, Pass::backward})
                for (DType dt : {DType::f32, DType::f64})
                    for (Fill f : {Fill::ties, Fill::negative, Fill::floats, Fill::special}) {
                        CheckSpec s{Op::maxpool2d, pass, dt, false, {}, f, 1};
                        static_cast<WindowProblem&>(s.problem) = pp;
                        s.problem.layout = layout;
                        plan.push_back(s);
                    }
    }
    return plan;
}

}  // namespace convconf
