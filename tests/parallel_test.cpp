// The optimised families use both cores: they cut the work into tasks fixed by the problem
// (impl/core/parallel.hpp) and lower blocks of output positions of one image at a time
// (impl/core/lowering.hpp). Two things must hold: a result does not depend on the number
// of threads, bit for bit, and every path the splitting opens is correct.
//
// The problems here are small, so the block policy is shrunk (5 positions per block):
// images split into several blocks, most ending in the middle of an output row, and
// backward-weights sums groups of images into partial results (one image each, except in
// the test that has ten).
#include <gtest/gtest.h>

#include <iomanip>
#include <sstream>
#include <stdexcept>

#include "impl/core/descriptor.hpp"
#include "impl/core/lowering.hpp"
#include "reference/registry.hpp"
#include "impl/core/threads.hpp"
#include "reference/conformance.hpp"

namespace convconf {
namespace {

class SmallBlocks {
public:
    SmallBlocks() : saved_(lowering::block_policy()) { lowering::block_policy() = {16, 5}; }
    ~SmallBlocks() { lowering::block_policy() = saved_; }

private:
    lowering::BlockPolicy saved_;
};

// The test binary runs on one thread (threads_setup.cpp); these tests put that back.
class Threads {
public:
    explicit Threads(int n) { set_threads(n); }
    ~Threads() { set_threads(1); }
};

// Problems that reach the paths the splitting opens, each in all four layout pairings.
std::vector<ConvProblem> problems() {
    std::vector<ConvProblem> out;
    for (const char* d : {
             "mb3ic4ih9iw7oc5kh3kw2sw2ph1pw1",  // padding, a stride, 3 images in 3 groups
             "mb3ic3ih8iw6oc4kh1kw1",            // 1x1 stride 1, no padding: x is the lowered matrix
             "mb2ic3ih9oc4kh1sh2",              // 1x1 stride 2: a real lowering
             "mb2ic2ih10iw8oc3kh3kw3dh1ph2",     // dilation (benchdnn's dh1 = 2)
         })
        out.push_back(parse_conv_descriptor(d).problem);
    // Kernel row i = 2 reads only padding for every output (its slice is empty), after rows
    // that read x: oh = (3 + 0 + 4 - 5)/2 + 1 = 2, rows 0 2 / 2 4 / 4 6 of a 3-row image.
    ConvProblem p;
    p.mb = 2, p.ic = 2, p.ih = 3, p.iw = 4, p.oc = 3, p.kh = 3, p.kw = 2;
    p.sh = p.sw = 2, p.dh = 2, p.dw = 3, p.pb = 4, p.pr = 2;
    p.validate();
    out.push_back(p);
    std::vector<ConvProblem> all;
    for (const ConvProblem& q : out)
        for (Layout l : {Layout::nchw, Layout::nhwc})
            for (WeightsLayout wl : {WeightsLayout::oihw, WeightsLayout::hwio}) {
                ConvProblem r = q;
                r.layout = l, r.weights_layout = wl;
                all.push_back(r);
            }
    return all;
}

std::vector<CheckSpec> conv_checks() {
    std::vector<CheckSpec> out;
    for (const ConvProblem& p : problems())
        for (const Direction& d : all_directions())
            if (d.op == Op::conv2d)
                for (DType t : {DType::f32, DType::f64}) {
                    CheckSpec s;
                    s.op = d.op, s.pass = d.pass, s.bias = d.bias, s.dtype = t, s.problem = p;
                    s.fill = Fill::floats;  // rounding makes the order of every sum visible
                    out.push_back(s);
                }
    return out;
}

template <class T>
std::string first_difference(const Outputs<T>& a, const Outputs<T>& b) {
    for (const auto& [name, t] : a.tensors) {
        const Tensor<T>& u = b.tensors.at(name);
        for (int64_t e = 0; e < t.size(); ++e)
            if (!same_bits(t[e], u[e])) {
                std::ostringstream out;
                out << std::setprecision(17) << name << " " << t.index_string(e) << ": " << t[e]
                    << " on 1 thread, " << u[e] << " on 2";
                return out.str();
            }
    }
    return {};
}

template <class T>
void expect_same_bits_on_1_and_2_threads(const Variant& v, const CheckSpec& s) {
    const Inputs<T> in = generated_inputs<T>(s);
    Outputs<T> one, two;
    {
        const Threads threads(1);
        one = invoke(v, s, in);
    }
    {
        const Threads threads(2);
        two = invoke(v, s, in);
    }
    EXPECT_EQ(first_difference(one, two), "") << v.name() << " " << check_name(s);
}

class Parallel : public ::testing::TestWithParam<const char*> {
protected:
    const Variant& variant() const { return *find_variant(GetParam()); }
};

TEST_P(Parallel, SameBitsOnOneAndTwoThreads) {
    const SmallBlocks small;
    for (const CheckSpec& s : conv_checks()) {
        if (s.dtype == DType::f32) expect_same_bits_on_1_and_2_threads<float>(variant(), s);
        else expect_same_bits_on_1_and_2_threads<double>(variant(), s);
    }
}

TEST_P(Parallel, ConformsOnTwoThreadsWithSmallBlocks) {
    const SmallBlocks small;
    const Threads threads(2);
    for (const CheckSpec& s : conv_checks()) {
        const CheckResult r = run_check(variant(), s);
        EXPECT_EQ(r.status, Status::passed) << r.detail;
    }
}

// Backward-weights with groups of several images: mb 10 makes 5 groups of 2, so a group's
// second image accumulates onto its first (beta 1 from the second image's first block).
TEST_P(Parallel, BackwardWeightsWithSeveralImagesPerGroup) {
    const SmallBlocks small;
    const Threads threads(2);
    ConvProblem q = parse_conv_descriptor("mb10ic3ih5iw6oc4kh3kw2sw2ph1pw1").problem;
    ASSERT_EQ(lowering::image_groups(q.mb, 4 * 3 * 6 * 8).grain, 2);
    for (Layout l : {Layout::nchw, Layout::nhwc})
        for (WeightsLayout wl : {WeightsLayout::oihw, WeightsLayout::hwio})
            for (DType t : {DType::f32, DType::f64}) {
                CheckSpec s;
                s.op = Op::conv2d, s.pass = Pass::backward_weights, s.bias = true, s.dtype = t, s.problem = q;
                s.problem.layout = l, s.problem.weights_layout = wl, s.fill = Fill::floats;
                const CheckResult r = run_check(variant(), s);
                EXPECT_EQ(r.status, Status::passed) << r.detail;
            }
}

// A task that throws: parallel_for rethrows it on the calling thread once every thread
// has stopped, and runs no task after it has seen the failure on that thread.
// A thread count below 1 runs one thread (the tools refuse it before; the library does not
// trust them to).
TEST(Parallel, FewerThanOneThreadIsOne) {
    const int before = max_threads();
    for (int n : {0, -1, -64}) {
        set_threads(n);
        EXPECT_EQ(max_threads(), 1) << n;
    }
    set_threads(2);
    EXPECT_EQ(max_threads(), 2);
    set_threads(before);
}

TEST(Parallel, RethrowsATasksException) {
    const Threads threads(2);
    EXPECT_THROW(parallel_for(100,
                              [](int64_t t) {
                                  if (t == 37) throw std::runtime_error("task 37");
                              }),
                 std::runtime_error);
}

// The policy does split these problems: several blocks per image, blocks ending mid-row.
TEST(Parallel, SmallBlocksSplitTheTestProblems) {
    const SmallBlocks small;
    const ConvProblem p = problems()[0];
    const Pieces b = lowering::position_blocks(p.oh() * p.ow(), p.ic * p.kh * p.kw);
    EXPECT_EQ(b.grain, 5);
    EXPECT_EQ(b.count(), (p.oh() * p.ow() + 4) / 5);
    EXPECT_NE(p.ow() % 5, 0);
}

INSTANTIATE_TEST_SUITE_P(Optimised, Parallel, ::testing::Values("im2col", "strided"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace convconf

namespace convconf {
namespace {

// A variant called from inside an OpenMP parallel region (a host's threads calling the
// strided plugin, say) runs its parallel_for on the calling thread, with one slot: its
// per-slot scratch must have that slot (seed 6's m57 gave none, and indexed past it).
TEST(ParallelSlots, OneInsideAParallelRegion) {
    const int before = max_threads();
    set_threads(2);
    int inside = -1;
    bool ran = false;
#pragma omp parallel num_threads(2)
    {
#pragma omp single
        {
            inside = parallel_slots();
            ConvProblem p;
            p.mb = 2, p.ic = 3, p.ih = p.iw = 5, p.oc = 4, p.kh = p.kw = 3;
            Tensor<float> x(AxisOrder::nchw, p.x_dims(), 1.0f), w(AxisOrder::oihw, p.w_dims(), 1.0f);
            Tensor<float> y(AxisOrder::nchw, p.y_dims());
            calls::conv_forward(*find_variant("strided"), p, x, w, nullptr, y);
            ran = y.at(1, 3, 2, 2) == 27.0f;  // 3 channels of 3x3 ones
        }
    }
    set_threads(before);
    EXPECT_EQ(inside, 1);
    EXPECT_TRUE(ran);
    EXPECT_GE(parallel_slots(), 1);
}

}  // namespace
}  // namespace convconf
