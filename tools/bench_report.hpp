// What `convconf bench` measured, and the files it writes for machines (CSV, JSON) and for
// people (an SVG bar chart of the ratios to oneDNN). The measuring is reference/bench.hpp's.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "impl/core/types.hpp"

namespace convconf::cli {

// One variant on one problem and direction.
struct BenchRow {
    enum class Outcome { measured, skipped, error };

    std::string problem;     // the problem's name, or its descriptor
    std::string descriptor;  // benchdnn descriptor (mb included), for `convconf check`
    Op op = Op::conv2d;
    std::string direction;   // FWD_B, BWD_D, ... FWD, BWD
    std::string layout;      // "NCHW/OIHW" (conv2d), "NHWC" (maxpool2d)
    std::string variant;
    Outcome outcome = Outcome::measured;
    std::string message;         // the skip reason or the error; empty when measured
    std::string implementation;  // what the variant says ran (oneDNN's impl_info_str)
    int warmups = 0;
    std::vector<double> times_ms;  // one per timed call
    double median_ms = 0;
    double work = 0;        // FLOP (conv2d) or bytes (maxpool2d) per call
    double throughput = 0;  // GFLOP/s or GB/s
    int64_t workspace_bytes = 0;
    std::optional<double> ratio;  // throughput / onednn's on the same problem and direction
};

// A variant's geometric means over the problems of one direction.
struct BenchSummary {
    std::string variant;
    Op op = Op::conv2d;
    std::string direction;
    int measured = 0;             // problems measured
    double throughput = 0;        // geometric mean over them
    int ratios = 0;               // problems with a ratio to onednn
    std::optional<double> ratio;  // geometric mean over those
};

struct BenchReport {
    // Settings, as run.
    DType dtype = DType::f32;
    int threads = 1;
    int reps = 0, warmup = 0;
    double max_seconds = 0;
    std::optional<int64_t> mb;  // --mb, when given
    std::vector<std::string> sources;     // "set resnet50", "batch FILE", "descriptor D"
    std::vector<std::string> directions;  // as chosen
    std::vector<std::string> variants;    // as chosen, in order
    // The machine while it ran.
    int hardware_threads = 0;
    std::array<double, 3> load_start{}, load_end{};
    double elapsed_seconds = 0;

    std::vector<BenchRow> rows;
    std::vector<BenchSummary> summaries;
    std::vector<std::string> notes;  // why ratios are missing, and the like
};

// "GFLOP/s" or "GB/s".
std::string_view unit_of(Op);
// "conv2d FWD_B", the direction as the summaries and charts name it.
std::string direction_name(Op, const std::string& direction);

// The files' contents (written by the caller through OutputFile, reference/output_file.hpp).
std::string csv_text(const BenchReport&);
std::string json_text(const BenchReport&);
// One grouped bar chart per direction: problems along x, a bar per variant (onednn is the
// line at 1), bars drawn from 1 on a log scale, and each variant's geometric mean last.
std::string svg_text(const BenchReport&);

}  // namespace convconf::cli
