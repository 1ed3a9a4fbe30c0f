// The vocabulary (impl/core/types.hpp): every value's spelling from the golden-file contract
// (../shared/golden-format.md), written out here by hand, both ways; every parser refuses
// what is not one of them, the empty text included, and lists exactly the accepted values.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "impl/core/problem.hpp"
#include "impl/core/types.hpp"

namespace convconf {
namespace {

// The message a parser throws for `text`, or "" when it accepts it.
template <class Parse>
std::string refusal(Parse parse, std::string_view text) {
    try {
        parse(text);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

TEST(Types, EverySpellingOfTheContractBothWays) {
    EXPECT_EQ(to_string(Layout::nchw), "NCHW");
    EXPECT_EQ(to_string(Layout::nhwc), "NHWC");
    EXPECT_EQ(to_string(WeightsLayout::oihw), "OIHW");
    EXPECT_EQ(to_string(WeightsLayout::hwio), "HWIO");
    EXPECT_EQ(to_string(DType::f32), "f32");
    EXPECT_EQ(to_string(DType::f64), "f64");
    EXPECT_EQ(to_string(Op::conv2d), "conv2d");
    EXPECT_EQ(to_string(Op::maxpool2d), "maxpool2d");
    EXPECT_EQ(to_string(Op::im2col), "im2col");
    EXPECT_EQ(to_string(Op::col2im), "col2im");
    EXPECT_EQ(to_string(Pass::forward), "forward");
    EXPECT_EQ(to_string(Pass::backward_data), "backward_data");
    EXPECT_EQ(to_string(Pass::backward_weights), "backward_weights");
    EXPECT_EQ(to_string(Pass::backward), "backward");

    // Case-insensitive.
    EXPECT_EQ(parse_layout("nhwc"), Layout::nhwc);
    EXPECT_EQ(parse_layout("NCHW"), Layout::nchw);
    EXPECT_EQ(parse_weights_layout("hwio"), WeightsLayout::hwio);
    EXPECT_EQ(parse_weights_layout("OIHW"), WeightsLayout::oihw);
    EXPECT_EQ(parse_dtype("F64"), DType::f64);
    EXPECT_EQ(parse_dtype("f32"), DType::f32);
    EXPECT_EQ(parse_op("MaxPool2D"), Op::maxpool2d);
    EXPECT_EQ(parse_op("conv2d"), Op::conv2d);
    EXPECT_EQ(parse_op("im2col"), Op::im2col);
    EXPECT_EQ(parse_op("col2im"), Op::col2im);
    EXPECT_EQ(parse_pass("forward"), Pass::forward);
    EXPECT_EQ(parse_pass("backward_data"), Pass::backward_data);
    EXPECT_EQ(parse_pass("BACKWARD_WEIGHTS"), Pass::backward_weights);
    EXPECT_EQ(parse_pass("backward"), Pass::backward);
}

TEST(Types, ParsersRefuseAnythingElseAndListExactlyWhatTheyAccept) {
    for (std::string_view text : {"", "forwar", "forwardx", " forward", "fwd"})
        EXPECT_EQ(refusal([](std::string_view t) { return parse_pass(t, "--pass"); }, text),
                  "--pass: unknown value \"" + std::string(text) +
                      "\" (expected one of forward, backward_data, backward_weights, backward)");
    for (std::string_view text : {"", "conv", "conv2d "})
        EXPECT_EQ(refusal([](std::string_view t) { return parse_op(t); }, text),
                  "op: unknown value \"" + std::string(text) +
                      "\" (expected one of conv2d, maxpool2d, avgpool2d, im2col, col2im)");
    for (std::string_view text : {"", "avg", "avg_p ", "mean"})
        EXPECT_EQ(refusal([](std::string_view t) { return parse_pool_alg(t, "--alg"); }, text),
                  "--alg: \"" + std::string(text) + "\" is not a pooling algorithm (expected max, avg_p or avg_np)");
    EXPECT_EQ(parse_pool_alg("AVG_NP"), PoolAlg::avg_np);
    EXPECT_EQ(parse_pool_alg("pooling_avg_include_padding"), PoolAlg::avg_p);
    EXPECT_EQ(refusal([](std::string_view t) { return parse_layout(t); }, ""),
              "layout: unknown value \"\" (expected one of NCHW, NHWC)");
    EXPECT_EQ(refusal([](std::string_view t) { return parse_layout(t); }, "NCWH"),
              "layout: unknown value \"NCWH\" (expected one of NCHW, NHWC)");
    EXPECT_EQ(refusal([](std::string_view t) { return parse_weights_layout(t); }, ""),
              "weights_layout: unknown value \"\" (expected one of OIHW, HWIO)");
    EXPECT_EQ(refusal([](std::string_view t) { return parse_dtype(t, "dtype"); }, "bf16"),
              "dtype: unknown value \"bf16\" (expected one of f32, f64)");
    EXPECT_EQ(refusal([](std::string_view t) { return parse_dtype(t); }, ""),
              "dtype: unknown value \"\" (expected one of f32, f64)");
}

TEST(Types, TheContractsPassesPerOp) {
    const Pass passes[] = {Pass::forward, Pass::backward_data, Pass::backward_weights, Pass::backward};
    // Rows: conv2d, maxpool2d, im2col, col2im; columns: the passes above.
    const bool valid[4][4] = {{true, true, true, false},
                              {true, false, false, true},
                              {true, false, false, false},
                              {true, false, false, false}};
    const Op ops[] = {Op::conv2d, Op::maxpool2d, Op::im2col, Op::col2im};
    for (int o = 0; o < 4; ++o)
        for (int q = 0; q < 4; ++q)
            EXPECT_EQ(is_valid_pass(ops[o], passes[q]), valid[o][q]) << to_string(ops[o]) << " " << to_string(passes[q]);
    EXPECT_EQ(mantissa_digits(DType::f32), 24);
    EXPECT_EQ(mantissa_digits(DType::f64), 53);
    EXPECT_EQ(unit_roundoff(DType::f32), 0x1p-24);
    EXPECT_EQ(unit_roundoff(DType::f64), 0x1p-53);
}

}  // namespace
}  // namespace convconf
