#include "tools/bench_report.hpp"

#include "tools/run_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace convconf::cli {
namespace {

std::string_view outcome_name(BenchRow::Outcome o) {
    switch (o) {
        case BenchRow::Outcome::measured: return "measured";
        case BenchRow::Outcome::skipped: return "skipped";
        case BenchRow::Outcome::error: return "error";
    }
    return "?";
}

// Shortest text that reads back as the same double.
std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    for (int precision = 6; precision < 17; ++precision) {
        char shorter[32];
        std::snprintf(shorter, sizeof shorter, "%.*g", precision, v);
        if (std::strtod(shorter, nullptr) == v) return shorter;
    }
    return buf;
}

// RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled.
std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string xml(const std::string& s) { return xml_escape(s); }

// ---- SVG ------------------------------------------------------------------------------------

// Paul Tol's "bright" scheme: distinguishable with the common colour-vision deficiencies.
constexpr const char* kColours[] = {"#4477AA", "#EE6677", "#228833", "#CCBB44",
                                    "#66CCEE", "#AA3377", "#BBBBBB"};

// "resnet_50:res2a_branch2b*3" -> "res2a_branch2b": the layer, as an axis label.
std::string short_label(const std::string& problem) {
    std::string s = problem.substr(problem.rfind(':') == std::string::npos ? 0 : problem.rfind(':') + 1);
    if (const size_t star = s.find('*'); star != std::string::npos && star > 0) s.resize(star);
    return s;
}

std::string fmt(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

// Three significant digits, no exponent: 0.00123, 0.512, 12.3, 1234.
std::string ratio_text(double r) {
    const int decimals = std::max(0, 2 - int(std::floor(std::log10(r))));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, r);
    return buf;
}

// The log-scale axis: from a 1-2-5 value at or below every ratio (and below 1) to one at
// or above (and above 1), so the reference line never sits on the frame.
struct Axis {
    double lo = 0.5, hi = 2;
    std::vector<double> ticks;
};
Axis log_axis(double min, double max) {
    auto step_down = [](double v) {  // largest 1-2-5 value strictly below v
        double d = std::pow(10, std::floor(std::log10(v)));
        for (double m : {5.0, 2.0, 1.0})
            if (m * d < v * (1 - 1e-9)) return m * d;
        return 0.5 * d;
    };
    auto step_up = [](double v) {  // smallest 1-2-5 value strictly above v
        double d = std::pow(10, std::floor(std::log10(v)));
        for (double m : {1.0, 2.0, 5.0, 10.0})
            if (m * d > v * (1 + 1e-9)) return m * d;
        return 20 * d;
    };
    Axis a;
    a.lo = step_down(std::min(min, 1.0));
    a.hi = step_up(std::max(max, 1.0));
    const bool decades_only = std::log10(a.hi / a.lo) > 2.5;
    for (double d = std::pow(10, std::floor(std::log10(a.lo))); d <= a.hi * 1.0001; d *= 10)
        for (double m : {1.0, 2.0, 5.0}) {
            const double t = m * d;
            if (decades_only && m != 1.0) continue;
            if (t >= a.lo * 0.9999 && t <= a.hi * 1.0001) a.ticks.push_back(t);
        }
    // The ends are labelled too, so the frame says where the scale stops.
    if (a.ticks.empty() || a.ticks.front() > a.lo * 1.0001) a.ticks.insert(a.ticks.begin(), a.lo);
    if (a.ticks.back() < a.hi * 0.9999) a.ticks.push_back(a.hi);
    return a;
}

struct Chart {
    std::string title;
    std::vector<std::string> problems;  // x, in order of first appearance
    std::vector<std::string> variants;  // bars, onednn left out (it is the line at 1)
    std::map<std::pair<std::string, std::string>, const BenchRow*> cells;  // (problem, variant)
    std::map<std::string, double> geomean;                                // variant -> ratio
    std::map<std::string, std::string> geomean_over;                     // variant -> "18 of 20"
};

std::vector<Chart> charts(const BenchReport& r) {
    std::vector<Chart> out;
    std::vector<std::string> order;
    std::map<std::string, Chart> by_direction;
    for (const BenchRow& row : r.rows) {
        const std::string d = direction_name(row.op, row.direction);
        if (!by_direction.count(d)) order.push_back(d);
        Chart& c = by_direction[d];
        if (std::find(c.problems.begin(), c.problems.end(), row.problem) == c.problems.end())
            c.problems.push_back(row.problem);
        if (row.variant == "onednn" || !row.ratio) continue;
        c.cells[{row.problem, row.variant}] = &row;
    }
    for (const BenchSummary& s : r.summaries) {
        const std::string d = direction_name(s.op, s.direction);
        if (s.variant == "onednn" || !s.ratio || !by_direction.count(d)) continue;
        by_direction[d].geomean[s.variant] = *s.ratio;
        by_direction[d].geomean_over[s.variant] =
            std::to_string(s.ratios) + " of " + std::to_string(s.measured) + " problems";
    }
    for (const std::string& d : order) {
        Chart& c = by_direction[d];
        for (const std::string& v : r.variants)
            if (c.geomean.count(v)) c.variants.push_back(v);
        if (c.variants.empty()) continue;
        c.title = d;
        out.push_back(std::move(c));
    }
    return out;
}

class SvgChartWriter {
public:
    SvgChartWriter(std::ostream& out, const BenchReport& r) : out_(out), report_(r) {
        out_ << std::fixed << std::setprecision(1);  // tenths of a pixel are plenty
        int i = 0;
        for (const std::string& v : r.variants)
            if (v != "onednn") colour_[v] = kColours[i++ % std::size(kColours)];
    }

    // Width and height the chart needs.
    std::pair<double, double> size(const Chart& c) const {
        const Geometry g = geometry(c);
        return {g.width, g.height};
    }

    void draw(const Chart& c, double top) {
        const Geometry g = geometry(c);
        double lo = 1, hi = 1;
        for (const auto& [key, row] : c.cells) lo = std::min(lo, *row->ratio), hi = std::max(hi, *row->ratio);
        for (const auto& [v, ratio] : c.geomean) lo = std::min(lo, ratio), hi = std::max(hi, ratio);
        const Axis axis = log_axis(lo, hi);
        const double plot_top = top + kHeader, plot_bottom = plot_top + kPlotHeight;
        auto y_of = [&](double ratio) {
            const double f = std::log(ratio / axis.lo) / std::log(axis.hi / axis.lo);
            return plot_bottom - f * kPlotHeight;
        };
        const double left = kLeft, right = kLeft + g.plot_width;

        // Title, what the bars mean, legend.
        out_ << "<text x=\"" << left << "\" y=\"" << top + 22
             << "\" font-size=\"16\" font-weight=\"bold\">" << xml(c.title)
             << ": throughput relative to onednn</text>\n";
        out_ << "<text x=\"" << left << "\" y=\"" << top + 40 << "\" font-size=\"12\" fill=\"#444\">"
             << xml(subtitle()) << "</text>\n";
        double lx = left;
        for (const std::string& v : c.variants) {
            out_ << "<rect x=\"" << lx << "\" y=\"" << top + 50 << "\" width=\"12\" height=\"12\" fill=\""
                 << colour_.at(v) << "\"/>\n";
            out_ << "<text x=\"" << lx + 16 << "\" y=\"" << top + 60 << "\" font-size=\"12\">"
                 << xml(v) << "</text>\n";
            lx += 30 + 7.5 * double(v.size());
        }
        out_ << "<line x1=\"" << lx << "\" y1=\"" << top + 56 << "\" x2=\"" << lx + 24 << "\" y2=\""
             << top + 56 << "\" stroke=\"#000\" stroke-width=\"1.5\"/>\n";
        out_ << "<text x=\"" << lx + 28 << "\" y=\"" << top + 60
             << "\" font-size=\"12\">onednn (= 1; higher is faster than onednn)</text>\n";

        // Grid and y axis.
        for (double t : axis.ticks) {
            const double y = y_of(t);
            out_ << "<line x1=\"" << left << "\" y1=\"" << y << "\" x2=\"" << right << "\" y2=\"" << y
                 << "\" stroke=\"#ddd\"/>\n";
            out_ << "<text x=\"" << left - 6 << "\" y=\"" << y + 4
                 << "\" font-size=\"11\" text-anchor=\"end\">" << fmt("%g", t) << "</text>\n";
        }
        out_ << "<rect x=\"" << left << "\" y=\"" << plot_top << "\" width=\"" << g.plot_width
             << "\" height=\"" << kPlotHeight << "\" fill=\"none\" stroke=\"#888\"/>\n";
        const double mid = (plot_top + plot_bottom) / 2;
        out_ << "<text x=\"" << left - 64 << "\" y=\"" << mid << "\" font-size=\"12\" text-anchor=\"middle\""
             << " transform=\"rotate(-90 " << left - 64 << " " << mid
             << ")\">variant throughput / onednn throughput (log)</text>\n";

        // Bars: one group per problem, then the geometric means.
        const size_t nv = c.variants.size();
        double x = left;
        for (const std::string& p : c.problems) {
            for (size_t i = 0; i < nv; ++i) {
                const auto it = c.cells.find({p, c.variants[i]});
                const double bx = x + kGroupPad + double(i) * g.bar;
                if (it == c.cells.end()) {  // not measured, or no onednn to divide by
                    out_ << "<text x=\"" << bx + g.bar / 2 << "\" y=\"" << y_of(1) - 3
                         << "\" font-size=\"9\" text-anchor=\"middle\" fill=\"#888\">-</text>\n";
                    continue;
                }
                const BenchRow& row = *it->second;
                bar(bx, g.bar - 1, y_of(1), y_of(*row.ratio), colour_.at(row.variant),
                    row.variant + " on " + p + " " + row.direction + ": " + ratio_text(*row.ratio) +
                        " x onednn (" + fmt("%.4g ", row.throughput) + std::string(unit_of(row.op)) +
                        ", median " + fmt("%.4g", row.median_ms) + " ms of " +
                        std::to_string(row.times_ms.size()) + ")");
            }
            const double lx_ = x + g.group / 2, ly = plot_bottom + 12;
            out_ << "<text x=\"" << lx_ << "\" y=\"" << ly << "\" font-size=\"11\" text-anchor=\"end\""
                 << " transform=\"rotate(-40 " << lx_ << " " << ly << ")\">" << xml(short_label(p))
                 << "<title>" << xml(p) << "</title></text>\n";
            x += g.group;
        }
        out_ << "<line x1=\"" << x << "\" y1=\"" << plot_top << "\" x2=\"" << x << "\" y2=\""
             << plot_bottom << "\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>\n";
        for (size_t i = 0; i < nv; ++i) {
            const std::string& v = c.variants[i];
            const double ratio = c.geomean.at(v);
            const double bx = x + kGroupPad + double(i) * kGeomeanBar;
            const double y1 = y_of(1), y2 = y_of(ratio);
            bar(bx, kGeomeanBar - 2, y1, y2, colour_.at(v),
                v + " geometric mean over " + c.geomean_over.at(v) + ": " + ratio_text(ratio) + " x onednn");
            const double ty = ratio >= 1 ? y2 - 4 : y2 + 12;
            out_ << "<text x=\"" << bx + (kGeomeanBar - 2) / 2 << "\" y=\"" << ty
                 << "\" font-size=\"11\" text-anchor=\"middle\">" << ratio_text(ratio) << "</text>\n";
        }
        const double gx = x + g.geomean_group / 2, gy = plot_bottom + 12;
        out_ << "<text x=\"" << gx << "\" y=\"" << gy << "\" font-size=\"11\" font-weight=\"bold\""
             << " text-anchor=\"end\" transform=\"rotate(-40 " << gx << " " << gy
             << ")\">geometric mean</text>\n";

        // The reference line on top of the bars, then the x axis title.
        out_ << "<line x1=\"" << left << "\" y1=\"" << y_of(1) << "\" x2=\"" << right << "\" y2=\""
             << y_of(1) << "\" stroke=\"#000\" stroke-width=\"1.5\"/>\n";
        out_ << "<text x=\"" << (left + right) / 2 << "\" y=\"" << top + g.height - 10
             << "\" font-size=\"12\" text-anchor=\"middle\">problem</text>\n";
    }

private:
    static constexpr double kLeft = 100, kRight = 20, kHeader = 76, kPlotHeight = 280;
    static constexpr double kMinPlotWidth = 600;
    static constexpr double kGroupPad = 5, kGeomeanBar = 44, kCharWidth = 6.2;

    struct Geometry {
        double bar, group, geomean_group, plot_width, width, height;
    };
    Geometry geometry(const Chart& c) const {
        Geometry g{};
        const double nv = double(c.variants.size());
        const double problems = double(c.problems.size());
        g.geomean_group = nv * kGeomeanBar + 2 * kGroupPad;
        // Bars 8 to 18 wide, wider (up to 36) when there are few problems, so that a short
        // chart is as wide as a long one's legend.
        g.bar = std::max(8.0, std::min(18.0, 60.0 / nv));
        const double fill = (kMinPlotWidth - g.geomean_group) / problems;
        g.bar = std::max(g.bar, std::min(36.0, (fill - 2 * kGroupPad) / nv));
        g.group = nv * g.bar + 2 * kGroupPad;
        g.plot_width = problems * g.group + g.geomean_group;
        size_t longest = std::string("geometric mean").size();
        for (const auto& p : c.problems) longest = std::max(longest, short_label(p).size());
        // Labels slanted at 40 degrees: sin(40) of their length below the axis.
        const double labels = 0.65 * kCharWidth * double(longest) + 16;
        g.width = std::max(kLeft + g.plot_width + kRight, 720.0);
        g.height = kHeader + kPlotHeight + labels + 28;
        return g;
    }

    void bar(double x, double w, double y1, double y2, const std::string& colour, const std::string& tip) {
        out_ << "<rect x=\"" << x << "\" y=\"" << std::min(y1, y2) << "\" width=\"" << w << "\" height=\""
             << std::max(std::abs(y2 - y1), 0.5) << "\" fill=\"" << colour << "\"><title>" << xml(tip)
             << "</title></rect>\n";
    }

    std::string subtitle() const {
        std::string s = std::string(to_string(report_.dtype)) + ", " + std::to_string(report_.threads) +
                        (report_.threads == 1 ? " thread" : " threads");
        if (report_.mb) s += ", mb " + std::to_string(*report_.mb);
        s += ", median of up to " + std::to_string(report_.reps) +
             (report_.reps == 1 ? " timed call" : " timed calls") + "; bars start at 1 (onednn); log scale";
        if (report_.load_start[0] >= 0) s += "; load average " + fmt("%.2f", report_.load_start[0]);
        return s;
    }

    std::ostream& out_;
    const BenchReport& report_;
    std::map<std::string, std::string> colour_;
};

}  // namespace

std::string_view unit_of(Op op) { return op == Op::conv2d ? "GFLOP/s" : "GB/s"; }

std::string direction_name(Op op, const std::string& direction) {
    return std::string(to_string(op)) + " " + direction;
}

std::string csv_text(const BenchReport& r) {
    std::ostringstream out;
    // One table: a row per measurement, then a row per variant and direction with the
    // geometric means (row = geomean; throughput over `problems` problems, the ratio over
    // the `ratios` of them that have one).
    out << "row,problem,descriptor,op,direction,layout,dtype,variant,status,warmups,reps,median_ms,"
           "throughput,unit,workspace_bytes,ratio_to_onednn,problems,ratios,implementation,message\n";
    auto opt = [](const std::optional<double>& v) { return v ? number(*v) : std::string(); };
    for (const BenchRow& row : r.rows) {
        const bool measured = row.outcome == BenchRow::Outcome::measured;
        out << "measurement," << csv_field(row.problem) << "," << csv_field(row.descriptor) << ","
            << to_string(row.op) << "," << row.direction << "," << row.layout << ","
            << to_string(r.dtype) << "," << row.variant << "," << outcome_name(row.outcome) << ","
            << (measured ? std::to_string(row.warmups) : "") << ","
            << (measured ? std::to_string(row.times_ms.size()) : "") << ","
            << (measured ? number(row.median_ms) : "") << "," << (measured ? number(row.throughput) : "")
            << "," << unit_of(row.op) << "," << (measured ? std::to_string(row.workspace_bytes) : "")
            << "," << opt(row.ratio) << ",,," << csv_field(row.implementation) << ","
            << csv_field(row.message) << "\n";
    }
    for (const BenchSummary& s : r.summaries)
        out << "geomean,,," << to_string(s.op) << "," << s.direction << ",," << to_string(r.dtype) << ","
            << s.variant << ",,,,," << number(s.throughput) << "," << unit_of(s.op) << ",,"
            << opt(s.ratio) << "," << s.measured << "," << s.ratios << ",,\n";
    return out.str();
}

std::string json_text(const BenchReport& r) {
    using nlohmann::json;
    auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
    json settings = {{"dtype", to_string(r.dtype)},    {"threads", r.threads},
                     {"reps", r.reps},                 {"warmup", r.warmup},
                     {"max_time_seconds", r.max_seconds}, {"mb", opt(r.mb)},
                     {"problems_from", r.sources},     {"directions", r.directions},
                     {"variants", r.variants}};
    json machine = {{"hardware_threads", r.hardware_threads},
                    {"load_average_start", r.load_start},
                    {"load_average_end", r.load_end}};
    json rows = json::array();
    for (const BenchRow& row : r.rows) {
        json j = {{"problem", row.problem},     {"descriptor", row.descriptor},
                  {"op", to_string(row.op)},    {"direction", row.direction},
                  {"layout", row.layout},       {"dtype", to_string(r.dtype)},
                  {"variant", row.variant},     {"status", outcome_name(row.outcome)}};
        if (row.outcome == BenchRow::Outcome::measured) {
            j["implementation"] = row.implementation;
            j["warmups"] = row.warmups;
            j["times_ms"] = row.times_ms;
            j["median_ms"] = row.median_ms;
            j[row.op == Op::conv2d ? "flop" : "bytes"] = row.work;
            j["throughput"] = row.throughput;
            j["unit"] = unit_of(row.op);
            j["workspace_bytes"] = row.workspace_bytes;
            j["ratio_to_onednn"] = opt(row.ratio);
        } else {
            j["message"] = row.message;
        }
        rows.push_back(std::move(j));
    }
    json geomeans = json::array();
    for (const BenchSummary& s : r.summaries)
        geomeans.push_back({{"variant", s.variant},
                            {"op", to_string(s.op)},
                            {"direction", s.direction},
                            {"problems", s.measured},
                            {"throughput", s.throughput},
                            {"unit", unit_of(s.op)},
                            {"ratios", s.ratios},
                            {"ratio_to_onednn", opt(s.ratio)}});
    const json doc = {{"format", "convconf-bench/1"},
                      {"settings", settings},
                      {"machine", machine},
                      {"elapsed_seconds", r.elapsed_seconds},
                      {"measurements", rows},
                      {"geomeans", geomeans},
                      {"notes", r.notes}};
    // Invalid UTF-8 in a variant's message is replaced, not thrown: the report is still written.
    return doc.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string svg_text(const BenchReport& r) {
    const std::vector<Chart> cs = charts(r);
    std::ostringstream body;
    SvgChartWriter writer(body, r);
    double width = 720, height = 0;
    for (const Chart& c : cs) {
        const auto [w, h] = writer.size(c);
        writer.draw(c, height);
        width = std::max(width, w);
        height += h;
    }
    if (cs.empty()) {
        std::string why = "no ratios to onednn to draw";
        for (const std::string& n : r.notes) why += "; " + n;
        body << "<text x=\"20\" y=\"30\" font-size=\"14\">" << xml(why) << "</text>\n";
        height = 50;
    }
    std::ostringstream out;
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << std::ceil(width) << "\" height=\""
        << std::ceil(height) << "\" viewBox=\"0 0 " << std::ceil(width) << " " << std::ceil(height)
        << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
        << "<title>convconf bench: variant throughput relative to onednn</title>\n"
        << "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n"
        << body.str() << "</svg>\n";
    return out.str();
}

}  // namespace convconf::cli
