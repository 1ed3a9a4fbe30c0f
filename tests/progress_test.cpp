// The progress a long check shows (impl/core/progress.hpp): the share done runs from 0 to
// exactly 100% over all of a task's parts, and every reference computation declares as many
// parts as it runs naive passes, so its progress line ends at 100%, never at 50% or 67%.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "impl/core/progress.hpp"
#include "reference/expected.hpp"
#include "tests/test_util.hpp"

namespace convconf {
namespace {

double fraction_of(const std::string& label) {
    for (const progress::Snapshot& s : progress::running())
        if (s.label == label) return s.fraction;
    ADD_FAILURE() << "no running task " << label;
    return -2;
}

TEST(Progress, ShareRunsOverEveryPartToExactlyOne) {
    progress::Task task("two parts", 2);
    EXPECT_EQ(fraction_of("two parts"), -1);  // no steps reported yet
    progress::begin(4);
    EXPECT_DOUBLE_EQ(fraction_of("two parts"), 0.0);
    progress::step();
    EXPECT_DOUBLE_EQ(fraction_of("two parts"), 0.125);  // 1 of 4 steps of the first of 2 parts
    for (int i = 0; i < 3; ++i) progress::step();
    EXPECT_DOUBLE_EQ(fraction_of("two parts"), 0.5);
    progress::begin(2);
    progress::step();
    EXPECT_DOUBLE_EQ(fraction_of("two parts"), 0.75);
    progress::step();
    EXPECT_DOUBLE_EQ(fraction_of("two parts"), 1.0);
}

// A part of no steps reports no share (0 of 0 is not "done"), and the next part counts on.
TEST(Progress, APartOfNoStepsReportsNoShare) {
    progress::Task task("empty first", 2);
    progress::begin(0);
    EXPECT_EQ(fraction_of("empty first"), -1);
    progress::begin(4);
    progress::step();
    EXPECT_DOUBLE_EQ(fraction_of("empty first"), 0.625);  // second of 2 parts, 1 of its 4 steps
}

// Fewer than one part is one part: the share never divides by zero.
TEST(Progress, FewerThanOnePartIsOne) {
    progress::Task task("no parts");
    progress::Task::parts(0);
    progress::begin(2);
    progress::step();
    EXPECT_DOUBLE_EQ(fraction_of("no parts"), 0.5);
}

TEST(Progress, PartsDeclaredByTheWorkAndTasksNest) {
    progress::Task outer("outer");
    progress::begin(10);
    progress::step();
    {
        progress::Task inner("inner");
        progress::Task::parts(3);  // the work says how many parts it has
        progress::begin(1);
        progress::step();
        EXPECT_DOUBLE_EQ(fraction_of("inner"), 1.0 / 3.0);
        EXPECT_DOUBLE_EQ(fraction_of("outer"), 0.1);  // untouched by the inner task's steps
    }
    progress::step();
    EXPECT_DOUBLE_EQ(fraction_of("outer"), 0.2);  // the outer task is current again
}

TEST(Progress, WithoutATaskNothingIsCounted) {
    const size_t before = progress::running().size();
    progress::begin(5);
    progress::step();
    EXPECT_EQ(progress::running().size(), before);
}

// Each reference computation, watched from start to end, ends at exactly 100%: the parts
// it declares are the naive passes it makes (values, then the sum of |terms|).
TEST(Progress, EveryReferenceComputationEndsAtOneHundredPercent) {
    ConvProblem c;
    c.mb = 2, c.ic = 3, c.ih = 5, c.iw = 4, c.oc = 2, c.kh = 2, c.kw = 3;
    PoolProblem p;
    p.mb = 2, p.ic = 3, p.ih = 5, p.iw = 4, p.kh = 2, p.kw = 3;
    const WindowProblem& w = p;
    auto filled = [](std::vector<int64_t> shape) {
        Tensor<double> t(shape);
        double v = 0.25;
        for (double& e : t.values()) e = (v += 0.5);
        return t;
    };
    auto order = [](AxisOrder o, const Dims4& d) {
        Tensor<double> t(o, d);
        double v = 0.25;
        for (double& e : t.values()) e = (v += 0.5);
        return t;
    };
    const Tensor<double> x = order(axis_order(c.layout), c.x_dims());
    const Tensor<double> wt = order(axis_order(c.weights_layout), c.w_dims());
    const Tensor<double> b = filled({c.oc}), dy = order(axis_order(c.layout), c.y_dims());
    const Tensor<double> px = order(axis_order(p.layout), p.x_dims()), pdy = order(axis_order(p.layout), p.y_dims());
    const auto cd = w.col_dims();
    const Tensor<double> col = filled({cd[0], cd[1]});
    const std::vector<std::pair<const char*, std::function<void()>>> computations = {
        {"conv forward", [&] { expect_conv_forward(c, x, wt, &b); }},
        {"conv backward_data", [&] { expect_conv_backward_data(c, wt, dy); }},
        {"conv backward_weights", [&] { expect_conv_backward_weights(c, x, dy, true); }},
        {"pool forward", [&] { expect_pool_forward(p, px); }},
        {"pool backward", [&] { expect_pool_backward(p, px, pdy); }},
        {"im2col", [&] { expect_im2col(w, px); }},
        {"col2im", [&] { expect_col2im(w, col); }},
    };
    for (const auto& [name, compute] : computations) {
        progress::Task task(name);
        compute();
        EXPECT_DOUBLE_EQ(fraction_of(name), 1.0) << name;
    }
}

}  // namespace
}  // namespace convconf
