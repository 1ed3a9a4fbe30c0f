#include "reference/problem_table.hpp"

#include "impl/core/descriptor.hpp"

namespace convconf {
namespace {

struct Entry {
    const char* name;
    const char* descriptor;  // benchdnn's: 0-based dilation, dh1 means taps 2 apart
};

// conv2d; the same problems, but the grouped ones, serve im2col and col2im.
constexpr Entry kConv[] = {
    {"notebook_4x4_k2", "mb1ic1ih4oc1kh2"},               // seeds 000/001, In [1]
    {"notebook_pad1", "mb1ic1ih3oc1kh2ph1"},               // seed 001, In [13]
    {"batch_channels_filters", "mb2ic2ih4oc3kh2"},         // seed 000, In [58]: N > 1
    {"pointwise_1x1", "mb2ic8ih6oc4kh1"},
    {"pointwise_1x1_stride2", "mb2ic8ih6oc4kh1sh2"},
    {"kernel_is_padded_input", "mb1ic2ih3iw4oc2kh5kw6ph1pw1"},  // oh = ow = 1
    {"stride_gt_kernel", "mb2ic3ih9oc2kh2sh3"},            // rows between windows unread
    {"rect_kernel_stride", "mb2ic3ih7iw9oc4kh3kw2sh2sw1ph1pw0"},
    {"asym_pad", "mb2ic2ih5oc3oh6kh3ph1"},                 // pt 1, pb 2
    {"pad_top_only", "mb1ic2ih5oc2oh6kh2ph2"},             // pt 2, pb 0: first window all padding
    {"window_in_padding", "mb1ic1ih2oc1oh6kh1ph2"},        // outer rows see only padding
    {"tap_row_all_padding", "mb1ic2ih4iw7oc2oh2ow3kh3kw2sh2sw2ph0pw0dh1dw2"},  // kernel row 2 reads only padding, for every output
    {"dilation2", "mb1ic2ih9iw8oc2kh3kw2dh1dw1ph2pw1"},
    {"dilation3", "mb2ic3ih11oc2kh3dh2ph3"},               // extent 7
    {"odd_sizes", "mb3ic5ih11iw13oc7kh3kw5sh2sw3ph1pw2"},
    {"wide_channels", "mb2ic64ih7oc64kh3ph1"},             // C and K of 64
    {"resnet_like", "mb2ic16ih14oc16kh3ph1"},
    // Groups (contract 1.1): group counts that split ic and oc differently, depthwise with
    // and without a channel multiplier, and grouped 1x1 (the lowering families' identity
    // path, per group).
    {"grouped_2", "g2mb2ic4ih7oc6kh3ph1"},                // 2 input, 3 output channels a group
    {"grouped_3_stride_dilation", "g3mb2ic6ih9iw8oc3kh3kw2sh2dh1ph1"},  // 2 in, 1 out a group
    {"grouped_pointwise", "g4mb2ic8ih5oc12kh1"},          // 1x1: x is each group's lowered matrix
    {"grouped_asym_pad", "g2mb1ic6ih5oc4oh6kh3ph1"},      // pt 1, pb 2
    {"depthwise", "g8mb2ic8ih9oc8kh3ph1"},
    {"depthwise_multiplier", "g4mb1ic4ih6iw7oc8kh3kw3sh2ph1"},  // 1 in, 2 out a group
    {"depthwise_mobilenet_like", "g32mb2ic32ih14oc32kh3sh2ph1"},
};

constexpr Entry kPool[] = {
    {"notebook_2x2_s2", "mb1ic2ih4kh2sh2"},                // seeds 000/001, In [25]
    {"notebook_4x5", "mb2ic2ih4iw5kh2kw2sh2sw2"},        // seed 003, In [3]
    {"kernel_1x1", "mb2ic3ih4kh1"},
    {"overlap", "mb2ic3ih7kh3sh2"},                        // stride < kernel: dx accumulates
    {"stride_gt_kernel", "mb1ic2ih9kh2sh3"},
    {"padded", "mb1ic2ih5kh3sh2ph1"},
    {"corner_padding", "mb1ic3ih3kh3ph2"},                 // corner windows hold one element
    {"asym_pad", "mb1ic1ih6oh4kh3sh2ph1"},                 // pt 1, pb 2
    {"dilation2", "mb1ic2ih9kh3sh2dh1"},
    {"dilation3", "mb2ic2ih10kh2dh2"},
    {"rect", "mb2ic2ih6iw9kh2kw3sh1sw2"},
    {"global", "mb2ic4ih5iw3kh5kw3"},
    {"wide_channels", "mb2ic64ih6kh3sh2ph1"},
    {"dilation_padded", "mb1ic2ih5iw3kh5kw1ph6pw0dh1"},  // taps 2 apart, 6 rows of padding each side
    // Ceil mode (contract 1.1); each pooling problem runs as max, avg_p and avg_np.
    {"ceil_overhang", "mb2ic2ih6kh3sh2ceil1"},             // 3 windows, not 2: the last reads row 6, past x
    {"ceil_padded_overhang", "mb1ic2ih6iw5kh3kw2sh2sw2ph1pw0ceil1"},  // last window: x, pad, then past both
    {"ceil_drops_window", "mb1ic2ih5kh2sh2ph1ceil1"},      // ceil gives 4, minus the one starting in the pad
    {"ceil_dilation", "mb1ic2ih4kh2sh2dh1ceil1"},          // onnxruntime#1224: 2 outputs, the last's 2nd tap past x
    {"ceil_asym_pad", "mb2ic3ih7iw8oh4ow3kh3kw3sh2sw3ph0pw1ceil1"},  // pb, pr from the ceil-mode output size
};

template <class Named, class Entries, class Parse>
std::vector<Named> build(const Entries& entries, Parse parse) {
    std::vector<Named> out;
    for (const Entry& e : entries) out.push_back({e.name, parse(e.descriptor).problem});
    return out;
}

}  // namespace

const std::vector<NamedConv>& conv_problems() {
    static const auto table = build<NamedConv>(kConv, parse_conv_descriptor);
    return table;
}

const std::vector<NamedPool>& pool_problems() {
    static const auto table = build<NamedPool>(kPool, parse_pool_descriptor);
    return table;
}

}  // namespace convconf
