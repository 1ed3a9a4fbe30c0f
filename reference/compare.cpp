#include "reference/compare.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "impl/core/call.hpp"

namespace convconf {
namespace {

std::string number(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

bool element_ok(double got, double want, double bound) {
    if (std::isnan(want)) return std::isnan(got);
    if (std::isinf(want)) return got == want;
    return std::fabs(got - want) <= bound;  // false for a NaN got
}

// The report of a failed comparison: who, what, the failing lines, and the repro line.
std::string mismatch_report(const ReportContext& ctx, const std::string& summary,
                            const std::string& lines) {
    std::ostringstream out;
    out << "MISMATCH " << to_string(ctx.op) << " " << to_string(ctx.pass) << " output " << ctx.output
        << ": variant " << ctx.variant << ", " << to_string(ctx.dtype) << ", " << ctx.layout << "\n"
        << "  problem: " << ctx.problem << "\n";
    if (!ctx.note.empty()) out << "  " << ctx.note << "\n";
    out << "  " << summary << "\n" << lines << "  repro: " << ctx.repro << "\n";
    return out.str();
}

}  // namespace

template <class T>
Comparison compare(const Tensor<T>& got, const Tensor<double>& want, const Tensor<double>* bound,
                   const ReportContext& ctx, int max_shown) {
    if (bound && (bound->shape() != want.shape() || bound->order() != want.order()))
        throw std::logic_error("compare: the bound's shape " + shape_text(bound->shape()) +
                               " is not the expected output's " + shape_text(want.shape()));
    Comparison r;
    std::ostringstream bad_lines;
    if (got.shape() != want.shape() || got.order() != want.order()) {
        r.ok = false;
        r.bad = want.size();
        bad_lines << "    output shape " << shape_text(got.shape()) << " " << to_string(got.order())
                  << ", expected " << shape_text(want.shape()) << " " << to_string(want.order())
                  << "\n";
    } else {
        for (int64_t e = 0; e < want.size(); ++e) {
            const double g = double(got[e]), w = want[e], b = bound ? (*bound)[e] : 0.0;
            ++r.checked;
            if (std::isfinite(g) && std::isfinite(w)) {
                const double err = std::fabs(g - w);
                r.max_abs_error = std::max(r.max_abs_error, err);
                if (w != 0) r.max_rel_error = std::max(r.max_rel_error, err / std::fabs(w));
                if (bound && b > 0) r.max_bound_use = std::max(r.max_bound_use, err / b);
            }
            if (element_ok(g, w, b)) continue;
            if (r.bad++ < max_shown) {
                bad_lines << "    " << want.index_string(e) << " got " << number(g) << " want "
                          << number(w);
                if (bound) bad_lines << " bound " << number(b);
                if (std::isfinite(g) && std::isfinite(w)) bad_lines << " |diff| " << number(std::fabs(g - w));
                if (std::isnan(g) && !std::isnan(w)) bad_lines << " (NaN: unwritten or invalid)";
                bad_lines << "\n";
            }
        }
        r.ok = r.bad == 0;
    }
    if (r.ok) return r;
    std::ostringstream summary;
    summary << r.bad << " of " << want.size() << " elements wrong ("
            << (bound ? "bound mode: |got-want| <= " + ctx.bound_rule : std::string("exact mode")) << "); first "
            << std::min<int64_t>(r.bad, max_shown) << ":";
    r.report = mismatch_report(ctx, summary.str(), bad_lines.str());
    return r;
}

Comparison compare_shape(const std::vector<int64_t>& got, const std::vector<int64_t>& want,
                         const ReportContext& ctx) {
    Comparison r;
    r.checked = 1;
    if (got == want) return r;
    r.ok = false;
    r.bad = 1;
    r.report = mismatch_report(ctx, "shape-only expectation: the output's shape is wrong",
                               "    output shape " + shape_text(got) + ", expected " +
                                   shape_text(want) + "\n");
    return r;
}

template Comparison compare(const Tensor<float>&, const Tensor<double>&, const Tensor<double>*,
                            const ReportContext&, int);
template Comparison compare(const Tensor<double>&, const Tensor<double>&, const Tensor<double>*,
                            const ReportContext&, int);
template Comparison compare(const Tensor<int64_t>&, const Tensor<double>&, const Tensor<double>*,
                            const ReportContext&, int);

}  // namespace convconf
