// The problem model: output-size arithmetic, and one test per invalid-problem rule of
// ../shared/golden-format.md, each checking the field the error names.
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>

#include "impl/core/call.hpp"
#include "impl/core/descriptor.hpp"
#include "impl/core/problem.hpp"
#include "impl/core/tensor.hpp"

namespace convconf {
namespace {

ConvProblem small_conv() {
    ConvProblem p;
    p.mb = 2, p.ic = 3, p.ih = 5, p.iw = 5, p.oc = 4, p.kh = 3, p.kw = 3;
    return p;
}

PoolProblem small_pool() {
    PoolProblem p;
    p.mb = 1, p.ic = 1, p.ih = 4, p.iw = 4, p.kh = 2, p.kw = 2, p.sh = 2, p.sw = 2;
    return p;
}

// Expects validate() to throw ProblemError naming `field`, with the field in the message.
template <class P>
void expect_rejected(const P& p, const std::string& field) {
    try {
        p.validate();
        ADD_FAILURE() << "accepted an invalid problem; expected an error naming " << field;
    } catch (const ProblemError& e) {
        EXPECT_EQ(e.field(), field) << e.what();
        EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
}

TEST(ProblemShape, OutputSizeFormula) {
    // OH = floor((H + top + bottom - dh*(kh-1) - 1) / sh) + 1
    ConvProblem p = small_conv();
    EXPECT_EQ(p.oh(), 3);  // (5 - 2 - 1)/1 + 1
    p.pt = 1, p.pb = 2, p.sh = 2;
    EXPECT_EQ(p.oh(), 3);  // (5 + 3 - 2 - 1)/2 + 1 = 5/2 + 1
    p.dh = 2;
    EXPECT_EQ(p.oh(), 2);  // (5 + 3 - 4 - 1)/2 + 1 = 3/2 + 1
    p.pl = 3, p.pr = 0, p.kw = 7, p.dw = 1, p.sw = 1;
    EXPECT_EQ(p.ow(), 2);  // (5 + 3 - 6 - 1)/1 + 1
    // The notebooks' 1x3x448x640 image with a 5x5 kernel: im2col is (282384, 75).
    WindowProblem big;
    big.mb = 1, big.ic = 3, big.ih = 448, big.iw = 640, big.kh = big.kw = 5;
    EXPECT_EQ(big.col_dims(), (std::array<int64_t, 2>{282384, 75}));
}

TEST(ProblemValidate, AcceptsValidProblems) {
    EXPECT_NO_THROW(small_conv().validate());
    EXPECT_NO_THROW(small_pool().validate());
    ConvProblem all_padding = small_conv();  // conv windows may lie entirely in padding
    all_padding.kh = all_padding.kw = 1, all_padding.pt = all_padding.pb = 3;
    EXPECT_NO_THROW(all_padding.validate());
}

struct FieldRule {
    const char* field;
    std::function<void(ConvProblem&)> spoil;
};

class ProblemRejects : public ::testing::TestWithParam<FieldRule> {};

TEST_P(ProblemRejects, NamesTheField) {
    ConvProblem p = small_conv();
    GetParam().spoil(p);
    expect_rejected(p, GetParam().field);
}

INSTANTIATE_TEST_SUITE_P(
    EveryRule, ProblemRejects,
    ::testing::Values(
        // Every dimension is at least 1.
        FieldRule{"mb", [](ConvProblem& p) { p.mb = 0; }},
        FieldRule{"ic", [](ConvProblem& p) { p.ic = 0; }},
        FieldRule{"ih", [](ConvProblem& p) { p.ih = -1; }},
        FieldRule{"iw", [](ConvProblem& p) { p.iw = 0; }},
        FieldRule{"oc", [](ConvProblem& p) { p.oc = 0; }},
        FieldRule{"kh", [](ConvProblem& p) { p.kh = 0; }},
        FieldRule{"kw", [](ConvProblem& p) { p.kw = 0; }},
        // Groups below 1, or not dividing ic (3) or oc (4) (contract 1.1).
        FieldRule{"g", [](ConvProblem& p) { p.g = 0; }},
        FieldRule{"g", [](ConvProblem& p) { p.g = 2; }},   // divides oc 4, not ic 3
        FieldRule{"g", [](ConvProblem& p) { p.g = 3; }},   // divides ic 3, not oc 4
        FieldRule{"g", [](ConvProblem& p) { p.g = -3; }},
        // A stride or dilation below 1.
        FieldRule{"sh", [](ConvProblem& p) { p.sh = 0; }},
        FieldRule{"sw", [](ConvProblem& p) { p.sw = -2; }},
        FieldRule{"dh", [](ConvProblem& p) { p.dh = 0; }},
        FieldRule{"dw", [](ConvProblem& p) { p.dw = 0; }},
        // A negative pad.
        FieldRule{"pt", [](ConvProblem& p) { p.pt = -1; }},
        FieldRule{"pl", [](ConvProblem& p) { p.pl = -1; }},
        FieldRule{"pb", [](ConvProblem& p) { p.pb = -1; }},
        FieldRule{"pr", [](ConvProblem& p) { p.pr = -1; }},
        // A window larger than the padded input: 6 > 5, and dilated 2*(3-1)+1 = 5 > 4.
        FieldRule{"kh", [](ConvProblem& p) { p.kh = 6; }},
        FieldRule{"kw", [](ConvProblem& p) { p.iw = 4, p.dw = 2; }},
        // A tensor too large to index: counts overflow 64 bits.
        FieldRule{"x", [](ConvProblem& p) { p.mb = int64_t{1} << 40, p.ic = int64_t{1} << 30; }},
        FieldRule{"w", [](ConvProblem& p) { p.oc = int64_t{1} << 62; }},
        FieldRule{"col", [](ConvProblem& p) {
            // x is tiny, but a 2^20 x 2^20 kernel over 2^20 x 2^20 positions overflows col.
            p.mb = p.ic = 1, p.ih = p.iw = 8, p.kh = p.kw = int64_t{1} << 20;
            p.pt = p.pb = p.pl = p.pr = int64_t{1} << 20;
        }}),
    [](const auto& info) { return std::string(info.param.field) + "_" + std::to_string(info.index); });

// A pooling window that covers no element of x (it pads with -inf: nothing to choose).
TEST(PoolValidate, WindowInTopPaddingNamesPadTop) {
    PoolProblem p = small_pool();
    p.pt = 2;  // first window rows -2, -1: both padding
    expect_rejected(p, "pt");
}

TEST(PoolValidate, WindowInBottomPaddingNamesPadBottom) {
    PoolProblem p = small_pool();
    p.pr = 3;  // ow = (4+3-2)/2+1 = 3; last window columns 4, 5: both padding
    expect_rejected(p, "pr");
}

TEST(PoolValidate, DilatedWindowSkippingTheInputNamesDilation) {
    PoolProblem p = small_pool();
    p.ih = 1, p.kh = 2, p.dh = 3, p.sh = 1, p.pt = 1, p.pb = 1;
    // oh = (1+2-4)/1+1 = 0 -> invalid by size first; make it fit: taps at -1 and 2.
    p.pb = 2;  // padded 4, extent 4: oh = 1; window rows -1 and 2, input has row 0 only
    expect_rejected(p, "dh");
}

// The first window, in output order, with no tap inside the input, by visiting every tap;
// empty when every window has one.
std::string brute_force_blame(const PoolProblem& p) {
    for (int64_t o = 0; o < p.oh(); ++o) {
        const int64_t first = o * p.sh - p.pt, last = first + (p.kh - 1) * p.dh;
        bool hit = false;
        for (int64_t row = first; row <= last; row += p.dh) hit = hit || (row >= 0 && row < p.ih);
        if (!hit) return last < 0 ? "pt" : first >= p.ih ? "pb" : "dh";
    }
    return {};
}

TEST(PoolValidate, WindowCoverageAgreesWithVisitingEveryTap) {
    PoolProblem p = small_pool();
    p.iw = p.kw = p.sw = 1;
    for (p.ih = 1; p.ih <= 6; ++p.ih)
        for (p.kh = 1; p.kh <= 4; ++p.kh)
            for (p.sh = 1; p.sh <= 4; ++p.sh)
                for (p.dh = 1; p.dh <= 8; ++p.dh)
                    for (p.pt = 0; p.pt <= 6; ++p.pt)
                        for (p.pb = 0; p.pb <= 6; ++p.pb) {
                            if (p.kh_extent() > p.ih + p.pt + p.pb) continue;  // rejected for size
                            const std::string want = brute_force_blame(p);
                            if (want.empty()) EXPECT_NO_THROW(p.validate()) << to_descriptor(p);
                            else expect_rejected(p, want);
                        }
}

// Found by the descriptor fuzzer: coverage was checked window by window whenever the
// dilation exceeds the input, 2^40 windows here (tests/fuzz/regressions/descriptor/).
TEST(PoolValidate, HugeDilatedProblemsValidateAtOnce) {
    // These problems are about validate()'s time, not memory: lift the cap for them.
    ::setenv("CONVCONF_MAX_BYTES", "9223372036854775807", 1);
    struct Restore {
        ~Restore() { ::unsetenv("CONVCONF_MAX_BYTES"); }
    } restore;
    PoolProblem p = small_pool();
    p.iw = p.kw = p.sw = 1, p.sh = 1;
    p.ih = (int64_t{1} << 40) - 1, p.kh = 1, p.dh = int64_t{1} << 40;  // 2^40 - 1 windows, all hit
    EXPECT_NO_THROW(p.validate());
    p.ih = int64_t{1} << 39, p.kh = 2, p.dh = (int64_t{1} << 39) + 1;
    p.pt = p.pb = (int64_t{1} << 39) - 1;  // window 2^39 - 2 has taps at -1 and 2^39: both outside
    expect_rejected(p, "dh");
}

TEST(PoolValidate, PartlyPaddedWindowsAreValid) {
    PoolProblem p = small_pool();
    p.pt = p.pl = 1, p.pb = p.pr = 1;  // every window keeps one element of x
    EXPECT_NO_THROW(p.validate());
}

TEST(MemoryCap, ProblemBeyondTheCapIsRefusedNamingTheTensor) {
    ConvProblem p = small_conv();
    p.mb = 4096, p.ic = 4096, p.ih = p.iw = 256;  // x: 2^36 doubles, 512 GiB > the 8 GiB default
    try {
        p.validate();
        ADD_FAILURE() << "accepted";
    } catch (const ProblemError& e) {
        EXPECT_EQ(e.field(), "x");
        EXPECT_NE(std::string(e.what()).find("CONVCONF_MAX_BYTES"), std::string::npos) << e.what();
    }
    ::setenv("CONVCONF_MAX_BYTES", "1000", 1);  // a cap the user lowered: small tensors hit it too
    EXPECT_THROW(small_conv().validate(), ProblemError);
    EXPECT_THROW(Tensor<double>({126}), std::invalid_argument);  // 1008 bytes
    EXPECT_NO_THROW(Tensor<double>({125}));
    ::setenv("CONVCONF_MAX_BYTES", "lots", 1);
    EXPECT_THROW(max_tensor_bytes(), std::invalid_argument);
    ::unsetenv("CONVCONF_MAX_BYTES");
    EXPECT_EQ(max_tensor_bytes(), int64_t{8} << 30);
}

TEST(TensorCount, OverflowIsAnErrorNotAnAllocation) {
    EXPECT_THROW(Tensor<float>({int64_t{1} << 40, int64_t{1} << 40}), std::invalid_argument);
    EXPECT_THROW(checked_count("y", {int64_t{1} << 61, 2}, 8), ProblemError);
}

// Every extent, stride, pad and dilation above 2^40 is refused by name, before any
// product of them is formed.
TEST(Problem, EveryFieldAboveTwoToTheFortyIsRefusedByName) {
    const int64_t huge = (int64_t{1} << 40) + 1;
    const std::pair<const char*, int64_t WindowProblem::*> fields[] = {
        {"ih", &WindowProblem::ih}, {"iw", &WindowProblem::iw}, {"kh", &WindowProblem::kh},
        {"kw", &WindowProblem::kw}, {"sh", &WindowProblem::sh}, {"sw", &WindowProblem::sw},
        {"pt", &WindowProblem::pt}, {"pl", &WindowProblem::pl}, {"pb", &WindowProblem::pb},
        {"pr", &WindowProblem::pr}, {"dh", &WindowProblem::dh}, {"dw", &WindowProblem::dw}};
    for (const auto& [name, field] : fields) {
        WindowProblem p;
        p.ih = p.iw = 3;
        p.*field = huge;
        try {
            p.validate();
            ADD_FAILURE() << name << " accepted";
        } catch (const ProblemError& e) {
            EXPECT_EQ(e.field(), name);
            EXPECT_EQ(e.message(), "value 1099511627777 exceeds 2^40") << name;
        }
    }
}

// The pooling algorithm is a field of the pooling problem, as benchdnn's pool problem has
// alg: a call sets it from its op, and everything else of the window carries over.
TEST(PoolProblem, TheCallSetsTheAlgorithmFromItsOp) {
    ConvProblem p;
    p.ih = 6, p.iw = 5, p.kh = 3, p.kw = 2, p.sh = 2, p.pt = 1, p.pr = 1, p.dw = 2;
    const Call pool(direction_of(Op::maxpool2d, Pass::forward), DType::f32, p);
    const PoolProblem pp = pool.pool_problem();
    EXPECT_EQ(pp.alg, PoolAlg::max);
    EXPECT_EQ(to_string(pp.alg), "max");  // benchdnn's --alg spelling
    EXPECT_EQ(static_cast<const WindowProblem&>(pp), static_cast<const WindowProblem&>(p));
    EXPECT_EQ(direction_of(Op::maxpool2d, Pass::backward).geometry, Geometry::pool);
    // Only a pooling has a pooling problem.
    for (const Direction& d : all_directions()) {
        if (d.geometry == Geometry::pool) continue;
        EXPECT_THROW(Call(d, DType::f32, p).pool_problem(), std::logic_error) << to_string(d.op);
    }
}

// Groups (contract 1.1): w is [oc, ic/g, kh, kw], and validate_problem refuses g other than 1
// on every op but conv2d, whatever the rest of the problem, naming g.
TEST(Groups, WeightsAndTheOpsTheyBelongTo) {
    ConvProblem p = small_conv();
    p.ic = 6, p.oc = 4, p.g = 2;
    EXPECT_NO_THROW(p.validate());
    EXPECT_EQ(p.w_dims(), (Dims4{4, 3, 3, 3}));
    EXPECT_EQ(p.icg(), 3);
    EXPECT_EQ(p.ocg(), 2);
    EXPECT_EQ(shape_of(Shape::weights, p).extents, (std::vector<int64_t>{4, 3, 3, 3}));
    for (const Direction& d : all_directions()) {
        ConvProblem q = p;
        q.ih = q.iw = 4, q.kh = q.kw = 2, q.sh = q.sw = 2;  // valid for every op
        if (d.op == Op::avgpool2d) q.alg = PoolAlg::avg_p;
        if (d.op == Op::conv2d) {
            EXPECT_NO_THROW(validate_problem(d, q)) << d.name;
            continue;
        }
        try {
            validate_problem(d, q);
            ADD_FAILURE() << to_string(d.op) << " accepted groups 2";
        } catch (const ProblemError& e) {
            EXPECT_EQ(e.field(), "g") << e.what();
            EXPECT_NE(std::string(e.what()).find("conv2d only"), std::string::npos) << e.what();
        }
        q.g = 1;
        EXPECT_NO_THROW(validate_problem(d, q)) << to_string(d.op);
    }
}

}  // namespace
}  // namespace convconf
