#include "impl/core/types.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>
#include <utility>

namespace convconf {
namespace {

template <class E, size_t N>
using Names = std::array<std::pair<E, std::string_view>, N>;

constexpr Names<Layout, 2> kLayouts{{{Layout::nchw, "NCHW"}, {Layout::nhwc, "NHWC"}}};
constexpr Names<WeightsLayout, 2> kWeightsLayouts{
    {{WeightsLayout::oihw, "OIHW"}, {WeightsLayout::hwio, "HWIO"}}};
constexpr Names<DType, 2> kDTypes{{{DType::f32, "f32"}, {DType::f64, "f64"}}};
constexpr Names<Op, 5> kOps{{{Op::conv2d, "conv2d"},
                             {Op::maxpool2d, "maxpool2d"},
                             {Op::avgpool2d, "avgpool2d"},
                             {Op::im2col, "im2col"},
                             {Op::col2im, "col2im"}}};
constexpr Names<Pass, 4> kPasses{{{Pass::forward, "forward"},
                                  {Pass::backward_data, "backward_data"},
                                  {Pass::backward_weights, "backward_weights"},
                                  {Pass::backward, "backward"}}};

template <class E, size_t N>
std::string_view name_of(const Names<E, N>& names, E value) {
    for (const auto& [v, s] : names)
        if (v == value) return s;
    return "?";
}

bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

template <class E, size_t N>
E parse_name(const Names<E, N>& names, std::string_view text, std::string_view what) {
    for (const auto& [v, s] : names)
        if (iequal(s, text)) return v;
    std::string accepted;
    for (const auto& [v, s] : names) accepted += (accepted.empty() ? "" : ", ") + std::string(s);
    throw std::invalid_argument(std::string(what) + ": unknown value \"" + std::string(text) +
                                "\" (expected one of " + accepted + ")");
}

}  // namespace

std::string_view to_string(Layout v) { return name_of(kLayouts, v); }
std::string_view to_string(WeightsLayout v) { return name_of(kWeightsLayouts, v); }
std::string_view to_string(DType v) { return name_of(kDTypes, v); }
std::string_view to_string(Op v) { return name_of(kOps, v); }
std::string_view to_string(Pass v) { return name_of(kPasses, v); }

Layout parse_layout(std::string_view t, std::string_view w) { return parse_name(kLayouts, t, w); }
WeightsLayout parse_weights_layout(std::string_view t, std::string_view w) {
    return parse_name(kWeightsLayouts, t, w);
}
DType parse_dtype(std::string_view t, std::string_view w) { return parse_name(kDTypes, t, w); }
Op parse_op(std::string_view t, std::string_view w) { return parse_name(kOps, t, w); }
Pass parse_pass(std::string_view t, std::string_view w) { return parse_name(kPasses, t, w); }

int mantissa_digits(DType t) { return t == DType::f32 ? 24 : 53; }
double unit_roundoff(DType t) { return t == DType::f32 ? 0x1p-24 : 0x1p-53; }

}  // namespace convconf
