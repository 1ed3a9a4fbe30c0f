// Max-pooling in the optimised families cuts a problem into tasks fixed by the problem and
// hands them to however many threads there are (impl/core/pooling.hpp): forward and
// backward must give the same bits on 1 thread as on 2. The problems pad, overlap their
// windows (so backward accumulates into dx) and make several tasks in both passes; the data
// are floats (sums that round, so their order shows) and NaN and infinities.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <string>

#include "impl/core/pooling.hpp"
#include "reference/registry.hpp"
#include "impl/core/threads.hpp"
#include "reference/conformance.hpp"

namespace convconf {
namespace {

struct Case {
    const char* name;
    ConvProblem problem;
};

// mb2 ic300 16x16, 3x3 stride 2 pad 1: two blocks of channels per image (plane 256:
// 256 channels a task), so 4 tasks in both passes.
ConvProblem channel_blocks() {
    ConvProblem p;
    p.mb = 2, p.ic = 300, p.ih = p.iw = 16, p.kh = p.kw = 3, p.sh = p.sw = 2;
    p.pt = p.pl = p.pb = p.pr = 1;
    return p;
}

// mb2 ic64 60x50, 3x2 window dilated 2 in h, stride (1, 2), pad 1 but left: forward
// splits each image's 58 output rows into blocks (6 tasks), backward has one task per image.
ConvProblem row_blocks() {
    ConvProblem p;
    p.mb = 2, p.ic = 64, p.ih = 60, p.iw = 50, p.kh = 3, p.kw = 2, p.sh = 1, p.sw = 2, p.dh = 2;
    p.pt = p.pb = p.pr = 1;
    return p;
}

const Case kCases[] = {{"channel_blocks", channel_blocks()}, {"row_blocks", row_blocks()}};

// Flat indices at which a and b differ bit for bit (NaN payloads included).
template <class T>
std::vector<int64_t> bit_differences(const Tensor<T>& a, const Tensor<T>& b) {
    std::vector<int64_t> out;
    for (int64_t e = 0; e < a.size(); ++e)
        if (!same_bits(a[e], b[e])) out.push_back(e);
    return out;
}

template <class T>
void expect_same_bits(const Tensor<T>& one, const Tensor<T>& two, const std::string& what) {
    ASSERT_EQ(one.shape(), two.shape()) << what;
    const std::vector<int64_t> diff = bit_differences(one, two);
    EXPECT_TRUE(diff.empty()) << what << ": " << diff.size() << " elements differ, the first at "
                              << one.index_string(diff[0]);
}

// Restores the test binary's one thread (tests/threads_setup.cpp) however the test ends.
struct ThreadsRestored {
    const int before = max_threads();
    ~ThreadsRestored() { set_threads(before); }
};

template <class T>
void check_one_thread_against_two(const Variant& v, CheckSpec spec, const std::string& name) {
    const PoolProblem pp = pool_problem(spec.problem);
    ASSERT_GE(pooling::Tasks(pp, spec.pass).count(), 2) << name << ": a single task tests nothing";
    const Inputs<T> in = generated_inputs<T>(spec);
    const ThreadsRestored restore;
    set_threads(1);
    const Outputs<T> one = invoke(v, spec, in);
    set_threads(2);
    ASSERT_EQ(max_threads(), 2);
    const Outputs<T> two = invoke(v, spec, in);
    EXPECT_TRUE(one.violations.empty() && two.violations.empty()) << name;
    ASSERT_EQ(one.tensors.size(), two.tensors.size());
    for (const auto& [output, tensor] : one.tensors) expect_same_bits(tensor, two.tensors.at(output), name + " " + output);
    if (spec.pass == Pass::forward) expect_same_bits(one.argmax, two.argmax, name + " argmax");
}

class PoolThreads : public ::testing::TestWithParam<const char*> {};

TEST_P(PoolThreads, SameBitsOnOneAndTwoThreads) {
    const Variant* v = find_variant(GetParam());
    ASSERT_NE(v, nullptr);
    for (const Case& c : kCases)
        for (Layout layout : {Layout::nchw, Layout::nhwc})
            for (Pass pass : {Pass::forward, Pass::backward})
                for (Fill fill : {Fill::floats, Fill::special}) {
                    CheckSpec spec{Op::maxpool2d, pass, DType::f32, false, c.problem, fill, 7};
                    spec.problem.layout = layout;
                    validate(spec);
                    check_one_thread_against_two<float>(*v, spec, c.name + (" " + check_name(spec)));
                    spec.dtype = DType::f64;
                    check_one_thread_against_two<double>(*v, spec, c.name + (" " + check_name(spec)));
                }
}

// The same splits against the reference (the test above only compares each variant with
// itself): channel blocks, row blocks, and, with 20 channels of 3x3 windows on a 30-wide
// output (11 positions an im2col tile), tiles that end in the middle of an output row. On
// 2 threads, with the fills that test the max rule: NaN and infinities, ties, negatives.
TEST_P(PoolThreads, ConformsWhenSplit) {
    const Variant* v = find_variant(GetParam());
    ASSERT_NE(v, nullptr);
    ConvProblem tiles;
    tiles.mb = 2, tiles.ic = 20, tiles.ih = tiles.iw = 30, tiles.kh = tiles.kw = 3;
    tiles.pt = tiles.pl = tiles.pb = tiles.pr = 1;
    const ThreadsRestored restore;
    set_threads(2);
    for (const ConvProblem& problem : {channel_blocks(), row_blocks(), tiles})
        for (Layout layout : {Layout::nchw, Layout::nhwc})
            for (Pass pass : {Pass::forward, Pass::backward})
                for (Fill fill : {Fill::special, Fill::ties, Fill::negative}) {
                    CheckSpec spec{Op::maxpool2d, pass, DType::f32, false, problem, fill, 3};
                    spec.problem.layout = layout;
                    validate(spec);
                    const CheckResult r = run_check(*v, spec);
                    EXPECT_EQ(r.status, Status::passed) << r.detail;
                }
}

// A valid problem whose stride times width overflows 64 bits: the task split must still
// hold (it divided by their product, which wrapped to 0).
TEST_P(PoolThreads, TaskSplitSurvivesAHugeStride) {
    ConvProblem p;
    p.mb = 1, p.ic = 1, p.ih = 1, p.iw = int64_t{1} << 24, p.kh = p.kw = 1, p.sh = int64_t{1} << 40;
    pool_problem(p).validate();
    EXPECT_GT(find_variant(GetParam())->workspace_bytes(Call(direction_of(Op::maxpool2d, Pass::forward), DType::f32, p)), 0);
}

INSTANTIATE_TEST_SUITE_P(Variants, PoolThreads, ::testing::Values("im2col", "strided"),
                         [](const auto& info) { return std::string(info.param); });

// The comparison the test above relies on sees a difference in a single bit, NaN payloads
// included, and names where it is.
TEST(PoolThreadsComparison, SeesOneBit) {
    Tensor<float> a(AxisOrder::nhwc, {1, 2, 2, 2}, 1.0f), b = a;
    EXPECT_TRUE(bit_differences(a, b).empty());
    b[5] = std::bit_cast<float>(std::bit_cast<uint32_t>(1.0f) ^ 1u);
    EXPECT_EQ(bit_differences(a, b), std::vector<int64_t>{5});
    a[3] = std::bit_cast<float>(uint32_t{0x7FC00001}), b = a;
    b[3] = std::bit_cast<float>(uint32_t{0x7FC00002});
    EXPECT_EQ(bit_differences(a, b), std::vector<int64_t>{3});
}

// The problems above give the task counts their comments say, so both passes have tasks to
// share out.
TEST(PoolThreadsComparison, ProblemsMakeSeveralTasks) {
    EXPECT_EQ(pooling::Tasks(pool_problem(channel_blocks()), Pass::forward).count(), 4);
    EXPECT_EQ(pooling::Tasks(pool_problem(channel_blocks()), Pass::backward).count(), 4);
    EXPECT_EQ(pooling::Tasks(pool_problem(row_blocks()), Pass::forward).count(), 6);
    EXPECT_EQ(pooling::Tasks(pool_problem(row_blocks()), Pass::backward).count(), 2);
}

}  // namespace
}  // namespace convconf
