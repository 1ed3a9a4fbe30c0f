#include "reference/conformance.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "impl/core/descriptor.hpp"
#include "impl/core/progress.hpp"
#include "reference/compare.hpp"
#include "reference/expected.hpp"
#include "reference/problem_table.hpp"
#include "reference/registry.hpp"

namespace convconf {
namespace {

// The integers -n/2 .. -1 and 1 .. n-n/2 (n elements) in a shuffled order: Fill::distinct
// with its 0 moved past the top. Exact in f32 while n < 2^24 / (kh*kw); beyond that the
// comparison's exactness test on the data falls back to the derived bound.
template <class T>
void make_distinct_nonzero(Tensor<T>& t, uint64_t seed) {
    fill(t, Fill::distinct, seed, 1);
    for (T& v : t.values())
        if (v >= 0) v += 1;
}

// The bound of one output under `a`, or nullopt for exact comparison.
std::optional<Tensor<double>> allowed_error(const Expected& e, const Allowance& a, DType dtype) {
    if (a.tolerance) {
        Tensor<double> bound = e.value;
        for (double& v : bound.values()) v = a.tolerance->abs + a.tolerance->rel * std::fabs(v);
        return bound;
    }
    if (e.abs_sum.empty()) return std::nullopt;
    if (a.integer_data && e.exact_divisor > 0) {
        // Integers up to 2^p are exact; quotients by 2^k up to 2^(p-k) keep their k bits.
        const double limit = std::ldexp(1.0, mantissa_digits(dtype)) / double(e.exact_divisor);
        const auto& sums = e.abs_sum.values();
        if (std::all_of(sums.begin(), sums.end(), [&](double v) { return v <= limit; }))
            return std::nullopt;
    }
    return derived_bound(e, dtype);
}

template <class T>
CheckResult run_generated(const Variant& v, const CheckSpec& s) {
    const Inputs<T> in = generated_inputs<T>(s);
    const Expectations want = reference_of(s, in);  // before the variant sees the inputs
    const Outputs<T> out = invoke(v, s, in);
    ReportContext ctx = report_context(v, s, s.fill == Fill::special);
    ctx.repro = repro_command(s, v.name());
    ctx.note = "data: fill " + std::string(to_string(s.fill)) + ", seed " + std::to_string(s.seed) +
               (ctx.note.empty() ? "" : "; " + ctx.note);
    const Allowance allowance{s.fill != Fill::floats && s.fill != Fill::special, std::nullopt};
    CheckResult r;
    harness_allocation("the comparison's bounds", s, [&] { compare_outputs(out, want, allowance, ctx, r); });
    return r;
}

// "conv2d FWD_B mb2ic3ih5oc4kh3": what a progress line or an out-of-memory message is about.
std::string short_name(const CheckSpec& s) {
    return std::string(to_string(s.op)) + " " + direction(s) + " " + descriptor(s);
}

}  // namespace

void validate(const CheckSpec& s) {
    if (!is_valid_pass(s.op, s.pass))
        throw std::invalid_argument(std::string(to_string(s.op)) + " has no pass " +
                                    std::string(to_string(s.pass)));
    validate_problem(direction_of(s), s.problem);
    if (s.fill == Fill::special && s.op != Op::maxpool2d)
        throw std::invalid_argument("fill special (NaN and infinities) applies to maxpool2d only: "
                                    "the contract defines conv2d on finite values");
}

std::string descriptor(const CheckSpec& s) {
    if (direction_of(s).geometry == Geometry::conv) return to_descriptor(s.problem);
    return to_descriptor(pool_problem(s.problem));
}

std::string direction(const CheckSpec& s) { return direction_of(s).name; }

const Direction& direction_of(const CheckSpec& s) { return direction_of(s.op, s.pass, s.bias); }

Call call_of(const CheckSpec& s, bool nan_data) { return Call(direction_of(s), s.dtype, s.problem, nan_data); }

void apply_direction(CheckSpec& s, std::string_view dir) {
    std::string accepted;
    for (const Direction& d : all_directions()) {
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
    if (direction_of(s).geometry == Geometry::conv) l += "/" + std::string(to_string(s.problem.weights_layout));
    return l;
}

std::string repro_command(const CheckSpec& s, std::string_view variant) {
    std::ostringstream o;
    o << "convconf check " << variant_options(variant) << " --op " << to_string(s.op) << " --dir "
      << direction(s) << " --dtype " << to_string(s.dtype) << " --layout "
      << to_string(s.problem.layout);
    if (direction_of(s).geometry == Geometry::conv) o << " --wlayout " << to_string(s.problem.weights_layout);
    if (s.op == Op::avgpool2d) o << " --alg " << to_string(s.problem.alg);
    o << " --fill " << to_string(s.fill) << " --seed " << s.seed << " " << descriptor(s);
    return o.str();
}

std::string check_name(const CheckSpec& s) {
    const std::string alg = s.op == Op::avgpool2d ? " " + std::string(to_string(s.problem.alg)) : "";
    return std::string(to_string(s.op)) + " " + direction(s) + alg + " " + std::string(to_string(s.dtype)) +
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

// Each input filled by (spec.seed, its name) as the direction draws it. Integer fills stay
// small enough that every sum the op forms is exact in the dtype (exact_magnitude).
template <class T>
Inputs<T> generated_inputs(const CheckSpec& s) {
    const Direction& d = direction_of(s);
    Inputs<T> in;
    for (const Operand& o : d.inputs) {
        const std::string role(to_string(o.role));
        const TensorShape shape = shape_of(o.shape, s.problem);
        Tensor<T>& t = harness_allocation(role, s, [&]() -> Tensor<T>& { return in[role] = make_tensor<T>(shape); });
        const uint64_t seed = role_seed(s.seed, role);
        switch (o.draw) {
            case Draw::exact: fill(t, s.fill, seed, exact_magnitude(d.fill_terms(s.problem), s.dtype)); break;
            case Draw::small: fill(t, s.fill, seed, 4); break;
            // dy is never NaN: the NaN rules concern which element x chooses. Integer dy is
            // distinct and nonzero, so a gradient sent to the wrong element, dropped or sent
            // twice changes dx in every window; the tie-heavy 0..3 of x would give a quarter
            // of the windows dy = 0, where any routing passes.
            case Draw::gradient:
                if (s.fill == Fill::floats || s.fill == Fill::special)
                    fill(t, Fill::floats, seed, 1);
                else
                    make_distinct_nonzero(t, seed);
                break;
        }
    }
    return in;
}
template Inputs<float> generated_inputs(const CheckSpec&);
template Inputs<double> generated_inputs(const CheckSpec&);

void throw_out_of_memory(const std::string& what, const std::bad_alloc& e, const CheckSpec& s) {
    const bool sized = dynamic_cast<const AllocationFailure*>(&e) != nullptr;
    throw OutOfMemory("out of memory allocating " + what + " (" + (sized ? e.what() : "size unknown") + ") for " +
                      short_name(s));
}

void throw_variant_out_of_memory(const Variant& v, const CheckSpec& s, const std::bad_alloc& e) {
    const int64_t workspace = v.workspace_bytes(call_of(s, s.fill == Fill::special));
    throw OutOfMemory("out of memory in variant " + v.name() + " (its own allocation failed: " + e.what() +
                      "; its declared workspace is " + std::to_string(workspace) + " bytes) on " + check_name(s) +
                      ": the environment's limit, not counted as a failed check");
}

template <class T>
Expectations reference_of(const CheckSpec& s, const Inputs<T>& in) {
    const progress::Task task("reference (naive, f64) " + short_name(s));
    return harness_allocation("a reference tensor", s,
                              [&] { return reference_outputs(s, convert<double>(in)); });
}
template Expectations reference_of(const CheckSpec&, const Inputs<float>&);
template Expectations reference_of(const CheckSpec&, const Inputs<double>&);

CheckResult run_check(const Variant& v, const CheckSpec& s) {
    validate(s);
    try {
        // Inside: a worker's unsupported() asks it, and a worker can fail (that check's failure).
        if (auto reason = v.unsupported(call_of(s, s.fill == Fill::special))) return {Status::skipped, *reason};
        return s.dtype == DType::f32 ? run_generated<float>(v, s) : run_generated<double>(v, s);
    } catch (const OutOfMemory&) {
        throw;  // the environment's, not the variant's result
    } catch (const std::exception& e) {
        ReportContext ctx = report_context(v, s, s.fill == Fill::special);
        ctx.repro = repro_command(s, v.name());
        return variant_threw(ctx, e);
    }
}

template <class T>
const std::vector<int64_t>& Outputs<T>::shape(std::string_view name) const {
    if (name == "argmax") return argmax.shape();
    const auto it = tensors.find(name);
    if (it == tensors.end()) throw std::logic_error("no output \"" + std::string(name) + "\"");
    return it->second.shape();
}

// Guard regions and poison, looked at after the variant returned.
template <class T>
// An output the variant left out (Call::leave_out) keeps its guards: only its unwritten
// elements are expected.
void inspect_output(const std::string& name, const Tensor<T>& t, std::vector<std::string>& violations,
                    bool left_out = false) {
    if (const std::string damage = t.guard_damage(); !damage.empty())
        violations.push_back("OUT OF BOUNDS WRITE: output " + name + ": the variant wrote " + damage +
                             " (guard regions of " + std::to_string(kGuardElements) + " elements surround it)");
    if (left_out) return;
    const std::vector<int64_t> left = t.unwritten();
    if (left.empty()) return;
    std::string where;
    for (size_t i = 0; i < left.size() && i < 5; ++i) where += (i ? ", " : "") + t.index_string(left[i]);
    violations.push_back("UNWRITTEN: output " + name + ": " + std::to_string(left.size()) + " of " +
                         std::to_string(t.size()) + " elements never written (still the poison value), first " + where);
}

template <class T>
Outputs<T> poisoned_outputs(const CheckSpec& s) {
    Outputs<T> out;
    for (const Operand& o : direction_of(s).outputs) {
        const std::string name(to_string(o.role));
        const TensorShape shape = shape_of(o.shape, s.problem);
        if (o.role == Role::argmax)
            out.argmax = harness_allocation("output " + name, s, [&] { return make_tensor<int64_t>(shape, true); });
        else
            harness_allocation("output " + name, s, [&] { out.tensors[name] = make_tensor<T>(shape, true); });
    }
    return out;
}

template <class T>
Call bound_call(const CheckSpec& s, const Inputs<T>& in, Outputs<T>& out, bool nan_data) {
    Call call = call_of(s, nan_data);
    for (const Operand& o : call.direction().inputs) call.bind(o.role, tensor_of(in, o.role));
    for (const Operand& o : call.direction().outputs) {
        if (o.role == Role::argmax)
            call.bind(o.role, out.argmax);
        else
            call.bind(o.role, out.tensors.at(std::string(to_string(o.role))));
    }
    return call;
}

template <class T>
Outputs<T> invoke(const Variant& v, const CheckSpec& s, const Inputs<T>& in) {
    return invoke(v, s, in, s.fill == Fill::special);
}

template <class T>
Outputs<T> invoke(const Variant& v, const CheckSpec& s, const Inputs<T>& in, bool nan_data) {
    const progress::Task task("variant " + v.name() + " " + short_name(s));
    Outputs<T> out = poisoned_outputs<T>(s);
    const Inputs<T> before = harness_allocation("a copy of the inputs", s, [&] { return in; });
    const Call call = bound_call(s, in, out, nan_data);
    // The outputs are the harness's allocations (OutOfMemory); a std::bad_alloc escaping
    // run() is the variant's own.
    try {
        v.run(call);
    } catch (const std::bad_alloc& e) {
        throw_variant_out_of_memory(v, s, e);
    }
    if (const std::vector<std::string> ran = v.implementations_ran(); !ran.empty()) {
        const std::string said = v.implementation_info(call);
        for (const std::string& impl : ran)
            if (said.find(impl) == std::string::npos)
                out.violations.push_back("PATH: the variant ran " + impl + ", but reports \"" + said +
                                         "\" as what runs for this call");
    }
    for (const Operand& o : call.direction().outputs)
        if (call.left_out(o.role)) out.left_out.insert(std::string(to_string(o.role)));
    for (const auto& [name, t] : out.tensors) inspect_output(name, t, out.violations, out.left_out.contains(name));
    if (!out.argmax.empty()) inspect_output("argmax", out.argmax, out.violations, out.left_out.contains("argmax"));
    // Inputs are read only: a variant that writes into one would have the reference (and
    // the next variant) see what it wrote.
    for (const auto& [name, t] : in) {
        const Tensor<T>& was = before.at(name);
        for (int64_t e = 0; e < t.size(); ++e)
            if (!same_bits(t[e], was[e])) {
                out.violations.push_back("INPUT CHANGED: input " + name + ": the variant wrote into it, first at " +
                                         t.index_string(e));
                break;
            }
    }
    return out;
}

Expectations reference_outputs(const CheckSpec& s, const Inputs<double>& in) {
    return expect(direction_of(s), s.problem, in);
}

ReportContext report_context(const Variant& v, const CheckSpec& s, bool nan_data) {
    ReportContext ctx;
    ctx.op = s.op;
    ctx.pass = s.pass;
    ctx.variant = v.name();
    ctx.dtype = s.dtype;
    ctx.layout = layout_string(s);
    ctx.problem = descriptor(s);
    const std::string impl = v.implementation_info(call_of(s, nan_data));
    if (!impl.empty()) ctx.note = "implementation: " + impl;
    return ctx;
}

void add_comparison(const Comparison& c, CheckResult& result) {
    result.max_abs_error = std::max(result.max_abs_error, c.max_abs_error);
    result.max_rel_error = std::max(result.max_rel_error, c.max_rel_error);
    result.max_bound_use = std::max(result.max_bound_use, c.max_bound_use);
    if (c.ok) return;
    result.status = Status::failed;
    result.detail += c.report;
}

template <class T>
void compare_outputs(const Outputs<T>& out, const Expectations& expected, const Allowance& a,
                     const ReportContext& base, CheckResult& result) {
    if (!out.violations.empty()) {
        result.status = Status::failed;
        result.detail += "VIOLATION " + std::string(to_string(base.op)) + " " + std::string(to_string(base.pass)) +
                         ": variant " + base.variant + ", " + std::string(to_string(base.dtype)) + ", " +
                         base.layout + "\n  problem: " + base.problem + "\n";
        for (const std::string& v : out.violations) result.detail += "  " + v + "\n";
        result.detail += "  repro: " + base.repro + "\n";
    }
    for (const auto& [name, e] : expected) {
        if (out.left_out.contains(name)) continue;
        ReportContext ctx = base;
        ctx.output = name;
        const std::optional<Tensor<double>> bound = allowed_error(e, a, ctx.dtype);
        const Tensor<double>* b = bound ? &*bound : nullptr;
        const Comparison c = name == "argmax" ? compare(out.argmax, e.value, b, ctx)
                                              : compare(out.tensors.at(name), e.value, b, ctx);
        add_comparison(c, result);
    }
    // A pass says what it did not check.
    for (const std::string& name : out.left_out)
        result.detail += "LEFT OUT " + std::string(to_string(base.op)) + " " + std::string(to_string(base.pass)) +
                         " output " + name + ": variant " + base.variant +
                         " does not compute it (an optional output), so it is not checked\n";
}

CheckResult variant_threw(const ReportContext& ctx, const std::exception& e) {
    return {Status::failed, "ERROR " + std::string(to_string(ctx.op)) + " " +
                                std::string(to_string(ctx.pass)) + ": variant " + ctx.variant +
                                " threw: " + e.what() + "\n  problem: " + ctx.problem +
                                "\n  repro: " + ctx.repro + "\n"};
}

#define CONVCONF_CONFORMANCE_INSTANTIATE(T)                                                  \
    template struct Outputs<T>;                                                              \
    template Outputs<T> poisoned_outputs(const CheckSpec&);                                  \
    template Call bound_call(const CheckSpec&, const Inputs<T>&, Outputs<T>&, bool);         \
    template Outputs<T> invoke(const Variant&, const CheckSpec&, const Inputs<T>&);          \
    template Outputs<T> invoke(const Variant&, const CheckSpec&, const Inputs<T>&, bool);    \
    template void compare_outputs(const Outputs<T>&, const Expectations&, const Allowance&, \
                                  const ReportContext&, CheckResult&);
CONVCONF_CONFORMANCE_INSTANTIATE(float)
CONVCONF_CONFORMANCE_INSTANTIATE(double)
#undef CONVCONF_CONFORMANCE_INSTANTIATE

namespace {

template <class T>
bool agree(const Outputs<T>& a, const Outputs<T>& b, const Expectations& want, const Allowance& allowance,
           DType dtype) {
    for (const auto& [name, e] : want) {
        if (a.left_out.contains(name) || b.left_out.contains(name)) continue;  // nothing to agree on
        const std::optional<Tensor<double>> bound = allowed_error(e, allowance, dtype);
        const bool argmax = name == "argmax";
        const int64_t n = argmax ? a.argmax.size() : a.tensors.at(name).size();
        for (int64_t i = 0; i < n; ++i) {
            const double x = argmax ? double(a.argmax[i]) : double(a.tensors.at(name)[i]);
            const double y = argmax ? double(b.argmax[i]) : double(b.tensors.at(name)[i]);
            if (std::isnan(x) || std::isnan(y)) {
                if (std::isnan(x) != std::isnan(y)) return false;
                continue;
            }
            if (!(std::fabs(x - y) <= (bound ? 2 * (*bound)[i] : 0.0)) && x != y) return false;
        }
    }
    return true;
}

template <class T>
std::vector<std::vector<const Variant*>> agreement_as(const std::vector<const Variant*>& variants, const CheckSpec& s) {
    const Inputs<T> in = generated_inputs<T>(s);
    const Expectations want = reference_of(s, in);
    const Allowance allowance{s.fill != Fill::floats && s.fill != Fill::special, std::nullopt};
    std::vector<std::pair<const Variant*, Outputs<T>>> ran;
    for (const Variant* v : variants) {
        try {
            if (v->unsupported(call_of(s, s.fill == Fill::special))) continue;
            ran.emplace_back(v, invoke(*v, s, in));
        } catch (const OutOfMemory&) {
            throw;
        } catch (const std::exception&) {
            // a variant that throws agrees with nobody, and is in no group
        }
    }
    std::vector<std::vector<const Variant*>> groups;
    std::vector<const Outputs<T>*> first;
    for (const auto& [v, out] : ran) {
        size_t g = 0;
        while (g < groups.size() && !agree(*first[g], out, want, allowance, s.dtype)) ++g;
        if (g == groups.size()) {
            groups.emplace_back();
            first.push_back(&out);
        }
        groups[g].push_back(v);
    }
    return groups;
}

}  // namespace

std::vector<std::vector<const Variant*>> agreement(const std::vector<const Variant*>& variants, const CheckSpec& s) {
    validate(s);
    return s.dtype == DType::f32 ? agreement_as<float>(variants, s) : agreement_as<double>(variants, s);
}

std::string agreement_text(const std::vector<std::vector<const Variant*>>& groups) {
    auto names = [](const std::vector<const Variant*>& g) {
        std::string out;
        for (size_t i = 0; i < g.size(); ++i)
            out += (i == 0 ? "" : i + 1 == g.size() ? " and " : ", ") + g[i]->name();
        return out;
    };
    std::string text;
    for (const auto& g : groups) {
        text += text.empty() ? "" : "; ";
        if (g.size() > 1)
            text += names(g) + (g.size() == 2 ? " agree with each other" : " all agree with each other");
        else
            text += g[0]->name() + (groups.size() > 1 ? " with none of the others" : " alone");
    }
    return text;
}

// Each problem row draws its data from its own seed (the row's position in its table, from
// 1): one seed everywhere would put the same few values at the same places in every check,
// so a defect that happens to meet a lucky value there would hide on every row alike. The
// seed is in every repro line; the plan's size and time are those of one seed.
std::vector<CheckSpec> default_plan() {
    std::vector<CheckSpec> plan;
    uint64_t row_seed = 0;
    const std::pair<Layout, WeightsLayout> layouts[] = {{Layout::nchw, WeightsLayout::oihw},
                                                        {Layout::nhwc, WeightsLayout::hwio},
                                                        {Layout::nchw, WeightsLayout::hwio},
                                                        {Layout::nhwc, WeightsLayout::oihw}};
    for (const NamedConv& n : conv_problems()) {
        const ConvProblem& base = n.problem;
        ++row_seed;
        for (const auto& [layout, wl] : layouts)
            for (const Direction& d : all_directions()) {
                if (d.geometry == Geometry::pool) continue;  // pooling has its own problems, below
                if (!d.has_weights() && base.g != 1) continue;  // groups are conv2d's alone
                // im2col/col2im have no weights: one weights layout is enough.
                if (!d.has_weights() && wl != (layout == Layout::nchw ? WeightsLayout::oihw
                                                                         : WeightsLayout::hwio))
                    continue;
                for (DType dt : {DType::f32, DType::f64})
                    for (Fill f : {Fill::integers, Fill::floats}) {
                        CheckSpec s{d.op, d.pass, dt, d.bias, base, f, row_seed};
                        s.problem.layout = layout;
                        s.problem.weights_layout = wl;
                        plan.push_back(s);
                    }
            }
    }
    // Each pooling problem as max pooling with the fills of its contract (ties, -inf and
    // NaN), and as both average poolings with integer and float data.
    struct Pooling {
        Op op;
        PoolAlg alg;
        std::vector<Fill> fills;
    };
    const Pooling poolings[] = {{Op::maxpool2d, PoolAlg::max, {Fill::ties, Fill::negative, Fill::floats, Fill::special}},
                                {Op::avgpool2d, PoolAlg::avg_p, {Fill::integers, Fill::floats}},
                                {Op::avgpool2d, PoolAlg::avg_np, {Fill::integers, Fill::floats}}};
    row_seed = 0;
    for (const NamedPool& n : pool_problems()) {
        const PoolProblem& pp = n.problem;
        ++row_seed;
        for (const Pooling& pooling : poolings)
            for (Layout layout : {Layout::nchw, Layout::nhwc})
                for (Pass pass : {Pass::forward, Pass::backward})
                    for (DType dt : {DType::f32, DType::f64})
                        for (Fill f : pooling.fills) {
                            CheckSpec s{pooling.op, pass, dt, false, {}, f, row_seed};
                            static_cast<WindowProblem&>(s.problem) = pp;
                            s.problem.alg = pooling.alg;
                            s.problem.layout = layout;
                            plan.push_back(s);
                        }
    }
    return plan;
}

}  // namespace convconf
