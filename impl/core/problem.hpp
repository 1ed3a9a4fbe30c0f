// The problem model: what one convolution, pooling or im2col call computes.
//
// Abbreviations (benchdnn's, used everywhere in convconf):
//   mb minibatch N, ic input channels C, oc output channels K,
//   ih iw input height/width, oh ow output height/width, kh kw kernel height/width,
//   sh sw stride, pt pl pb pr padding top/left/bottom/right,
//   dh dw dilation.
// Dilation here is the contract's (golden-format.md): the distance between taps, 1 = dense,
// as in PyTorch and ONNX. benchdnn's descriptors and oneDNN count it from 0 (dh0 = dense);
// only descriptor.cpp and the oneDNN adapter convert.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "impl/core/types.hpp"

namespace convconf {

// Thrown by validate() and by the overflow-checked counts. field() names the offending
// problem field (e.g. "sh", "pt", "kh") so callers can map it back to their own input.
class ProblemError : public std::invalid_argument {
public:
    ProblemError(std::string field, const std::string& message);
    const std::string& field() const { return field_; }
    // The message without the "invalid problem: <field>: " prefix, for callers that name
    // the field their own way (a descriptor token, a JSON path).
    const std::string& message() const { return message_; }

private:
    std::string field_;
    std::string message_;
};

// Logical 4-D extents: (n, c, h, w) for activations, (o, i, h, w) for weights,
// whatever the physical layout.
using Dims4 = std::array<int64_t, 4>;

// The most bytes one tensor may take: CONVCONF_MAX_BYTES if set (a whole number), else
// 8 GiB, a third of this machine. Problems and tensors beyond it are refused before any
// allocation is attempted.
int64_t max_tensor_bytes();
// Throws std::invalid_argument when count elements of element_bytes exceed the cap.
void require_within_memory_cap(int64_t count, int64_t element_bytes, const std::string& what = "tensor");

// Multiplies extents, throwing ProblemError(field) if the product overflows int64, the
// byte count (product * element_bytes) would, or it exceeds max_tensor_bytes().
int64_t checked_count(const std::string& field, std::initializer_list<int64_t> extents,
                      int64_t element_bytes = 8);

// What a pooling window computes, as benchdnn's --alg names it. Version 1.1 of the contract
// adds average pooling, which benchdnn splits by its divisor: avg_p counts the taps in the
// padding, avg_np does not (count_include_pad true and false).
enum class PoolAlg { max, avg_p, avg_np };
std::string_view to_string(PoolAlg);
// benchdnn's spelling, case-insensitively: max, avg_p, avg_np (std::invalid_argument naming
// `what` and the accepted values otherwise).
PoolAlg parse_pool_alg(std::string_view text, std::string_view what = "--alg");
inline bool is_average(PoolAlg a) { return a != PoolAlg::max; }

// The sliding-window geometry common to every op: an image of mb x ic x ih x iw and a
// kh x kw window moved by stride over it, padded and dilated. im2col and col2im take it
// alone; convolution and pooling add their own fields and rules.
//
// Two fields belong to pooling alone, kept here so that no copy of a problem drops them:
// ceil_mode (the output size rounds up, version 1.1) and alg. validate_problem()
// (impl/core/call.hpp) refuses ceil_mode on the other ops and an alg that is not its op's.
struct WindowProblem {
    int64_t mb = 2, ic = 1, ih = 1, iw = 1;
    int64_t kh = 1, kw = 1;
    int64_t sh = 1, sw = 1;
    int64_t pt = 0, pl = 0, pb = 0, pr = 0;
    int64_t dh = 1, dw = 1;
    Layout layout = Layout::nchw;
    bool ceil_mode = false;
    PoolAlg alg = PoolAlg::max;

    // The one place output size is computed:
    // OH = floor((ih + pt + pb - dh*(kh-1) - 1) / sh) + 1, OW likewise. In ceil mode the
    // division rounds up, and then OH -= 1 where (OH-1)*sh >= ih + pt: a last window that
    // would start in the bottom padding or beyond is dropped (PyTorch's rule, the contract's).
    int64_t oh() const;
    int64_t ow() const;
    // Extent of the dilated window: dh*(kh-1) + 1.
    int64_t kh_extent() const { return dh * (kh - 1) + 1; }
    int64_t kw_extent() const { return dw * (kw - 1) + 1; }

    Dims4 x_dims() const { return {mb, ic, ih, iw}; }
    // im2col's column matrix: one row per (n, oh, ow), one column per (c, i, j).
    std::array<int64_t, 2> col_dims() const { return {mb * oh() * ow(), ic * kh * kw}; }

    // Throws ProblemError naming the field for: a dimension below 1, a stride or
    // dilation below 1, a negative pad, a window larger than the padded input, and
    // element or byte counts of x and col that overflow int64.
    void validate() const;

    bool operator==(const WindowProblem&) const = default;
};

struct ConvProblem : WindowProblem {
    int64_t oc = 1;
    // Groups (benchdnn's g, the contract's `groups`, version 1.1): the channels split into g
    // independent convolutions, group q reading input channels [q*icg(), (q+1)*icg()) and
    // writing output channels [q*ocg(), (q+1)*ocg()). 1 is a plain convolution, g = ic
    // depthwise. validate_problem() refuses g other than 1 on every op but conv2d.
    int64_t g = 1;
    WeightsLayout weights_layout = WeightsLayout::oihw;

    // Channels per group: Cg and Kg in the contract.
    int64_t icg() const { return ic / g; }
    int64_t ocg() const { return oc / g; }
    // The group of output channel k, and of input channel c.
    int64_t group_of_oc(int64_t k) const { return k / ocg(); }
    int64_t group_of_ic(int64_t c) const { return c / icg(); }
    // w is [oc, ic/g, kh, kw]: each output channel sees its own group's input channels.
    Dims4 w_dims() const { return {oc, icg(), kh, kw}; }
    Dims4 y_dims() const { return {mb, oc, oh(), ow()}; }

    // WindowProblem's rules plus oc >= 1, g >= 1 dividing ic and oc, and overflow checks
    // on w and y.
    void validate() const;

    bool operator==(const ConvProblem&) const = default;
};

struct PoolProblem : WindowProblem {
    Dims4 y_dims() const { return {mb, ic, oh(), ow()}; }

    // WindowProblem's rules plus: every window covers at least one element of x
    // (a window entirely in the padding has no element to choose).
    void validate() const;

    bool operator==(const PoolProblem&) const = default;
};

// The pooling problem of a window (a ConvProblem's WindowProblem part), its alg included.
PoolProblem pool_problem(const WindowProblem&);
// Along one axis, how many taps t in [0, k) of output position o read a coordinate
// o*stride - pad + t*dilation in [lo, hi). Average pooling's divisor is its product over
// the two axes (pool_divisor).
int64_t taps_between(int64_t o, int64_t stride, int64_t pad, int64_t dilation, int64_t k, int64_t lo, int64_t hi);
// Average pooling's divisor of output (oh, ow): the taps inside x and, for avg_p, those in
// the padding too (never taps beyond the padded input, which ceil mode's last window can
// have). The naive reference counts them in its own loop instead.
int64_t pool_divisor(const WindowProblem&, int64_t oh, int64_t ow);
// A ConvProblem whose WindowProblem part is p (oc 1, OIHW): the problem a Call carries for
// maxpool2d, im2col and col2im.
ConvProblem as_conv_problem(const WindowProblem&);

}  // namespace convconf
