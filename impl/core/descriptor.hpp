// benchdnn problem descriptors: `mb2ic3ih5oc4kh3ph1` for conv, `mb50ic64ih112oh56kh3sh2`
// for pooling, so a problem pastes between convconf and `benchdnn --conv` / `--pool`.
//
// Reading follows oneDNN v2.6's benchdnn (tests/benchdnn/conv/conv_aux.cpp and
// pool/pool_aux.cpp, str2desc; sanitize_desc in dnnl_common.cpp):
//  - tokens are a name and a decimal number, in any order; `_` is ignored; `n` starts the
//    name, which runs to the end (`n"resnet_50:conv1"` or `nresnet_50`; quotes are dropped);
//  - defaults: mb 2, stride 1, pad 0, dilation 0 (benchdnn counts dilation from 0: `dh0` is
//    dense and `dh1` is our dh == 2);
//  - ic, ih and kh are required, and oc for conv; pooling has no oc and no default kernel;
//  - the w values are all copied from h (iw ih, ow oh, kw kh, sw sh, pw ph, dw dh) only when
//    no w token is given; once one is, iw and kw are required and the others take their
//    defaults, not h's. benchdnn decides "given" by value (sw1, pw0, dw0 count as absent);
//    such a token is rejected here when the copy from h would overwrite it with another value;
//  - without oh, the output size is computed and pb = pt (benchdnn's padding_r is then the
//    smallest bottom pad below, which reaches the same windows);
//  - with oh and without ph, pt is benchdnn's centring pad ((oh-1)*sh - ih + ext) / 2,
//    ext = dh*(kh-1) + 1 (our 1-based dh), rounded toward zero;
//  - with oh, pb is the smallest bottom pad giving that output size,
//    (oh-1)*sh + ext - ih - pt, as benchdnn's padding_r; where that is negative (the output
//    rounds down, e.g. ih56oh28kh1sh2) and pb = 0 still gives oh outputs, pb = 0, since the
//    problem model has no negative pads. This is how asymmetric padding is written.
//  - w likewise with ow, pw, pl, pr.
// Ceil mode (version 1.1 of the contract) is convconf's own token, `ceil1` (`ceil0` is the
// default, floor), on pooling descriptors only: benchdnn has no ceil mode (give it the oh
// instead). With it, an oh or ow is ceil mode's output size and the bottom (right) pad is
// the smallest giving it there; one that no pad gives is rejected.
// The algorithm (max, avg_p, avg_np) is not part of a descriptor: benchdnn spells it --alg.
// Groups (version 1.1) are benchdnn's `g` on convolution descriptors (g32mb2ic32ih112oc32kh3ph1,
// depthwise); 1 is the default. A g that does not divide ic and oc is rejected, naming it.
// Rejected with a DescriptorError: 3-D tokens (id od kd sd pd
// dd), 1-D descriptors (no ih), unknown or repeated tokens, missing numbers, numbers beyond
// int64, and every problem that validate() rejects (the error names the token behind the
// field: sh -> `sh0`; a derived pad -> the `oh` token).
//
// Writing gives benchdnn's canonical order (g mb ic ih iw oc oh ow kh kw sh sw ph pw dh dw,
// then ceil, n)
// and leaves out defaults and what reading derives: the w tokens when w equals h, oh when
// pb = pt, ph when it is 0 or the centring pad of the printed oh. layout and weights_layout
// are not part of a descriptor. Reading what was written gives the same problem whenever
// pb = pt or pb is the smallest bottom pad for the output size (and pr likewise). A larger
// pb adds bottom rows that no window reaches; such a problem cannot be written exactly and
// is written as the equivalent problem with the smallest pb: same output size, same taps,
// same results. In ceil mode the same holds for max and avg_np; for avg_p a larger pb can
// add padding taps that the last window's divisor counts, and such a problem is not written
// exactly (generated problems never have one; golden cases state their pads).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "impl/core/problem.hpp"

namespace convconf {

// what(): descriptor "mb2ic3ih5oc4kh3sh0": token "sh0": stride height must be >= 1, got 0
// token() is the token as written, or the name of a required token that is missing.
class DescriptorError : public std::invalid_argument {
public:
    DescriptorError(std::string descriptor, std::string token, const std::string& message);
    const std::string& token() const { return token_; }
    const std::string& descriptor() const { return descriptor_; }

private:
    std::string descriptor_;
    std::string token_;
};

template <class P>
struct Described {
    P problem;
    std::string name;  // without the `n` and the quotes; empty when none is given
};

// Throw DescriptorError; the problem returned has passed validate().
Described<ConvProblem> parse_conv_descriptor(std::string_view text);
Described<PoolProblem> parse_pool_descriptor(std::string_view text);

// The name is written in double quotes, `n"name"`, when not empty.
std::string to_descriptor(const ConvProblem& p, std::string_view name = {});
std::string to_descriptor(const PoolProblem& p, std::string_view name = {});

}  // namespace convconf
