// reference/bench.hpp: the arithmetic bench summarises with, the problem sets it runs, and
// the timing loop's budget. (The tool's output is tested by running it: CMakeLists.txt.)
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "reference/registry.hpp"
#include "reference/batch.hpp"
#include "reference/bench.hpp"
#include "tests/test_util.hpp"

namespace convconf::bench {
namespace {

TEST(BenchArithmetic, GeometricMeanAndMedian) {
    EXPECT_DOUBLE_EQ(geometric_mean({1, 4}), 2);
    EXPECT_DOUBLE_EQ(geometric_mean({0.5, 2, 8}), 2);
    EXPECT_TRUE(std::isnan(geometric_mean({})));
    EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2);
    EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
    EXPECT_DOUBLE_EQ(median({7}), 7);
    EXPECT_TRUE(std::isnan(median({})));
}

TEST(BenchArithmetic, ConvFlopsCountEveryTapOncePerPass) {
    // mb2 ic3 ih5 oc4 kh3 ph1: oh = ow = 5; 2 * 2*4*5*5 outputs * 3*3*3 taps.
    const Problem p = parse_problem("mb2ic3ih5oc4kh3ph1");
    EXPECT_EQ(p.op, Op::conv2d);
    EXPECT_DOUBLE_EQ(conv_flops(p.problem), 2.0 * 2 * 4 * 5 * 5 * 3 * 3 * 3);
    for (const char* dir : {"FWD_B", "BWD_D", "BWD_WB"}) {
        CheckSpec s;
        s.problem = p.problem;
        apply_direction(s, dir);
        EXPECT_DOUBLE_EQ(work(s), conv_flops(p.problem)) << dir;
    }
    // Grouped: an output sums ic/g = 2 input channels of 3x3 taps. Depthwise: one channel.
    EXPECT_DOUBLE_EQ(conv_flops(parse_problem("g2mb2ic4ih5oc6kh3ph1").problem), 2.0 * 2 * 6 * 5 * 5 * 2 * 3 * 3);
    EXPECT_DOUBLE_EQ(conv_flops(parse_problem("g32mb1ic32ih7oc32kh3ph1").problem), 2.0 * 1 * 32 * 7 * 7 * 1 * 3 * 3);
}

TEST(BenchArithmetic, PoolBytesAreWhatEachPassMustMove) {
    const Problem p = parse_problem("mb1ic1ih4kh2sh2");  // x 16 elements, y 4
    EXPECT_EQ(p.op, Op::maxpool2d);
    const PoolProblem pp = pool_problem(p.problem);
    EXPECT_DOUBLE_EQ(pool_bytes(pp, Pass::forward, DType::f32), 4.0 * (16 + 4));
    EXPECT_DOUBLE_EQ(pool_bytes(pp, Pass::backward, DType::f32), 4.0 * (16 + 16 + 4));
    EXPECT_DOUBLE_EQ(pool_bytes(pp, Pass::backward, DType::f64), 8.0 * (16 + 16 + 4));
}

TEST(BenchProblems, ResNet50IsBenchdnnsShapeFiles) {
    const auto set = problem_set("resnet50");
    ASSERT_EQ(set.size(), 22u);  // 20 conv shapes (repeats listed once), 2 pool shapes
    EXPECT_EQ(set.front().name, "resnet_50:conv1");
    EXPECT_EQ(set.front().op, Op::conv2d);
    EXPECT_EQ(set.front().problem.mb, 1);
    EXPECT_EQ(set.front().descriptor(), "mb1ic3ih224oc64oh112kh7sh2ph3");
    const Problem& pool = set[20];
    EXPECT_EQ(pool.name, "resnet_50:max_pool1");
    EXPECT_EQ(pool.op, Op::maxpool2d);
    EXPECT_EQ(pool.problem.mb, 16);                    // the file's --mb=16
    EXPECT_EQ(pool.problem.layout, Layout::nhwc);      // the file's --tag=nhwc
    EXPECT_EQ(set[21].name, "resnet_50:ave_pool5");
}

// bench refuses a report named over these (tools/cmd_bench.cpp): they must be the files the
// set is read from, every one of them.
TEST(BenchProblems, SetFilesAreTheFilesTheSetReads) {
    const auto files = bench::set_files("resnet50");
    ASSERT_EQ(files.size(), 2u);
    size_t problems = 0;
    for (const auto& f : files) {
        EXPECT_TRUE(std::filesystem::is_regular_file(f)) << f;
        problems += bench::read_problems(f.string()).size();
    }
    EXPECT_EQ(problems, bench::problem_set("resnet50").size());
    EXPECT_TRUE(bench::set_files("notebooks").empty());  // written in the code
}

TEST(BenchProblems, NotebookShapesAreValidAndNamed) {
    const auto set = problem_set("notebooks");
    ASSERT_FALSE(set.empty());
    bool image = false, nhwc_pool = false;
    for (const Problem& p : set) {
        EXPECT_FALSE(p.name.empty());
        EXPECT_NO_THROW(p.problem.validate()) << p.name;
        image |= p.name == "conv 1x3x448x640 k5";
        nhwc_pool |= p.op == Op::maxpool2d && p.problem.layout == Layout::nhwc && p.problem.mb == 128;
    }
    EXPECT_TRUE(image);
    EXPECT_TRUE(nhwc_pool);
}

TEST(BenchProblems, UnknownSetIsNamed) {
    try {
        problem_set("resnet51");
        FAIL() << "no error";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("\"resnet51\""), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("resnet50 mobilenet notebooks"), std::string::npos) << e.what();
    }
}

// MobileNet v1 (19 distinct layers, 9 depthwise) and v2 (31, 10 depthwise), as the batch
// files' headers count them.
TEST(BenchProblems, MobilenetSetHasEveryLayerOfBothFiles) {
    const std::vector<Problem> set = problem_set("mobilenet");
    EXPECT_EQ(set.size(), 19u + 31u);
    int64_t depthwise = 0;
    for (const Problem& p : set) {
        EXPECT_EQ(p.op, Op::conv2d) << p.label();
        if (p.problem.g > 1 && p.problem.g == p.problem.ic && p.problem.g == p.problem.oc) ++depthwise;
        else EXPECT_EQ(p.problem.g, 1) << p.label();
    }
    EXPECT_EQ(depthwise, 9 + 10);
    EXPECT_EQ(set.front().label(), "mobilenet_v1:conv1");
}

std::string batch_file(const std::string& name, const std::string& text) {
    const std::string path = ::testing::TempDir() + name;
    std::ofstream(path) << text;
    return path;
}

TEST(BenchProblems, BatchFilesFollowBenchdnnsMbAndTag) {
    const auto ps = read_problems(batch_file("bench_batch",
                                             "mb3ic2ih6oc2kh3\n"
                                             "--mb=5 --tag=axb\n"
                                             "mb3ic2ih6oc2kh3 ic2ih6kh2sh2\n"
                                             "--mb=0 --tag=any --wtag=hwio\n"
                                             "mb3ic2ih6oc2kh3\n"));
    ASSERT_EQ(ps.size(), 4u);
    EXPECT_EQ(ps[0].problem.mb, 3);
    EXPECT_EQ(ps[0].problem.layout, Layout::nchw);
    EXPECT_EQ(ps[1].problem.mb, 5);
    EXPECT_EQ(ps[1].problem.layout, Layout::nhwc);
    EXPECT_EQ(ps[2].op, Op::maxpool2d);
    EXPECT_EQ(ps[2].problem.mb, 5);
    EXPECT_EQ(ps[3].problem.mb, 3);  // --mb=0: the descriptor's
    EXPECT_EQ(ps[3].problem.layout, Layout::nchw);
    EXPECT_EQ(ps[3].problem.weights_layout, WeightsLayout::hwio);
}

TEST(BenchProblems, BatchErrorsPointAtTheLine) {
    const std::string path = batch_file("bench_bad_tag", "mb1ic2ih6oc2kh3\n--tag=nChw16c\nmb1ic2ih6oc2kh3\n");
    try {
        read_problems(path);
        FAIL() << "no error";
    } catch (const BatchError& e) {
        EXPECT_NE(std::string(e.what()).find(path + ":3: --tag=nChw16c"), std::string::npos) << e.what();
    }
    const std::string bad = batch_file("bench_bad_descriptor", "mb1ic2ih6oc2kh3sh0\n");
    EXPECT_THROW(read_problems(bad), BatchError);
}

// benchdnn's --mb= is a whole non-negative number: a trailing letter or a sign is refused
// at its line, never read as its prefix or ignored.
TEST(BenchProblems, BatchMbMustBeANonNegativeInteger) {
    for (const std::string mb : {"5x", "-1", "x", ""}) {
        const std::string path = batch_file("bench_bad_mb", "mb1ic2ih6oc2kh3\n--mb=" + mb + "\nmb1ic2ih6oc2kh3\n");
        try {
            read_problems(path);
            ADD_FAILURE() << "--mb=" << mb << " accepted";
        } catch (const BatchError& e) {
            EXPECT_NE(std::string(e.what()).find(path + ":3: --mb=" + mb + ": not a non-negative integer"),
                      std::string::npos)
                << e.what();
        }
    }
}

// A variant whose conv forward takes a known time, or throws.
class Sleeper final : public VariantOf<Sleeper>, public testing::InertEntryPoints {
public:
    explicit Sleeper(std::chrono::milliseconds d, bool throws = false) : d_(d), throws_(throws) {}
    std::string name() const override { return "sleeper"; }
    std::string description() const override { return "sleeps"; }
    mutable int calls = 0;
    template <class T, class... A>
    void conv_forward_t(A&&...) const {
        ++calls;
        if (throws_) throw std::runtime_error("sleeper gave up");
        std::this_thread::sleep_for(d_);
    }

private:
    std::chrono::milliseconds d_;
    bool throws_;
};

CheckSpec conv_forward(const char* descriptor) {
    CheckSpec s;
    s.problem = parse_problem(descriptor).problem;
    apply_direction(s, "FWD_B");
    return s;
}

TEST(BenchTiming, FastVariantGetsEveryRep) {
    Workload w(conv_forward("mb1ic2ih6oc2kh3"));
    const Timing t = time_variant(w, naive_variant(), {7, 2, 10.0});
    EXPECT_EQ(t.warmups, 2);
    EXPECT_EQ(t.seconds.size(), 7u);
    EXPECT_GT(t.median(), 0);
}

TEST(BenchTiming, SlowVariantStopsAtTheBudgetButIsTimedOnce) {
    Sleeper slow(std::chrono::milliseconds(40));
    Workload w(conv_forward("mb1ic2ih6oc2kh3"));
    // 40 ms calls in 100 ms: the warm-up and one or two timed calls, never all ten.
    const Timing t = time_variant(w, slow, {10, 3, 0.1});
    EXPECT_GE(t.warmups, 1);
    EXPECT_GE(t.seconds.size(), 1u);
    EXPECT_LE(t.warmups + int(t.seconds.size()), 3);
    EXPECT_GE(t.median(), 0.035);
    // Beyond the budget after one warm-up: still one timed call.
    Sleeper slower(std::chrono::milliseconds(60));
    const Timing u = time_variant(w, slower, {10, 1, 0.05});
    EXPECT_EQ(u.warmups, 1);
    EXPECT_EQ(u.seconds.size(), 1u);
    // No warm-up asked: none run.
    const Timing v = time_variant(w, slower, {10, 0, 0.05});
    EXPECT_EQ(v.warmups, 0);
    EXPECT_EQ(v.seconds.size(), 1u);
}

TEST(BenchTiming, AVariantThatThrowsIsNotTimed) {
    Sleeper broken(std::chrono::milliseconds(0), true);
    Workload w(conv_forward("mb1ic2ih6oc2kh3"));
    EXPECT_THROW(time_variant(w, broken, {10, 1, 1.0}), std::runtime_error);
    EXPECT_EQ(broken.calls, 1);
}

TEST(BenchTiming, EveryDirectionRunsOnEveryVariantThatTakesIt) {
    for (const char* d : {"mb1ic2ih6oc3kh3ph1", "mb1ic2ih6kh3sh2"}) {
        const Problem p = parse_problem(d);
        for (const char* dir : p.op == Op::conv2d
                                   ? std::vector<const char*>{"FWD_B", "FWD_D", "BWD_D", "BWD_W", "BWD_WB"}
                                   : std::vector<const char*>{"FWD", "BWD"})
            for (DType dtype : {DType::f32, DType::f64}) {
                CheckSpec s;
                s.op = p.op;
                s.problem = p.problem;
                s.dtype = dtype;
                apply_direction(s, dir);
                Workload w(s);
                for (const Variant* v : variants()) {
                    if (v->unsupported(call_of(s, false))) continue;
                    EXPECT_NO_THROW(time_variant(w, *v, {1, 0, 1.0})) << v->name() << " " << d << " " << dir;
                }
            }
    }
}

}  // namespace
}  // namespace convconf::bench
