// Every registered variant, through the conformance plan, against the naive reference in
// double. Tests are named after the variant: adding a variant to the registry adds its test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "impl/core/descriptor.hpp"
#include "reference/registry.hpp"
#include "reference/conformance.hpp"
#include "tests/test_util.hpp"

namespace convconf {
namespace {

class Conformance : public ::testing::TestWithParam<const Variant*> {};

TEST_P(Conformance, DefaultPlanPasses) {
    const Variant& v = *GetParam();
    int64_t passed = 0, skipped = 0;
    for (const CheckSpec& s : default_plan()) {
        const CheckResult r = run_check(v, s);
        if (r.status == Status::failed) ADD_FAILURE() << r.detail;
        (r.status == Status::passed ? passed : skipped)++;
    }
    EXPECT_GT(passed, 0) << "a variant that skips everything has not been checked";
    RecordProperty("passed", int(passed));
    RecordProperty("skipped", int(skipped));
}

// Every entry point validates before it computes: an invalid problem or a tensor that
// disagrees with the problem is an error naming the field or tensor, for every variant.
TEST_P(Conformance, EntryPointsRejectBadArguments) {
    const Variant& v = *GetParam();
    ConvProblem p;
    p.mb = 1, p.ic = 2, p.ih = p.iw = 4, p.oc = 3, p.kh = p.kw = 3;
    Tensor<float> x(AxisOrder::nchw, p.x_dims()), w(AxisOrder::oihw, p.w_dims());
    Tensor<float> y(AxisOrder::nchw, p.y_dims());
    auto field_of = [&](auto&& call) -> std::string {
        try {
            call();
        } catch (const ProblemError& e) {
            return e.field();
        }
        return "(accepted)";
    };
    Tensor<float> x_nhwc(AxisOrder::nhwc, p.x_dims());
    EXPECT_EQ(field_of([&] { calls::conv_forward(v, p, x_nhwc, w, nullptr, y); }), "x");
    Tensor<float> y_wrong(AxisOrder::nchw, {1, 3, 3, 2});
    EXPECT_EQ(field_of([&] { calls::conv_forward(v, p, x, w, nullptr, y_wrong); }), "y");
    ConvProblem bad = p;
    bad.sw = 0;
    EXPECT_EQ(field_of([&] { calls::conv_forward(v, bad, x, w, nullptr, y); }), "sw");
    PoolProblem pool;
    static_cast<WindowProblem&>(pool) = p;
    pool.pt = 3;  // first window entirely in the padding
    Tensor<int64_t> argmax(AxisOrder::nchw, {1, 2, 2, 2});
    EXPECT_EQ(field_of([&] { calls::pool_forward(v, pool, x, y, argmax); }), "pt");
}

INSTANTIATE_TEST_SUITE_P(Registry, Conformance, ::testing::ValuesIn(variants()),
                         [](const auto& info) { return testing::parameter_name(info.param->name()); });

// A variant that gets one thing wrong must fail, with a report naming it: the harness
// itself is under test here. Each defect is a different way an implementation goes wrong.
template <class Defect>
class Broken final : public VariantOf<Broken<Defect>> {
public:
    std::string name() const override { return "broken"; }
    std::string description() const override { return "naive with a planted defect"; }
#define CONVCONF_DELEGATE(fn, ...) calls::fn(naive_variant(), __VA_ARGS__)
    template <class T> void conv_forward_t(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>* b, Tensor<T>& y) const {
        CONVCONF_DELEGATE(conv_forward, p, x, w, b, y);
        Defect::spoil(Op::conv2d, y);
    }
    template <class T> void conv_backward_data_t(const ConvProblem& p, const Tensor<T>& w, const Tensor<T>& dy, Tensor<T>& dx) const {
        CONVCONF_DELEGATE(conv_backward_data, p, w, dy, dx);
    }
    template <class T> void conv_backward_weights_t(const ConvProblem& p, const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dw, Tensor<T>* db) const {
        CONVCONF_DELEGATE(conv_backward_weights, p, x, dy, dw, db);
    }
    template <class T> void pool_forward_t(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y, Tensor<int64_t>& argmax) const {
        CONVCONF_DELEGATE(pool_forward, p, x, y, argmax);
        Defect::spoil(Op::maxpool2d, argmax);
    }
    template <class T> void pool_backward_t(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dx) const {
        CONVCONF_DELEGATE(pool_backward, p, x, dy, dx);
    }
    template <class T> void avg_forward_t(const PoolProblem& p, const Tensor<T>& x, Tensor<T>& y) const {
        CONVCONF_DELEGATE(avg_forward, p, x, y);
    }
    template <class T> void avg_backward_t(const PoolProblem& p, const Tensor<T>& dy, Tensor<T>& dx) const {
        CONVCONF_DELEGATE(avg_backward, p, dy, dx);
    }
    template <class T> void im2col_t(const WindowProblem& p, const Tensor<T>& x, Tensor<T>& col) const {
        CONVCONF_DELEGATE(im2col, p, x, col);
    }
    template <class T> void col2im_t(const WindowProblem& p, const Tensor<T>& col, Tensor<T>& x) const {
        CONVCONF_DELEGATE(col2im, p, col, x);
    }
#undef CONVCONF_DELEGATE
};

// Leaves the last element of conv's y unwritten (still the poison NaN).
struct ForgetsLastElement {
    template <class U> static void spoil(Op op, Tensor<U>& t) {
        if (op == Op::conv2d) t[t.size() - 1] = poison_value<U>();
    }
};
// Writes one element past the end of conv's y and two before its start.
struct WritesOutOfBounds {
    template <class U> static void spoil(Op op, Tensor<U>& t) {
        if (op != Op::conv2d) return;
        t.data()[t.size()] = U(0);  // inside the guard region the harness put around y
        t.data()[-1] = U(0);
        t.data()[-2] = U(0);
    }
};
// Reports a tie-broken argmax as the last maximum instead of the first.
struct LastMaximum {
    template <class U> static void spoil(Op op, Tensor<U>& t) {
        if (op == Op::maxpool2d) for (U& v : t.values()) v = v == 0 ? 1 : v;
    }
};

CheckSpec conv_spec() {
    CheckSpec s;
    s.problem.mb = 1, s.problem.ic = 2, s.problem.ih = s.problem.iw = 4, s.problem.oc = 2;
    s.problem.kh = s.problem.kw = 2;
    return s;
}

// When variants disagree, the harness says who agrees with whom (ruy: "these paths all
// agree with each other").
TEST(ConformanceHarness, SaysWhoAgreesWithWhom) {
    Broken<ForgetsLastElement> forgets;
    Broken<LastMaximum> last;  // conv is untouched: agrees with naive there
    const Variant* im2col = find_variant("im2col");
    const Variant* strided = find_variant("strided");
    CheckSpec s = conv_spec();
    s.fill = Fill::floats;
    const auto groups = agreement({&naive_variant(), &forgets, im2col, &last, strided}, s);
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(groups[0], (std::vector<const Variant*>{&naive_variant(), im2col, &last, strided}));
    EXPECT_EQ(groups[1], (std::vector<const Variant*>{&forgets}));
    EXPECT_EQ(agreement_text(groups), "naive, im2col, broken and strided all agree with each other; broken with none of the others");
    EXPECT_EQ(agreement_text(agreement({&forgets, im2col}, s)), "broken with none of the others; im2col with none of the others");
    EXPECT_EQ(agreement_text(agreement({im2col, strided}, s)), "im2col and strided agree with each other");
    s.op = Op::maxpool2d;
    s.fill = Fill::ties;
    EXPECT_EQ(agreement_text(agreement({&last, &naive_variant(), strided}, s)),
              "broken with none of the others; naive and strided agree with each other");
}

// A passed exact check reports errors of 0, and so does a skipped one: the figures are
// maxima over the comparisons made, starting from none.
TEST(ConformanceHarness, ErrorFiguresStartAtZero) {
    const CheckResult exact = run_check(naive_variant(), conv_spec());
    EXPECT_EQ(exact.status, Status::passed);
    EXPECT_EQ(exact.max_abs_error, 0);
    EXPECT_EQ(exact.max_rel_error, 0);
    const CheckResult none{};
    EXPECT_EQ(none.status, Status::passed);
    EXPECT_EQ(none.max_abs_error, 0);
    EXPECT_EQ(none.max_rel_error, 0);
    CheckSpec f = conv_spec();
    f.fill = Fill::floats;
    const CheckResult floats = run_check(*find_variant("im2col"), f);
    EXPECT_GT(floats.max_abs_error, 0);  // a float sum in another order differs a little
    EXPECT_LT(floats.max_rel_error, 1e-5);
}

TEST(ConformanceHarness, UnwrittenElementFailsAndSaysWhere) {
    Broken<ForgetsLastElement> v;
    const CheckResult r = run_check(v, conv_spec());
    ASSERT_EQ(r.status, Status::failed);
    EXPECT_NE(r.detail.find("UNWRITTEN: output y: 1 of 18 elements never written (still the poison value), "
                            "first (n,c,h,w)=(0,1,2,2)"),
              std::string::npos) << r.detail;
    EXPECT_NE(r.detail.find("repro: convconf check --variant broken --op conv2d --dir FWD_D"),
              std::string::npos) << r.detail;
}

// Naive's result, but it writes into one element of x after computing y: the output is
// right, and the check still fails, because inputs are read only (a plugin is handed them
// as writable memory). The reference is computed before the variant runs.
class WritesIntoItsInput final : public Variant {
public:
    std::string name() const override { return "writes_input"; }
    std::string description() const override { return "naive, then writes into x"; }
    void run(const Call& c) const override {
        naive_variant().run(c);
        if (c.dtype() == DType::f32) c.tensor<float>(Role::x).at(0, 1, 2, 3) += 1;
        else c.tensor<double>(Role::x).at(0, 1, 2, 3) += 1;
    }
};

TEST(ConformanceHarness, AVariantThatWritesIntoAnInputFails) {
    const WritesIntoItsInput v;
    for (DType t : {DType::f32, DType::f64}) {
        CheckSpec s = conv_spec();
        s.dtype = t;
        const CheckResult r = run_check(v, s);
        ASSERT_EQ(r.status, Status::failed) << to_string(t);
        EXPECT_NE(r.detail.find("INPUT CHANGED: input x: the variant wrote into it, first at (n,c,h,w)=(0,1,2,3)"),
                  std::string::npos) << r.detail;
        EXPECT_EQ(r.detail.find("MISMATCH"), std::string::npos) << r.detail;  // y itself is right
    }
}

TEST(ConformanceHarness, OutOfBoundsWriteFailsAndSaysWhere) {
    Broken<WritesOutOfBounds> v;
    const CheckResult r = run_check(v, conv_spec());
    ASSERT_EQ(r.status, Status::failed);
    EXPECT_NE(r.detail.find("OUT OF BOUNDS WRITE: output y: the variant wrote 2 elements before the start "
                            "(-2, -1); 1 element past the end (+0)"),
              std::string::npos) << r.detail;
    EXPECT_NE(r.detail.find("repro: convconf check --variant broken"), std::string::npos) << r.detail;
}

TEST(ConformanceHarness, WrongArgmaxFails) {
    Broken<LastMaximum> v;
    CheckSpec s;
    s.op = Op::maxpool2d;
    s.fill = Fill::ties;
    s.problem.mb = 1, s.problem.ic = 3, s.problem.ih = s.problem.iw = 6;
    s.problem.kh = s.problem.kw = 2, s.problem.sh = s.problem.sw = 2;
    const CheckResult r = run_check(v, s);
    ASSERT_EQ(r.status, Status::failed);
    EXPECT_NE(r.detail.find("output argmax"), std::string::npos) << r.detail;
}

// Pool backward's integer dy is distinct and nonzero, in every fill that has integer data:
// a window whose dy is 0 hides where its gradient went.
TEST(ConformanceInputs, PoolBackwardDyIsDistinctAndNonzero) {
    for (Fill f : {Fill::ties, Fill::negative, Fill::integers, Fill::distinct}) {
        CheckSpec s;
        s.op = Op::maxpool2d, s.pass = Pass::backward, s.fill = f;
        s.problem.mb = 2, s.problem.ic = 3, s.problem.ih = s.problem.iw = 8;
        s.problem.kh = s.problem.kw = 2, s.problem.sh = s.problem.sw = 2;
        const Inputs<float> in = generated_inputs<float>(s);
        const auto& dy = in.at("dy").values();
        const std::set<float> values(dy.begin(), dy.end());
        EXPECT_EQ(values.size(), dy.size()) << to_string(f) << ": dy has repeated values";
        EXPECT_EQ(values.count(0.0f), 0u) << to_string(f) << ": dy has a 0";
        EXPECT_TRUE(std::all_of(dy.begin(), dy.end(), [](float v) { return v == std::round(v); })) << to_string(f);
    }
}

// Pool backward that sends each window's gradient to its last maximum instead of the first:
// the tie-breaking defect, in backward where argmax is not compared.
class LastMaximumBackward final : public VariantOf<LastMaximumBackward>, public testing::InertEntryPoints {
public:
    std::string name() const override { return "last_max_backward"; }
    std::string description() const override { return "pool backward to the last maximum"; }
    template <class T>
    void pool_backward_t(const PoolProblem& p, const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dx) const {
        for (T& v : dx.values()) v = T(0);
        for (int64_t n = 0; n < p.mb; ++n)
            for (int64_t c = 0; c < p.ic; ++c)
                for (int64_t oh = 0; oh < p.oh(); ++oh)
                    for (int64_t ow = 0; ow < p.ow(); ++ow) {
                        int64_t bh = -1, bw = -1;
                        for (int64_t i = 0; i < p.kh; ++i)
                            for (int64_t j = 0; j < p.kw; ++j) {
                                const int64_t h = oh * p.sh - p.pt + i * p.dh, w = ow * p.sw - p.pl + j * p.dw;
                                if (h < 0 || h >= p.ih || w < 0 || w >= p.iw) continue;
                                if (bh < 0 || x.at(n, c, h, w) >= x.at(n, c, bh, bw)) bh = h, bw = w;  // >=: the defect
                            }
                        dx.at(n, c, bh, bw) += dy.at(n, c, oh, ow);
                    }
    }
};

// One 2x2 window of tie-heavy x. At seed kSeed x is {0, 2, 1, 2} (the maximum tied at 1 and
// 3) and the old dy, Fill::ties drawn from the same (seed, "dy"), was 0: the misrouted
// gradient was 0 and the check passed. Distinct nonzero dy catches it at every seed.
TEST(ConformanceHarness, MisroutedPoolGradientIsCaughtWhereTheOldDyWasZero) {
    constexpr uint64_t kSeed = 46;
    CheckSpec s;
    s.op = Op::maxpool2d, s.pass = Pass::backward, s.fill = Fill::ties, s.seed = kSeed;
    s.problem.mb = 1, s.problem.ic = 1, s.problem.ih = s.problem.iw = 2;
    s.problem.kh = s.problem.kw = 2, s.problem.sh = s.problem.sw = 2;
    const Inputs<float> in = generated_inputs<float>(s);
    const auto& x = in.at("x").values();
    ASSERT_EQ(std::count(x.begin(), x.end(), *std::max_element(x.begin(), x.end())), 2) << "the maximum is tied";
    Tensor<float> old_dy(AxisOrder::nchw, {1, 1, 1, 1});
    fill(old_dy, Fill::ties, role_seed(kSeed, "dy"));
    ASSERT_EQ(old_dy[0], 0.0f) << "the old dy of this window";

    const CheckResult r = run_check(LastMaximumBackward(), s);
    ASSERT_EQ(r.status, Status::failed) << r.detail;
    EXPECT_NE(r.detail.find("MISMATCH maxpool2d backward output dx"), std::string::npos) << r.detail;
    // Every seed, not one lucky one: the window's gradient is never 0 now.
    for (uint64_t seed = 1; seed <= 50; ++seed) {
        s.seed = seed;
        const Inputs<float> again = generated_inputs<float>(s);
        const auto& xs = again.at("x").values();
        const float top = *std::max_element(xs.begin(), xs.end());
        const bool tied_apart = std::count(xs.begin(), xs.end(), top) > 1;
        if (tied_apart) {
            EXPECT_EQ(run_check(LastMaximumBackward(), s).status, Status::failed) << "seed " << seed;
        }
    }
}

// The plan draws data from more than one seed, deterministically: each problem row its own,
// the same for every op, pass, dtype, layout and fill of that row.
TEST(ConformancePlan, EachProblemRowHasItsOwnSeed) {
    const std::vector<CheckSpec> plan = default_plan();
    std::map<std::string, std::set<uint64_t>> seeds_of_problem;
    std::set<uint64_t> seeds;
    for (const CheckSpec& s : plan) {
        CheckSpec shape = s;
        shape.problem.layout = Layout::nchw, shape.problem.weights_layout = WeightsLayout::oihw;
        const std::string key = std::string(to_string(s.op == Op::maxpool2d ? Op::maxpool2d : Op::conv2d)) + " " +
                                to_descriptor(shape.problem);
        seeds_of_problem[key].insert(s.seed);
        seeds.insert(s.seed);
    }
    for (const auto& [problem, of] : seeds_of_problem) EXPECT_EQ(of.size(), 1u) << problem;
    EXPECT_GE(seeds.size(), 10u) << "the plan draws from " << seeds.size() << " seed(s)";
    const std::vector<CheckSpec> again = default_plan();
    ASSERT_EQ(again.size(), plan.size());
    for (size_t i = 0; i < plan.size(); ++i) EXPECT_EQ(again[i].seed, plan[i].seed) << check_name(plan[i]);
}

// A variant declaring it lacks a dtype is skipped with its reason, never passed.
class NoF64 final : public VariantOf<NoF64>, public testing::InertEntryPoints {
public:
    std::string name() const override { return "no_f64"; }
    std::string description() const override { return "declares no f64"; }
    std::optional<std::string> unsupported(const Call& c) const override {
        if (c.dtype() == DType::f64) return std::string("no f64 support");
        return std::nullopt;
    }
    template <class T, class... A> void conv_forward_t(A&&...) const { FAIL() << "must not run"; }
};

TEST(ConformanceHarness, UnsupportedDtypeIsSkippedWithReason) {
    NoF64 v;
    CheckSpec s = conv_spec();
    s.dtype = DType::f64;
    const CheckResult r = run_check(v, s);
    EXPECT_EQ(r.status, Status::skipped);
    EXPECT_EQ(r.detail, "no f64 support");
}

// Issue 13: running out of memory inside a variant's own run is not that variant's failed
// check but the environment's error (reference/conformance.hpp, OutOfMemory), and says so.
class OutOfMemoryVariant final : public VariantOf<OutOfMemoryVariant>, public testing::InertEntryPoints {
public:
    std::string name() const override { return "hungry"; }
    std::string description() const override { return "throws std::bad_alloc"; }
    int64_t workspace_bytes(const Call&) const override { return 4096; }
    template <class T, class... A> void conv_forward_t(A&&...) const { throw std::bad_alloc(); }
};

TEST(ConformanceHarness, VariantOutOfMemoryIsAnEnvironmentError) {
    OutOfMemoryVariant v;
    try {
        const CheckResult r = run_check(v, conv_spec());
        FAIL() << "returned a result (" << to_string(r.status) << "): " << r.detail;
    } catch (const OutOfMemory& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("out of memory in variant hungry"), std::string::npos) << what;
        EXPECT_NE(what.find("declared workspace is 4096 bytes"), std::string::npos) << what;
        EXPECT_NE(what.find(descriptor(conv_spec())), std::string::npos) << what;
    }
}

// The harness's own allocation failing names the tensor, its type, shape and bytes (the
// real failure under a ulimit: CMakeLists.txt's tool_check_out_of_memory_is_environment).
TEST(ConformanceHarness, HarnessOutOfMemoryNamesTheTensor) {
    const CheckSpec s = conv_spec();
    try {
        harness_allocation("x", s, []() -> int { throw AllocationFailure("f32 8x64x224x224, 102760448 bytes"); });
        FAIL() << "no exception";
    } catch (const OutOfMemory& e) {
        EXPECT_EQ(std::string(e.what()), "out of memory allocating x (f32 8x64x224x224, 102760448 bytes) for conv2d " +
                                             direction(s) + " " + descriptor(s));
    }
}

}  // namespace
}  // namespace convconf
