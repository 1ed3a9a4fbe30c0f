// Timing variants against each other (`convconf bench`): the problems a benchmark runs
// (benchdnn's ResNet-50 shapes, the notebooks' shapes, descriptors, benchdnn batch files),
// the timing loop, and the arithmetic results are summarised with (FLOP and byte counts,
// median, geometric mean). Printing and file formats are the tool's (tools/bench_report.hpp).
//
// What is timed is one call of a variant's entry point, nothing around it: inputs are
// filled once per problem and pass, outputs allocated once, and every variant timed on a
// problem reuses them. Whatever a variant does inside its entry point is its cost: for
// onednn that includes creating the primitive descriptor, reordering to and from the
// layouts oneDNN picks and, for max-pool forward, reading argmax back (reference/onednn).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "impl/core/problem.hpp"
#include "impl/core/variant.hpp"
#include "reference/conformance.hpp"

namespace convconf::bench {

// One problem to time: conv2d or maxpool2d, with its layouts.
struct Problem {
    std::string name;  // "resnet_50:conv1*1", a notebook shape, or empty for a bare descriptor
    Op op = Op::conv2d;
    ConvProblem problem;  // maxpool2d: the WindowProblem part

    // The name, or the descriptor when there is none.
    std::string label() const;
    // benchdnn descriptor (conv or pool), without the name: pastes into `convconf check`.
    std::string descriptor() const;
};

// The built-in sets: "resnet50" (benchdnn's ResNet-50 conv and pool shapes, as its input
// files give them: conv mb 1, pool mb 16 and NHWC), "mobilenet" (MobileNet v1's and v2's
// convolutions, depthwise and pointwise, mb 1) and "notebooks" (the shapes the
// notebooks computed, NHWC where they were NHWC).
const std::vector<std::string>& set_names();
// Throws std::invalid_argument naming `name` and listing the sets.
std::vector<Problem> problem_set(std::string_view name);
// The files problem_set(name) reads (none for a set written in the code), so that no
// report is written over them.
std::vector<std::filesystem::path> set_files(std::string_view name);

// A benchdnn descriptor: conv2d when it has an oc token, maxpool2d otherwise (as
// `convconf check`). Throws DescriptorError.
Problem parse_problem(std::string_view descriptor);

// A benchdnn batch file (reference/batch.hpp), each descriptor read as parse_problem does.
// As benchdnn does, `--mb=N` (N > 0) in effect sets the minibatch, and `--tag=` or
// `--stag=` (nchw, nhwc, or benchdnn's abx, axb) the activations' layout, `--wtag=` (oihw,
// hwio) the weights'; `any` and absent keep the defaults. Other options are ignored.
// Throws BatchError ("file:line: ...") for a descriptor or tag it cannot read.
std::vector<Problem> read_problems(const std::string& path);

// ---- Counting ---------------------------------------------------------------------------

// Floating-point operations of one conv2d pass: 2*mb*oc*oh*ow*ic*kh*kw (a multiply and an
// add per tap, every tap counted, padding included), the same count for forward,
// backward_data and backward_weights; bias terms are left out (fewer than 1/(ic*kh*kw)).
double conv_flops(const ConvProblem&);
// Bytes one max-pool pass must move: x read and y written (forward; argmax not counted),
// x and dy read and dx written (backward).
double pool_bytes(const PoolProblem&, Pass, DType);
// What a check's throughput is counted in: conv2d FLOP, maxpool2d bytes.
double work(const CheckSpec&);
// "GFLOP/s" or "GB/s" (both 10^9).
std::string_view throughput_unit(Op);

// The middle value (mean of the middle two for an even count); NaN when empty.
double median(std::vector<double>);
// exp(mean(log v)) of positive values; NaN when empty.
double geometric_mean(const std::vector<double>&);

// ---- Timing -------------------------------------------------------------------------------

// The inputs (uniform floats in [-1, 1), reference/data.hpp, seed 1) and outputs of one
// check, allocated once; run() calls the variant's entry point on them. Every entry point
// overwrites its outputs, so variants can share them.
class Workload {
public:
    // spec.fill and spec.seed are ignored: floats, seed 1. Validates the problem.
    explicit Workload(const CheckSpec& spec);
    ~Workload();
    Workload(Workload&&) noexcept;
    Workload& operator=(Workload&&) noexcept;

    const CheckSpec& spec() const { return spec_; }
    // One call of the entry point of spec().op and spec().pass. Throws what it throws.
    void run(const Variant&);

private:
    struct Buffers;
    CheckSpec spec_;
    std::unique_ptr<Buffers> buffers_;
};

struct Budget {
    int reps = 10;            // timed calls wanted
    int warmup = 1;           // untimed calls before them
    double max_seconds = 2;   // for warm-up and timed calls together, per variant and check
};

struct Timing {
    int warmups = 0;
    std::vector<double> seconds;  // one per timed call, in order
    double median() const { return bench::median(seconds); }
};

// Calls the entry point `budget.warmup` times untimed, then times up to `budget.reps`
// calls (std::chrono::steady_clock around the call alone). Warm-up stops early, and no
// further call is timed, once the next would predictably end beyond budget.max_seconds
// since the first call; at least one call is always timed, after at least one warm-up
// when budget.warmup > 0. So a slow variant is timed fewer times, and says so in
// Timing::seconds.size(). Throws what the variant throws.
Timing time_variant(Workload&, const Variant&, const Budget&);

}  // namespace convconf::bench
