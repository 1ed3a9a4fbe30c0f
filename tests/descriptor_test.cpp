// benchdnn descriptors: reading, writing, and the errors that name a token.
// Expected values are worked by hand in the comments, from benchdnn's rules (descriptor.hpp):
// ext = dh*(kh-1)+1 with our 1-based dh; OH = floor((ih + pt + pb - ext) / sh) + 1;
// with oh given: pt = ((oh-1)*sh - ih + ext) / 2 rounded toward zero unless ph is given,
// pb = (oh-1)*sh + ext - ih - pt.
#include "impl/core/descriptor.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <type_traits>
#include <vector>

namespace convconf {
namespace {

struct AxisValues {
    int64_t in, k, s, lo, hi, dil;
};

void expect_h(const WindowProblem& p, AxisValues a) {
    EXPECT_EQ(p.ih, a.in);
    EXPECT_EQ(p.kh, a.k);
    EXPECT_EQ(p.sh, a.s);
    EXPECT_EQ(p.pt, a.lo);
    EXPECT_EQ(p.pb, a.hi);
    EXPECT_EQ(p.dh, a.dil);
}

void expect_w(const WindowProblem& p, AxisValues a) {
    EXPECT_EQ(p.iw, a.in);
    EXPECT_EQ(p.kw, a.k);
    EXPECT_EQ(p.sw, a.s);
    EXPECT_EQ(p.pl, a.lo);
    EXPECT_EQ(p.pr, a.hi);
    EXPECT_EQ(p.dw, a.dil);
}

template <class P>
Described<P> parse(const std::string& text);
template <>
Described<ConvProblem> parse(const std::string& text) {
    return parse_conv_descriptor(text);
}
template <>
Described<PoolProblem> parse(const std::string& text) {
    return parse_pool_descriptor(text);
}

// Print then parse gives back the problem and the name.
template <class P>
void expect_round_trip(const P& p, const std::string& name = {}) {
    const std::string text = to_descriptor(p, name);
    const Described<P> back = parse<P>(text);
    EXPECT_EQ(back.problem, p) << text;
    EXPECT_EQ(back.name, name) << text;
}

// ---- Reading ----

TEST(Descriptor, ReadsPaddedConvAndCopiesWFromH) {
    const auto [p, name] = parse_conv_descriptor("mb2ic3ih5oc4kh3ph1");
    EXPECT_EQ(p.mb, 2);
    EXPECT_EQ(p.ic, 3);
    EXPECT_EQ(p.oc, 4);
    // No oh: pb = pt = 1; no w token: w copies h.
    expect_h(p, {5, 3, 1, 1, 1, 1});
    expect_w(p, {5, 3, 1, 1, 1, 1});
    // OH = (5 + 1 + 1 - 3) / 1 + 1 = 5.
    EXPECT_EQ(p.oh(), 5);
    EXPECT_EQ(p.ow(), 5);
    EXPECT_EQ(name, "");
    EXPECT_EQ(p.layout, Layout::nchw);
    EXPECT_EQ(p.weights_layout, WeightsLayout::oihw);
    // mb2 is the default, so it is left out.
    EXPECT_EQ(to_descriptor(p), "ic3ih5oc4kh3ph1");
    expect_round_trip(p);
}

TEST(Descriptor, ReadsResnet50Conv1WithDerivedBottomPad) {
    const auto [p, name] = parse_conv_descriptor(
        "g1mb50ic3ih224iw224oc64oh112ow112kh7kw7sh2sw2ph3pw3n\"resnet_50:conv1\"");
    EXPECT_EQ(p.mb, 50);
    EXPECT_EQ(p.ic, 3);
    EXPECT_EQ(p.oc, 64);
    // ext = 1*(7-1)+1 = 7; pb = (112-1)*2 + 7 - 224 - 3 = 222 + 7 - 227 = 2.
    expect_h(p, {224, 7, 2, 3, 2, 1});
    expect_w(p, {224, 7, 2, 3, 2, 1});
    // OH = floor((224 + 3 + 2 - 7) / 2) + 1 = 111 + 1 = 112.
    EXPECT_EQ(p.oh(), 112);
    EXPECT_EQ(p.ow(), 112);
    EXPECT_EQ(name, "resnet_50:conv1");
    // w equals h, so no w token; pb != pt, so oh is written; the centring pad of oh112 is
    // (111*2 - 224 + 7) / 2 = 2 != 3, so ph3 is written too.
    EXPECT_EQ(to_descriptor(p, name), "mb50ic3ih224oc64oh112kh7sh2ph3n\"resnet_50:conv1\"");
    expect_round_trip(p, name);
}

TEST(Descriptor, ReadsPoolWithDerivedPads) {
    const auto [p, name] = parse_pool_descriptor("mb50ic64_ih112oh56_kh3sh2");
    EXPECT_EQ(p.mb, 50);
    EXPECT_EQ(p.ic, 64);
    // ext = 3; no ph: pt = ((56-1)*2 - 112 + 3) / 2 = 1 / 2 = 0;
    // pb = 55*2 + 3 - 112 - 0 = 1.
    expect_h(p, {112, 3, 2, 0, 1, 1});
    expect_w(p, {112, 3, 2, 0, 1, 1});
    // OH = floor((112 + 0 + 1 - 3) / 2) + 1 = 55 + 1 = 56.
    EXPECT_EQ(p.oh(), 56);
    EXPECT_EQ(name, "");
    // ph0 is the centring pad of oh56, so reading derives it and it is left out.
    EXPECT_EQ(to_descriptor(p), "mb50ic64ih112oh56kh3sh2");
    expect_round_trip(p);
}

TEST(Descriptor, PoolDefaultsAreBenchdnnsNotTheGoldenFormats) {
    // benchdnn's pooling stride defaults to 1, not to the kernel; mb to 2.
    const PoolProblem p = parse_pool_descriptor("ic2ih4kh2").problem;
    EXPECT_EQ(p.mb, 2);
    expect_h(p, {4, 2, 1, 0, 0, 1});
    // OH = (4 - 2) / 1 + 1 = 3.
    EXPECT_EQ(p.oh(), 3);
}

// Ceil mode: OH = ceil((ih + pt + pb - ext) / sh) + 1, less a last window that starts at
// or past ih + pt (the contract, version 1.1).
TEST(Descriptor, CeilModeReadsItsOwnOutputSize) {
    // Unpadded: ext 2; OH = ceil((5 - 2) / 2) + 1 = 2 + 1 = 3 (floor mode gives 2); the last
    // window starts at (3-1)*2 = 4 < 5, so it is kept, and hangs one row past the input.
    const PoolProblem p = parse_pool_descriptor("ic1ih5kh2sh2ceil1").problem;
    EXPECT_TRUE(p.ceil_mode);
    expect_h(p, {5, 2, 2, 0, 0, 1});
    EXPECT_EQ(p.oh(), 3);
    EXPECT_EQ(to_descriptor(p), "ic1ih5kh2sh2ceil1");
    expect_round_trip(p);
    // ceil0 is floor mode, the default, and is left out when written.
    const PoolProblem floor = parse_pool_descriptor("ic1ih5kh2sh2ceil0").problem;
    EXPECT_FALSE(floor.ceil_mode);
    EXPECT_EQ(floor.oh(), 2);
    EXPECT_EQ(to_descriptor(floor), "ic1ih5kh2sh2");
}

TEST(Descriptor, CeilModeDerivesTheSmallestBottomPadForItsOutputSize) {
    // ih6 kh3 sh2 oh4 ceil1, no ph: pt = ((4-1)*2 - 6 + 3) / 2 = 3 / 2 = 1.
    // 4 outputs in ceil mode need a span (ih + pt + pb - ext) of (4-2)*2 + 1 = 5:
    // pb = 5 + 3 - 6 - 1 = 1. Check: ceil((6 + 1 + 1 - 3) / 2) + 1 = 3 + 1 = 4, and the last
    // window starts at 3*2 = 6 < 6 + 1, so it is kept. Floor mode would need pb = 2.
    const PoolProblem p = parse_pool_descriptor("ic1ih6oh4kh3sh2ceil1").problem;
    expect_h(p, {6, 3, 2, 1, 1, 1});
    EXPECT_EQ(p.oh(), 4);
    EXPECT_EQ(parse_pool_descriptor("ic1ih6oh4kh3sh2").problem.pb, 2);
    // pb == pt, so oh is not written.
    EXPECT_EQ(to_descriptor(p), "ic1ih6kh3sh2ph1ceil1");
    expect_round_trip(p, "c");
}

TEST(Descriptor, DilationIsZeroBasedInTheDescriptor) {
    const ConvProblem p = parse_conv_descriptor("ic2ih7oc3kh3dh1").problem;
    // dh1 is one gap between taps: our dh == 2. ext = 2*(3-1)+1 = 5; OH = (7 - 5) / 1 + 1 = 3.
    expect_h(p, {7, 3, 1, 0, 0, 2});
    expect_w(p, {7, 3, 1, 0, 0, 2});
    EXPECT_EQ(p.oh(), 3);
    EXPECT_EQ(to_descriptor(p), "ic2ih7oc3kh3dh1");
    expect_round_trip(p);
}

TEST(Descriptor, DilatedWithOutputSizeDerivesBothPads) {
    const ConvProblem p = parse_conv_descriptor("ic1ih10oc1oh4kh3sh2dh2").problem;
    // dh2 -> 3; ext = 3*(3-1)+1 = 7; pt = ((4-1)*2 - 10 + 7) / 2 = 3 / 2 = 1;
    // pb = 3*2 + 7 - 10 - 1 = 2; OH = floor((10 + 1 + 2 - 7) / 2) + 1 = 3 + 1 = 4.
    expect_h(p, {10, 3, 2, 1, 2, 3});
    EXPECT_EQ(p.oh(), 4);
    EXPECT_EQ(to_descriptor(p), "ic1ih10oc1oh4kh3sh2dh2");
    expect_round_trip(p);
}

TEST(Descriptor, AsymmetricPadIsWrittenThroughTheOutputSize) {
    // TensorFlow's SAME for ih4 kh2: the extra pad goes to the bottom.
    // pt = ((4-1)*1 - 4 + 2) / 2 = 1 / 2 = 0; pb = 3 + 2 - 4 - 0 = 1; OH = (4 + 1 - 2) + 1 = 4.
    const ConvProblem same = parse_conv_descriptor("ic1ih4oc1oh4kh2").problem;
    expect_h(same, {4, 2, 1, 0, 1, 1});
    expect_w(same, {4, 2, 1, 0, 1, 1});
    EXPECT_EQ(to_descriptor(same), "ic1ih4oc1oh4kh2");

    // The bottom pad smaller than the top: pt 1, pb = (3-1)*2 + 3 - 6 - 1 = 0;
    // OH = floor((6 + 1 + 0 - 3) / 2) + 1 = 3. pb = pt = 1 would give 3 outputs too, yet
    // oh3 is read as pb 0, benchdnn's padding_r.
    const ConvProblem low = parse_conv_descriptor("ic1ih6oc1oh3kh3sh2ph1").problem;
    expect_h(low, {6, 3, 2, 1, 0, 1});
    EXPECT_EQ(low.oh(), 3);
    // The centring pad of oh3 is (2*2 - 6 + 3) / 2 = 0 != 1, so ph1 is written.
    EXPECT_EQ(to_descriptor(low), "ic1ih6oc1oh3kh3sh2ph1");
    ConvProblem symmetric = low;
    symmetric.pb = symmetric.pr = 1;
    EXPECT_EQ(to_descriptor(symmetric), "ic1ih6oc1kh3sh2ph1");
    expect_round_trip(low);
    expect_round_trip(symmetric);
}

TEST(Descriptor, OutputThatRoundsDownNeedsNoNegativePad) {
    // ResNet's 1x1 stride-2 downsampling: pt = (27*2 - 56 + 1) / 2 = -1 / 2 = 0 (toward
    // zero); benchdnn's padding_r = 27*2 + 1 - 56 - 0 = -1, but pb 0 gives
    // floor((56 - 1) / 2) + 1 = 28 outputs too, so pb = 0.
    const ConvProblem p = parse_conv_descriptor("ic64ih56oc128oh28kh1sh2").problem;
    expect_h(p, {56, 1, 2, 0, 0, 1});
    EXPECT_EQ(p.oh(), 28);
    EXPECT_EQ(to_descriptor(p), "ic64ih56oc128kh1sh2");
}

TEST(Descriptor, WAxisIsCopiedOnlyWhenNoWTokenIsGiven) {
    // iw7 is given, so w takes benchdnn's defaults (sw 1), not h's (sh 2).
    const ConvProblem p = parse_conv_descriptor("ic1ih5iw7oc1kh3kw3sh2").problem;
    expect_h(p, {5, 3, 2, 0, 0, 1});
    expect_w(p, {7, 3, 1, 0, 0, 1});
    // OH = floor((5 - 3) / 2) + 1 = 2; OW = (7 - 3) / 1 + 1 = 5.
    EXPECT_EQ(p.oh(), 2);
    EXPECT_EQ(p.ow(), 5);
    EXPECT_EQ(to_descriptor(p), "ic1ih5iw7oc1kh3kw3sh2");

    // sw1 alone is at its default: benchdnn copies h over it, and agrees with it here.
    const ConvProblem q = parse_conv_descriptor("ic1ih5oc1kh3sw1").problem;
    expect_w(q, {5, 3, 1, 0, 0, 1});
}

TEST(Descriptor, DefaultsAndSeparators) {
    const auto [p, name] = parse_conv_descriptor("_ic3__ih5_oc4_kh3_nconv_a");
    EXPECT_EQ(p.mb, 2);
    expect_h(p, {5, 3, 1, 0, 0, 1});
    expect_w(p, {5, 3, 1, 0, 0, 1});
    EXPECT_EQ(name, "conv_a");  // everything after n, underscores included
    EXPECT_EQ(parse_conv_descriptor("ic3ih5oc4kh3n\"a b\"").name, "a b");
    EXPECT_EQ(parse_conv_descriptor("ic3ih5oc4kh3n").name, "");
    EXPECT_EQ(parse_conv_descriptor("kh3oc4ih5ic3").problem, p);  // any order
}

// ---- Writing ----

TEST(Descriptor, WritesTheWAxisWhenItDiffers) {
    ConvProblem p;
    p.mb = 1, p.ic = 2, p.oc = 4;
    p.ih = 5, p.iw = 6, p.kh = 3, p.kw = 1, p.pt = p.pb = 1;
    // iw and kw are both needed once w is written; pw0 and sw1 are the w defaults.
    EXPECT_EQ(to_descriptor(p), "mb1ic2ih5iw6oc4kh3kw1ph1");
    expect_round_trip(p);
}

TEST(Descriptor, WritesAnUnreachableBottomPadAsTheEquivalentProblem) {
    ConvProblem p;
    p.ic = p.oc = 1, p.ih = p.iw = 5, p.kh = p.kw = 3, p.sh = p.sw = 2;
    p.pb = p.pr = 3;
    // OH = floor((5 + 3 - 3) / 2) + 1 = 3; the last window ends at row 2*2 + 2 = 6, one row
    // of bottom pad, so pb 3 and pb 2 = (3-1)*2 + 3 - 5 - 0 give the same windows.
    ASSERT_EQ(p.oh(), 3);
    // Centring pad of oh3: (2*2 - 5 + 3) / 2 = 1 != 0, so ph0 is written.
    EXPECT_EQ(to_descriptor(p), "ic1ih5oc1oh3kh3sh2ph0");
    ConvProblem equivalent = p;
    equivalent.pb = equivalent.pr = 2;
    EXPECT_EQ(parse_conv_descriptor(to_descriptor(p)).problem, equivalent);
}

TEST(Descriptor, QuotesTheNameSoAnyNameComesBack) {
    ConvProblem p;
    EXPECT_EQ(to_descriptor(p, "x"), "ic1ih1oc1kh1n\"x\"");
    expect_round_trip(p, "x\"y");
    expect_round_trip(p, "\"");
    expect_round_trip(p, "with space_and_underscore");
}

// Every valid problem, drawn over small axes, prints and parses back: exactly when pb is pt
// or the smallest bottom pad for its output size (and pr likewise), otherwise as the
// problem with that smallest pad. The smallest pad is found by search, not by formula.
std::vector<AxisValues> axis_cases() {
    std::vector<AxisValues> cases;
    for (int64_t in = 1; in <= 5; ++in)
        for (int64_t k = 1; k <= 3; ++k)
            for (int64_t s = 1; s <= 3; ++s)
                for (int64_t dil = 1; dil <= 2; ++dil)
                    for (int64_t lo = 0; lo <= 2; ++lo)
                        for (int64_t hi = 0; hi <= 3; ++hi)
                            cases.push_back({in, k, s, lo, hi, dil});
    return cases;
}

template <class P>
P make_problem(const AxisValues& h, const AxisValues& w, int64_t n) {
    P p;
    p.mb = 1 + n % 3, p.ic = 1 + n % 2;
    p.ih = h.in, p.kh = h.k, p.sh = h.s, p.pt = h.lo, p.pb = h.hi, p.dh = h.dil;
    p.iw = w.in, p.kw = w.k, p.sw = w.s, p.pl = w.lo, p.pr = w.hi, p.dw = w.dil;
    if constexpr (std::is_same_v<P, ConvProblem>) p.oc = 1 + n % 4;
    return p;
}

template <class P>
bool valid(const P& p) {
    try {
        p.validate();
        return true;
    } catch (const ProblemError&) {
        return false;
    }
}

// The smallest bottom pad keeping this output height, by trying 0, 1, 2, ...
template <class P>
int64_t smallest_pb(P p) {
    const int64_t oh = p.oh();
    p.pb = 0;
    while (p.oh() != oh) ++p.pb;
    return p.pb;
}

template <class P>
int64_t smallest_pr(P p) {
    const int64_t ow = p.ow();
    p.pr = 0;
    while (p.ow() != ow) ++p.pr;
    return p.pr;
}

template <class P>
void check_generated_round_trips(bool ceil_mode = false) {
    const std::vector<AxisValues> cases = axis_cases();
    const std::array<std::string, 3> names{"", "n1", "a\"b"};
    int exact = 0, equivalent = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        // w: h itself, and one other case, so copies and differing axes both occur.
        for (size_t j : {i, (i * 7 + 3) % cases.size()}) {
            P p = make_problem<P>(cases[i], cases[j], static_cast<int64_t>(i));
            if constexpr (std::is_same_v<P, PoolProblem>) p.ceil_mode = ceil_mode;
            if (!valid(p)) continue;
            const std::string& name = names[i % names.size()];
            const std::string text = to_descriptor(p, name);
            const Described<P> back = parse<P>(text);
            P expected = p;
            if (p.pb != p.pt) expected.pb = smallest_pb(p);
            if (p.pr != p.pl) expected.pr = smallest_pr(p);
            ASSERT_EQ(back.problem, expected) << text;
            ASSERT_EQ(back.name, name) << text;
            ++(expected == p ? exact : equivalent);
        }
    }
    // Both kinds must have occurred, often, for the check to mean anything
    // (about 1900 valid conv and 750 valid pool problems are drawn).
    EXPECT_GT(exact, 400);
    EXPECT_GT(equivalent, 200);
}

TEST(Descriptor, GeneratedConvProblemsRoundTrip) { check_generated_round_trips<ConvProblem>(); }
TEST(Descriptor, GeneratedPoolProblemsRoundTrip) { check_generated_round_trips<PoolProblem>(); }
// In ceil mode the smallest bottom pad is the smallest giving ceil mode's output size (the
// search in smallest_pb calls oh(), which is ceil mode's), found by formula in the parser.
TEST(Descriptor, GeneratedCeilModePoolProblemsRoundTrip) {
    check_generated_round_trips<PoolProblem>(true);
}

// ---- Errors: each names its token and echoes the whole descriptor ----

template <class P>
void expect_error(const std::string& text, const std::string& token,
                  const std::string& message_part = {}) {
    try {
        parse<P>(text);
        ADD_FAILURE() << "accepted " << text;
    } catch (const DescriptorError& e) {
        EXPECT_EQ(e.token(), token) << e.what();
        EXPECT_EQ(e.descriptor(), text);
        const std::string what = e.what();
        EXPECT_NE(what.find("descriptor \"" + text + "\": token \"" + token + "\": "),
                  std::string::npos)
            << what;
        EXPECT_NE(what.find(message_part), std::string::npos) << what;
    }
}

void expect_conv_error(const std::string& text, const std::string& token,
                       const std::string& message_part = {}) {
    expect_error<ConvProblem>(text, token, message_part);
}

TEST(DescriptorError, ValidationErrorNamesTheToken) {
    try {
        parse_conv_descriptor("mb2ic3ih5oc4kh3sh0");
        FAIL();
    } catch (const DescriptorError& e) {
        EXPECT_STREQ(e.what(),
                     "descriptor \"mb2ic3ih5oc4kh3sh0\": token \"sh0\": stride height must be "
                     ">= 1, got 0");
    }
}

TEST(DescriptorError, UnknownToken) { expect_conv_error("ic3ih5oc4kh3xy2", "xy2", "unknown"); }

TEST(DescriptorError, MissingNumber) {
    // "ih" has no digits before "oc4".
    expect_conv_error("ic3ihoc4kh3", "ih", "missing number");
}

TEST(DescriptorError, NumberBeyondInt64) {
    expect_conv_error("ic3ih5oc4kh3mb99999999999999999999", "mb99999999999999999999",
                      "out of range");
    // dh is 0-based; 2^63-1 + 1 does not fit.
    expect_conv_error("ic3ih5oc4kh3dh9223372036854775807", "dh9223372036854775807", "int64");
}

TEST(DescriptorError, RepeatedToken) { expect_conv_error("ic3ih5oc4kh3ic4", "ic4", "repeated"); }

TEST(DescriptorError, MissingRequiredToken) {
    expect_conv_error("ih5oc4kh3", "ic", "missing");
    expect_conv_error("ic3ih5kh3", "oc", "missing");
    expect_conv_error("ic3oc4kh3", "ih", "missing");
    expect_conv_error("ic3ih5oc4", "kh", "missing");
    expect_error<PoolProblem>("ic3ih5", "kh", "missing");  // pooling has no default kernel
    // 1-D: only w tokens.
    expect_conv_error("ic3iw5oc4kw3", "ih", "1-D");
    // Once iw is given, benchdnn needs kw too.
    expect_conv_error("ic3ih5iw6oc4kh3", "kw", "iw and kw");
}

// Groups must be >= 1 and divide both channel counts; the error names the g token.
TEST(DescriptorError, GroupsThatDoNotDivide) {
    expect_conv_error("g0ic4ih5oc4kh3", "g0", "groups must be >= 1");
    expect_conv_error("g3ic4ih5oc6kh3", "g3", "does not divide ic 4");
    expect_conv_error("g4ic4ih5oc6kh3", "g4", "does not divide oc 6");
    EXPECT_NO_THROW(parse_conv_descriptor("g1ic4ih5oc4kh3"));
}

// benchdnn's depthwise spelling reads as groups = ic, and writing gives g back (g1 is the
// default and left out).
TEST(Descriptor, Groups) {
    const ConvProblem dw = parse_conv_descriptor("g32mb2ic32ih112oc32kh3ph1").problem;
    EXPECT_EQ(dw.g, 32);
    EXPECT_EQ(dw.icg(), 1);
    EXPECT_EQ(dw.ocg(), 1);
    EXPECT_EQ(dw.w_dims(), (Dims4{32, 1, 3, 3}));
    EXPECT_EQ(to_descriptor(dw), "g32ic32ih112oc32kh3ph1");
    const ConvProblem grouped = parse_conv_descriptor("g2ic4ih5oc6kh3").problem;
    EXPECT_EQ(grouped.w_dims(), (Dims4{6, 2, 3, 3}));
    EXPECT_EQ(grouped.group_of_oc(2), 0);
    EXPECT_EQ(grouped.group_of_oc(3), 1);
    EXPECT_EQ(grouped.group_of_ic(1), 0);
    EXPECT_EQ(grouped.group_of_ic(2), 1);
    EXPECT_EQ(parse_conv_descriptor(to_descriptor(grouped)).problem, grouped);
    EXPECT_EQ(to_descriptor(parse_conv_descriptor("g1ic4ih5oc4kh3").problem), "ic4ih5oc4kh3");
}

TEST(DescriptorError, ThreeDTokens) {
    for (const char* t : {"id5", "od5", "kd3", "sd1", "pd0", "dd0"})
        expect_conv_error(std::string("ic3ih5oc4kh3") + t, t, "3-D");
}

TEST(DescriptorError, ConvTokensInAPoolDescriptor) {
    expect_error<PoolProblem>("ic3ih5oc4kh3", "oc4", "pooling");
    expect_error<PoolProblem>("g1ic3ih5kh3", "g1", "pooling");
}

TEST(DescriptorError, CeilModeIsPoolingsAndZeroOrOne) {
    expect_conv_error("ic1ih5oc1kh1ceil1", "ceil1", "ceil mode is pooling's");
    expect_conv_error("ic1ih5oc1kh1ceil0", "ceil0", "ceil mode is pooling's");
    expect_error<PoolProblem>("ic1ih5kh2ceil2", "ceil2", "ceil0 (floor, the default) or ceil1");
    expect_error<PoolProblem>("ic1ih5kh2ceil1ceil1", "ceil1", "repeated");
}

TEST(DescriptorError, AnOutputSizeCeilModeCannotGiveNamesTheOutputToken) {
    // ih5 kh2 sh2 oh4 ceil1: pt = ((4-1)*2 - 5 + 2) / 2 = 1; pb = (4-2)*2 + 1 + 2 - 5 - 1 = 1;
    // ceil((5 + 1 + 1 - 2) / 2) + 1 = 4, but the 4th window starts at 6 = ih + pt, all
    // padding, so ceil mode drops it: 3. A larger pb only adds more such windows.
    expect_error<PoolProblem>("ic1ih5oh4kh2sh2ceil1", "oh4",
                              "no pad gives this output size in ceil mode (it gives 3");
    expect_error<PoolProblem>("ic1ih5iw5ow4kh2kw2sw2ceil1", "ow4", "in ceil mode (it gives 3");
}

TEST(DescriptorError, UnterminatedQuotedName) {
    expect_conv_error("ic3ih5oc4kh3n\"abc", "n\"abc", "closing quote");
}

TEST(DescriptorError, NegativeDerivedPadNamesTheOutputToken) {
    // pb = (2-1)*1 + 1 - 5 - 0 = -3: oh2 is fewer outputs than ih5 gives unpadded (5).
    expect_conv_error("ic1ih5oc1oh2kh1ph0", "oh2", "pad bottom must be >= 0, got -3");
    // Without ph, pt = (1*1 - 5 + 1) / 2 = -3 / 2 = -1, reported first.
    expect_conv_error("ic1ih5oc1oh2kh1", "oh2", "pad top must be >= 0, got -1");
}

TEST(DescriptorError, WindowLargerThanInput) {
    // ext 3 > ih 2; kw (copied from kh) would fail too, but kh is checked first.
    expect_conv_error("ic1ih2oc1kh3", "kh3", "window extent 3");
}

TEST(DescriptorError, PoolWindowInThePadding) {
    // ih1 kh1 ph1: the first window is row -1 alone, all padding.
    expect_error<PoolProblem>("ic1ih1kh1ph1", "ph1", "covers no element");
}

TEST(DescriptorError, CountOverflowNamesTheLargestFactor) {
    // x = mb * ic * ih * iw = 4e9 * 9e9 = 3.6e19 > 2^63 ~ 9.2e18.
    expect_conv_error("mb4000000000ic9000000000ih1oc1kh1", "ic9000000000", "overflows");
}

TEST(DescriptorError, WTokenBenchdnnWouldOverwrite) {
    // sw1 is sw's default, so benchdnn copies sh2 over it; reading sw 1 would disagree.
    expect_conv_error("ic3ih5oc4kh3sh2sw1", "sw1", "copies");
}

// Issue 13: the token the user must change is the one named.
// Each field a problem check rejects is blamed on the token it came from, on the w axis as
// on the h axis (kSources in descriptor.cpp: one row per field).
TEST(DescriptorError, EveryFieldIsBlamedOnItsOwnToken) {
    expect_conv_error("mb0ic1ih5oc1kh1", "mb0");
    expect_conv_error("ic0ih5oc1kh1", "ic0");
    expect_conv_error("ic1ih5oc0kh1", "oc0");
    expect_conv_error("ic1ih0oc1kh1", "ih0");
    expect_conv_error("ic1ih5iw0oc1kh1kw1", "iw0");
    expect_conv_error("ic1ih2oc1kh3", "kh3", "window extent 3");
    expect_conv_error("ic1ih5iw2oc1kh1kw3", "kw3", "window extent 3");
    expect_conv_error("ic1ih5oc1kh1sh0", "sh0");
    expect_conv_error("ic1ih5iw5oc1kh1kw1sw0", "sw0");
    expect_error<PoolProblem>("ic1ih5iw5kh1kw1sw0", "sw0");
    expect_error<PoolProblem>("ic1ih5iw2kh1kw3", "kw3", "window extent 3");
}

TEST(DescriptorError, AHugePadIsBlamedNotTheInput) {
    // The pad makes the output (and so col and y) overflow; ih5 is innocent.
    expect_conv_error("mb2ic3ih5oc4kh3ph1099511627776", "ph1099511627776", "overflows");
    expect_error<PoolProblem>("mb2ic3ih5iw5kh3kw3pw1099511627776", "pw1099511627776");
}

// col counts mb*oh*ow rows of ic*kh*kw: a tall kernel, padded so that it fits one row of
// input, makes it too large, and kh is its largest factor (ic and ph are half of it).
TEST(DescriptorError, AKernelThatMakesColTooLargeIsBlamed) {
    expect_error<PoolProblem>("mb2ic1048576ih1iw1kh2097152kw1ph1048576", "kh2097152");
}

TEST(DescriptorError, AZeroOutputSizeIsNotANegativePad) {
    expect_conv_error("mb2ic3ih5oc4kh3oh0", "oh0", "an output size must be >= 1, got 0");
    expect_conv_error("mb2ic3ih5iw5oc4kh3kw3ow0", "ow0", "an output size must be >= 1, got 0");
    expect_error<PoolProblem>("mb2ic3ih5kh3oh0", "oh0", "an output size must be >= 1");
}

TEST(DescriptorError, ANonAsciiCharacterIsShownWhole) {
    expect_conv_error("mb2ic3ih5oc4kh3\xC3\xA9", "\xC3\xA9", "unknown token");        // é: 2 bytes
    expect_conv_error("mb2ic3ih5oc4\xE2\x80\x93kh3", "\xE2\x80\x93", "unknown token");  // en dash: 3
    expect_conv_error("ic3ih5oc4kh3\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80", "unknown");    // emoji: 4
    expect_conv_error("ic3ih5oc4kh3\xC3", "\xC3", "unknown");  // a stray lead byte stays one byte
}

}  // namespace
}  // namespace convconf
