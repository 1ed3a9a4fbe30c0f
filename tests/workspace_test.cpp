// Memory: the strided family holds one tap's slice of a block of positions, the im2col
// family every tap's.
#include <gtest/gtest.h>

#include "reference/registry.hpp"
#include "impl/core/descriptor.hpp"
#include "impl/core/lowering.hpp"
#include "impl/core/threads.hpp"

namespace convconf {
namespace {

// Both families lower blocks of output positions of one image (impl/core/lowering.hpp);
// here one block is the whole 14x14 image (196 positions) for both. im2col's block holds
// every tap, (16*3*3) x 196 = 28224 elements; strided's one tap, 16 x 196 = 3136, a ninth.
// Strided also copies OIHW weights tap by tap (9*16*16 = 2304 elements); in backward-data
// im2col copies W^T plain (2304); in backward-weights both keep a partial dW per image
// (group), im2col's first in dw itself.
// One thread (the tests' setting): one block in flight.
TEST(Workspace, StridedHoldsOneTapWhereIm2colHoldsNine) {
    const Variant* strided = find_variant("strided");
    const Variant* im2col = find_variant("im2col");
    ASSERT_TRUE(strided && im2col);
    ConvProblem p;  // 3x3, stride 1, the ResNet-like shape of the named table
    p.mb = 2, p.ic = 16, p.ih = p.iw = 14, p.oc = 16, p.kh = p.kw = 3;
    p.pt = p.pl = p.pb = p.pr = 1;
    for (DType t : {DType::f32, DType::f64}) {
        const int64_t bytes = t == DType::f32 ? 4 : 8;
        for (Pass pass : {Pass::forward, Pass::backward_data}) {
            const Call k(direction_of(Op::conv2d, pass), t, p);
            const int64_t wt = pass == Pass::backward_data ? 2304 : 0;
            EXPECT_EQ(im2col->workspace_bytes(k), (28224 + wt) * bytes) << to_string(pass);
            EXPECT_EQ(strided->workspace_bytes(k), (3136 + 2304) * bytes) << to_string(pass);
        }
        const Call k(direction_of(Op::conv2d, Pass::backward_weights), t, p);
        EXPECT_EQ(im2col->workspace_bytes(k), (28224 + 2304) * bytes);
        EXPECT_EQ(strided->workspace_bytes(k), (3136 + 2 * 2304) * bytes);
    }
}

// Backward-weights keeps a partial dW per group of images, at most 8 groups and fewer where
// the partials would pass 64 MiB (lowering::image_groups). Here dW is 512 x (512*3*3) =
// 2359296 elements, 9437184 bytes at f32: 64 MiB / 9437184 = 7.1, so 7 groups of
// ceil(8/7) = 2 images, which 8 images fill 4 of. One position (3x3 input, 3x3 kernel): a
// block is one position. im2col: a block of 4608 rows, and partials for groups 1..3 (group 0
// sums into dw, stored as its matrix): 4608 + 3*2359296 = 7082496 elements. strided: one
// tap's slice of 512, and 4 partials (OIHW is not stored tap by tap, so none is dw itself):
// 512 + 4*2359296 = 9437696.
TEST(Workspace, LargePartialsMakeFewerImageGroups) {
    ConvProblem p;
    p.mb = 8, p.ic = 512, p.oc = 512, p.ih = p.iw = 3, p.kh = p.kw = 3;
    const Call c(direction_of(Op::conv2d, Pass::backward_weights), DType::f32, p);
    EXPECT_EQ(lowering::image_groups(8, 9437184).count(), 4);
    EXPECT_EQ(lowering::image_groups(8, 1 << 20).count(), 8);
    EXPECT_EQ(find_variant("im2col")->workspace_bytes(c), 7082496 * 4);
    EXPECT_EQ(find_variant("strided")->workspace_bytes(c), 9437696 * 4);
}

// Strided depthwise works straight on the tensors: it allocates the [tap][channel] weight
// table (forward, backward-data: 3*3*8 values), or in NCHW backward-weights one row of
// column sums per thread at work (one thread: ow = 9 values); NHWC's sums are on the stack.
TEST(Workspace, StridedDepthwiseHoldsTheWeightTableOrAColumnRow) {
    const ConvProblem p = parse_conv_descriptor("g8mb2ic8ih9oc8kh3ph1").problem;
    const Variant* strided = find_variant("strided");
    for (Pass pass : {Pass::forward, Pass::backward_data})
        EXPECT_EQ(strided->workspace_bytes(Call(direction_of(Op::conv2d, pass), DType::f32, p)), 72 * 4);
    EXPECT_EQ(strided->workspace_bytes(Call(direction_of(Op::conv2d, Pass::backward_weights), DType::f64, p)), 9 * 8);
    ConvProblem nhwc = p;
    nhwc.layout = Layout::nhwc;
    EXPECT_EQ(strided->workspace_bytes(Call(direction_of(Op::conv2d, Pass::backward_weights), DType::f32, nhwc)), 0);
}

// naive allocates nothing beyond its inputs and outputs, in any direction: its loops read
// and write the tensors in place (and the interface's default is that: 0).
TEST(Workspace, NaiveAllocatesNothing) {
    ConvProblem p;
    p.mb = 2, p.ic = 3, p.ih = p.iw = 5, p.oc = 4, p.kh = p.kw = 3;
    for (const Direction& d : all_directions())
        for (DType t : {DType::f32, DType::f64})
            EXPECT_EQ(naive_variant().workspace_bytes(Call(d, t, p)), 0) << to_string(d.op) << " " << d.name;
}

// On two threads two blocks are in flight where the pass has at least two tasks. Forward
// runs a task per block: one image of 56x56 positions in blocks of 48Ki/(ic+oc) = 1536
// makes three. Backward-data runs one task per image: one here. NHWC with HWIO weights
// copies nothing else, so the workspace is exactly the slices (strided) or blocks (im2col)
// in flight: twice the one-thread figure in forward, the same in backward-data.
TEST(Workspace, TwoThreadsHoldTwoBlocksWhereThereAreTwoTasks) {
    ConvProblem p;
    p.mb = 1, p.ic = 16, p.ih = p.iw = 56, p.oc = 16, p.kh = p.kw = 3;
    p.pt = p.pl = p.pb = p.pr = 1;
    p.layout = Layout::nhwc;
    p.weights_layout = WeightsLayout::hwio;
    const int before = max_threads();
    for (const char* name : {"strided", "im2col"})
        for (Pass pass : {Pass::forward, Pass::backward_data}) {
            const Call c(direction_of(Op::conv2d, pass), DType::f32, p);
            set_threads(1);
            const int64_t one = find_variant(name)->workspace_bytes(c);
            set_threads(2);
            const int64_t two = find_variant(name)->workspace_bytes(c);
            EXPECT_GT(one, 0) << name << " " << to_string(pass);
            EXPECT_EQ(two, pass == Pass::forward ? 2 * one : one) << name << " " << to_string(pass);
        }
    set_threads(before);
}

}  // namespace
}  // namespace convconf
