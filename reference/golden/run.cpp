// Running a golden case: the same invoke and comparison as a generated check
// (reference/conformance.hpp); only the inputs and the expected values come from the file.
#include <optional>
#include <sstream>

#include "reference/golden/golden.hpp"
#include "reference/registry.hpp"

namespace convconf::golden {
namespace {

// The file's value in the output's shape: an expected col may be written in any shape of
// the same element count (compared in row-major order). Other outputs are already in the
// output's axis order; a shape that differs is left for compare() to report.
Tensor<double> as_output(const Tensor<double>& value, const std::vector<int64_t>& output_shape) {
    if (value.order() != AxisOrder::plain || value.shape() == output_shape) return value;
    Tensor<double> t(output_shape);
    if (t.size() != value.size()) return value;
    std::copy(value.values().begin(), value.values().end(), t.data());
    return t;
}

ReportContext golden_context(const Case& c, const Variant& v, const CheckSpec& s) {
    ReportContext ctx = report_context(v, s, c.nan_data);
    ctx.repro = repro_command(c, v.name(), s.dtype);
    std::string note = "golden: " + c.file + " case " + c.name;
    if (!c.note.empty()) note += " (" + c.note + ")";
    ctx.note = note + (ctx.note.empty() ? "" : "; " + ctx.note);
    if (c.tolerance) {
        std::ostringstream rule;
        rule << "abs + rel*|want|, the case's tolerance abs " << c.tolerance->abs << " rel "
             << c.tolerance->rel;
        ctx.bound_rule = rule.str();
    }
    return ctx;
}

template <class T>
CheckResult run_typed(const Case& c, const Variant& v, const CheckSpec& s, const ReportContext& ctx) {
    const Inputs<T> in = harness_allocation("the inputs", s, [&] { return convert<T>(c.inputs); });
    const Outputs<T> out = invoke(v, s, in, c.nan_data);
    CheckResult r;
    // The reference runs on the inputs the variant received (rounded to T), for the
    // sum|terms| the bound is derived from; its values are replaced by the file's. A case
    // that asserts only shapes needs no reference at all.
    Expectations reference;
    for (const auto& [name, e] : c.expected) {
        if (!e.value) {
            ReportContext shape_ctx = ctx;
            shape_ctx.output = name;
            add_comparison(compare_shape(out.shape(name), e.shape, shape_ctx), r);
            continue;
        }
        if (reference.empty()) reference = reference_of(s, in);
    }
    Expectations want;
    for (const auto& [name, e] : c.expected) {
        if (!e.value) continue;
        Expected x = reference.at(name);
        x.value = as_output(*e.value, out.shape(name));
        want.emplace(name, std::move(x));
    }
    harness_allocation("the comparison's bounds", s,
                       [&] { compare_outputs(out, want, Allowance{c.integer_data, c.tolerance}, ctx, r); });
    return r;
}

CheckResult run_expect_error(const Case& c, const Variant& v, DType dtype) {
    const std::string header = "EXPECTED ERROR " + std::string(to_string(c.op)) + " " +
                               std::string(to_string(c.pass)) + ": variant " + v.name() + ", " +
                               std::string(to_string(dtype)) + "\n  golden: " + c.file +
                               " case " + c.name + "\n  wanted a rejection containing \"" +
                               *c.expect_error + "\"\n";
    const std::string repro = "  repro: " + repro_command(c, v.name(), dtype) + "\n";
    try {
        validate(c);
    } catch (const GoldenError& e) {
        if (std::string(e.what()).find(*c.expect_error) != std::string::npos) return {};
        return {Status::failed, header + "  rejected with another message: " + e.what() + "\n" + repro};
    }
    return {Status::failed, header + "  the problem was accepted\n" + repro};
}

}  // namespace

CheckSpec check_spec(const Case& c, DType dtype) {
    CheckSpec s;
    s.op = c.op;
    s.pass = c.pass;
    s.dtype = dtype;
    s.bias = c.bias();
    s.problem = c.problem;
    return s;
}

std::string repro_command(const Case& c, std::string_view variant, DType dtype) {
    return "convconf golden --file " + c.file + " --case " + c.name + " " + variant_options(variant) +
           " --dtype " + std::string(to_string(dtype));
}

CheckResult run_case(const Case& c, const Variant& v, DType dtype) {
    if (c.expect_error) return run_expect_error(c, v, dtype);
    const CheckSpec s = check_spec(c, dtype);
    std::optional<std::string> reason;
    try {
        reason = v.unsupported(call_of(s, c.nan_data));  // a worker's answer: it can fail
    } catch (const std::exception& e) {
        return variant_threw(golden_context(c, v, s), e);
    }
    if (reason) return {Status::skipped, *reason};
    const ReportContext ctx = golden_context(c, v, s);
    try {
        return dtype == DType::f32 ? run_typed<float>(c, v, s, ctx) : run_typed<double>(c, v, s, ctx);
    } catch (const OutOfMemory&) {
        throw;  // the environment's, not the variant's result
    } catch (const std::exception& e) {
        return variant_threw(ctx, e);
    }
}

}  // namespace convconf::golden
