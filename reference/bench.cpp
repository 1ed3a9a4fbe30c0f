#include "reference/bench.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <variant>

#include "impl/core/descriptor.hpp"
#include "reference/batch.hpp"
#include "reference/data.hpp"

namespace convconf::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// The notebooks' shapes (../shared/seeds), as benchdnn descriptors. Where a notebook gives
// no filter count (the 448x640 image was only lowered by im2col), one filter.
struct NotebookShape {
    const char* name;
    const char* descriptor;
    Layout layout;
};
constexpr NotebookShape kNotebookShapes[] = {
    // 000 In [1]: Convolution(W, b).forward(np.arange(16).reshape(1,1,4,4)), W 1x1x2x2.
    {"conv 1x1x4x4 k2", "mb1ic1ih4oc1kh2", Layout::nchw},
    // 001 In [13]: Convolution(w, b, pad=1) on np.arange(9).reshape(1,1,3,3).
    {"conv 1x1x3x3 k2 pad1", "mb1ic1ih3oc1kh2ph1", Layout::nchw},
    // 000: two images, two channels, three 2x2 filters (np.arange(64).reshape(2,2,4,4)).
    {"conv 2x2x4x4 k2 3 filters", "mb2ic2ih4oc3kh2", Layout::nchw},
    // 001 In [10]: my_im2col(np.random.randn(1,3,448,640), 5, 5), as a convolution.
    {"conv 1x3x448x640 k5", "mb1ic3ih448iw640oc1kh5kw5", Layout::nchw},
    // 000/001 MyPooling(2,2,2) on 1x1x4x4; 002 np.random.randint(0,10,2*3*4*4); 003 2x2x4x5.
    {"pool 1x1x4x4 k2 s2", "mb1ic1ih4kh2sh2", Layout::nchw},
    {"pool 2x3x4x4 k2 s2", "mb2ic3ih4kh2sh2", Layout::nchw},
    {"pool 2x2x4x5 k2 s2", "mb2ic2ih4iw5kh2kw2sh2sw2", Layout::nchw},
    // 004 In [54]: float_sequence(48).reshape(4,4,3), HWC; In [69]-[72]: NHWC, window = stride.
    {"pool NHWC 1x4x4x3 s2", "mb1ic3ih4kh2sh2", Layout::nhwc},
    {"pool NHWC 128x28x28x3 s2", "mb128ic3ih28kh2sh2", Layout::nhwc},
    {"pool NHWC 128x30x12x6 s3", "mb128ic6ih30iw12kh3kw3sh3sw3", Layout::nhwc},
    {"pool NHWC 1x100x200x16 s5", "mb1ic16ih100iw200kh5kw5sh5sw5", Layout::nhwc},
};

std::vector<Problem> notebook_set() {
    std::vector<Problem> out;
    for (const NotebookShape& s : kNotebookShapes) {
        Problem p = parse_problem(s.descriptor);
        p.name = s.name;
        p.problem.layout = s.layout;
        out.push_back(p);
    }
    return out;
}

std::vector<std::filesystem::path> resnet50_files() {
    const std::filesystem::path dir = CONVCONF_BENCHDNN_DIR;
    return {dir / "shapes_resnet_50_conv", dir / "shapes_resnet_50_pool"};
}

// MobileNet v1 and v2: every convolution, depthwise and pointwise (the files name their
// sources).
std::vector<std::filesystem::path> mobilenet_files() {
    const std::filesystem::path dir = CONVCONF_BENCHDNN_DIR;
    return {dir / "shapes_mobilenet_v1_conv", dir / "shapes_mobilenet_v2_conv"};
}

std::vector<Problem> problems_of(const std::vector<std::filesystem::path>& files) {
    std::vector<Problem> out;
    for (const auto& file : files)
        for (Problem& p : read_problems(file.string())) out.push_back(p);
    return out;
}

// benchdnn's tags for plain 4-D layouts: nchw = abx (dimensions in order), nhwc = axb.
template <class L>
bool set_tag(const BatchEntry& e, const char* option, L& layout) {
    const auto it = e.options.find(option);
    if (it == e.options.end() || it->second.empty() || it->second == "any") return false;
    std::string tag = it->second;
    if constexpr (std::is_same_v<L, Layout>) {
        if (tag == "abx" || tag == "abcd") tag = "nchw";
        if (tag == "axb" || tag == "acdb") tag = "nhwc";
        try {
            layout = parse_layout(tag);
        } catch (const std::exception&) {
            throw BatchError(e.location() + ": --" + option + "=" + it->second +
                             ": convconf has the activation layouts nchw (abx) and nhwc (axb)");
        }
    } else {
        try {
            layout = parse_weights_layout(tag);
        } catch (const std::exception&) {
            throw BatchError(e.location() + ": --" + option + "=" + it->second +
                             ": convconf has the weights layouts oihw and hwio");
        }
    }
    return true;
}

template <class T>
struct Typed {
    Inputs<T> in;
    Outputs<T> out;
};

}  // namespace

// ---- Problems -----------------------------------------------------------------------------

std::string Problem::label() const { return name.empty() ? descriptor() : name; }

std::string Problem::descriptor() const {
    if (op == Op::conv2d) return to_descriptor(problem);
    return to_descriptor(pool_problem(problem));
}

const std::vector<std::string>& set_names() {
    static const std::vector<std::string> names = {"resnet50", "mobilenet", "notebooks"};
    return names;
}

std::vector<Problem> problem_set(std::string_view name) {
    if (name == "resnet50") return problems_of(resnet50_files());
    if (name == "mobilenet") return problems_of(mobilenet_files());
    if (name == "notebooks") return notebook_set();
    std::string known;
    for (const auto& n : set_names()) known += " " + n;
    throw std::invalid_argument("--set: no set \"" + std::string(name) + "\" (built in:" + known + ")");
}

std::vector<std::filesystem::path> set_files(std::string_view name) {
    if (name == "resnet50") return resnet50_files();
    if (name == "mobilenet") return mobilenet_files();
    return {};
}

Problem parse_problem(std::string_view descriptor) {
    // Tokens end where the name (`n...`) starts; no token name has an n in it.
    const std::string_view tokens = descriptor.substr(0, descriptor.find('n'));
    Problem p;
    if (tokens.find("oc") != std::string_view::npos) {
        auto d = parse_conv_descriptor(descriptor);
        p.op = Op::conv2d;
        p.name = d.name;
        p.problem = d.problem;
    } else {
        auto d = parse_pool_descriptor(descriptor);
        p.op = Op::maxpool2d;
        p.name = d.name;
        static_cast<WindowProblem&>(p.problem) = d.problem;
    }
    return p;
}

std::vector<Problem> read_problems(const std::string& path) {
    std::vector<Problem> out;
    for (const BatchEntry& e : read_batch(path)) {
        Problem p;
        try {
            p = parse_problem(e.descriptor);
        } catch (const std::exception& ex) {
            throw BatchError(e.location() + ": " + ex.what());
        }
        if (auto mb = e.options.find("mb"); mb != e.options.end()) {
            int64_t n = 0;
            size_t used = 0;
            try {
                n = std::stoll(mb->second, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != mb->second.size() || n < 0)
                throw BatchError(e.location() + ": --mb=" + mb->second +
                                 ": not a non-negative integer");
            if (n > 0) p.problem.mb = n;  // benchdnn: 0 keeps the descriptor's
        }
        // benchdnn's --alg: an average pool is timed as one (max is the pool descriptor's default).
        if (auto alg = e.options.find("alg"); alg != e.options.end() && p.op != Op::conv2d) {
            try {
                p.problem.alg = parse_pool_alg(alg->second, "--alg");
            } catch (const std::exception& ex) {
                throw BatchError(e.location() + ": " + ex.what());
            }
            p.op = is_average(p.problem.alg) ? Op::avgpool2d : Op::maxpool2d;
        }
        if (!set_tag(e, "tag", p.problem.layout)) set_tag(e, "stag", p.problem.layout);
        set_tag(e, "wtag", p.problem.weights_layout);
        out.push_back(p);
    }
    return out;
}

// ---- Counting -----------------------------------------------------------------------------

// Each output sums its group's ic/g input channels (benchdnn counts grouped convolutions so).
double conv_flops(const ConvProblem& p) {
    return 2.0 * double(p.mb) * double(p.oc) * double(p.oh()) * double(p.ow()) * double(p.icg()) *
           double(p.kh) * double(p.kw);
}

double pool_bytes(const PoolProblem& p, Pass pass, DType dtype) {
    const double element = dtype == DType::f32 ? 4 : 8;
    const double x = double(p.mb) * double(p.ic) * double(p.ih) * double(p.iw);
    const double y = double(p.mb) * double(p.ic) * double(p.oh()) * double(p.ow());
    // Backward reads dy and writes dx; max pooling reads x too, to find the choices.
    if (pass == Pass::forward) return element * (x + y);
    return element * (is_average(p.alg) ? x + y : 2 * x + y);
}

double work(const CheckSpec& s) {
    if (s.op == Op::conv2d) return conv_flops(s.problem);
    if (s.op == Op::maxpool2d || s.op == Op::avgpool2d) return pool_bytes(pool_problem(s.problem), s.pass, s.dtype);
    throw std::invalid_argument("bench times conv2d and the poolings, not " + std::string(to_string(s.op)));
}

std::string_view throughput_unit(Op op) { return op == Op::conv2d ? "GFLOP/s" : "GB/s"; }

double median(std::vector<double> v) {
    if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
    const size_t mid = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + mid, v.end());
    if (v.size() % 2) return v[mid];
    const double upper = v[mid];
    return (upper + *std::max_element(v.begin(), v.begin() + mid)) / 2;
}

double geometric_mean(const std::vector<double>& v) {
    if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
    double sum = 0;
    for (double x : v) sum += std::log(x);
    return std::exp(sum / double(v.size()));
}

// ---- Timing -------------------------------------------------------------------------------

// The tensors, and the one call that binds them (the same call a check makes). Held by
// pointer, so the bound tensors stay where the call saw them when the Workload moves.
struct Workload::Buffers {
    std::variant<Typed<float>, Typed<double>> typed;
    std::optional<Call> call;
};

namespace {

template <class T>
Typed<T> make_buffers(const CheckSpec& s) {
    if (s.op != Op::conv2d && s.op != Op::maxpool2d && s.op != Op::avgpool2d)
        throw std::invalid_argument("bench times conv2d and the poolings only");
    return {generated_inputs<T>(s), poisoned_outputs<T>(s)};
}

}  // namespace

Workload::Workload(const CheckSpec& spec) : spec_(spec), buffers_(std::make_unique<Buffers>()) {
    spec_.fill = Fill::floats;
    spec_.seed = 1;
    validate(spec_);
    harness_allocation("the bench's tensors", spec_, [&] {
        if (spec_.dtype == DType::f32)
            buffers_->typed = make_buffers<float>(spec_);
        else
            buffers_->typed = make_buffers<double>(spec_);
    });
    buffers_->call = std::visit([&](auto& t) { return bound_call(spec_, t.in, t.out); }, buffers_->typed);
}
Workload::~Workload() = default;
Workload::Workload(Workload&&) noexcept = default;
Workload& Workload::operator=(Workload&&) noexcept = default;

void Workload::run(const Variant& v) {
    v.run(*buffers_->call);
}

Timing time_variant(Workload& w, const Variant& v, const Budget& budget) {
    Timing t;
    const Clock::time_point start = Clock::now();
    double last = 0;  // the last call's duration predicts the next one's
    auto fits = [&] { return seconds_since(start) + last <= budget.max_seconds; };
    for (int i = 0; i < budget.warmup && (i == 0 || fits()); ++i) {
        const Clock::time_point t0 = Clock::now();
        w.run(v);
        last = seconds_since(t0);
        ++t.warmups;
    }
    for (int i = 0; i < std::max(budget.reps, 1) && (i == 0 || fits()); ++i) {
        const Clock::time_point t0 = Clock::now();
        w.run(v);
        last = seconds_since(t0);
        t.seconds.push_back(last);
    }
    return t;
}

}  // namespace convconf::bench
