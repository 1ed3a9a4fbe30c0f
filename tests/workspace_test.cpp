// Memory: the strided family never holds more than one tap's slice, the im2col family
// holds the whole column matrix.
#include <gtest/gtest.h>

#include "impl/core/registry.hpp"

namespace convconf {
namespace {

TEST(Workspace, StridedIsAtMostANinthOfIm2colPlusOneOutputOn3x3) {
    const Variant* strided = find_variant("strided");
    const Variant* im2col = find_variant("im2col");
    ASSERT_TRUE(strided && im2col);
    ConvProblem p;  // 3x3, stride 1, the ResNet-like shape of the named table
    p.mb = 2, p.ic = 16, p.ih = p.iw = 14, p.oc = 16, p.kh = p.kw = 3;
    p.pt = p.pl = p.pb = p.pr = 1;
    for (DType t : {DType::f32, DType::f64})
        for (Pass pass : {Pass::forward, Pass::backward_data, Pass::backward_weights}) {
            const CheckKind k{Op::conv2d, pass, t, false};
            const int64_t bytes = t == DType::f32 ? 4 : 8;
            const int64_t output = p.mb * p.oc * p.oh() * p.ow() * bytes;
            // im2col's column matrix: (2*14*14) rows x (16*3*3) columns.
            EXPECT_GE(im2col->workspace_bytes(k, p), 392 * 144 * bytes);
            EXPECT_LE(strided->workspace_bytes(k, p), im2col->workspace_bytes(k, p) / 9 + output)
                << to_string(pass) << " " << to_string(t);
        }
}

}  // namespace
}  // namespace convconf
