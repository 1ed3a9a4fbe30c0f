#include "impl/core/descriptor.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>

#include "impl/core/types.hpp"

namespace convconf {

DescriptorError::DescriptorError(std::string descriptor, std::string token,
                                 const std::string& message)
    : std::invalid_argument("descriptor \"" + descriptor + "\": token \"" + token +
                            "\": " + message),
      descriptor_(std::move(descriptor)),
      token_(std::move(token)) {}

namespace {

// The tokens in benchdnn's canonical order (conv_aux.cpp, operator<<): reading looks names
// up in this table and writing walks it.
namespace tok {
enum Id : size_t { g, mb, ic, ih, iw, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, ceil, count };
}
// ceil is convconf's, not benchdnn's (which has no ceil mode): ceil1 rounds the output size up.
constexpr std::array<std::string_view, tok::count> kTokNames{
    "g", "mb", "ic", "ih", "iw", "oc", "oh", "ow", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw", "ceil"};
// benchdnn's 3-D tokens, recognised only to be rejected: convconf's problems are 2-D.
constexpr std::array<std::string_view, 6> k3dTokNames{"id", "od", "kd", "sd", "pd", "dd"};

bool conv_only(tok::Id id) { return id == tok::g || id == tok::oc; }
bool pool_only(tok::Id id) { return id == tok::ceil; }

constexpr int64_t kDefaultMb = 2;  // benchdnn: d.mb = 2

// The tokens of one spatial axis.
struct AxisToks {
    tok::Id in, out, k, s, p, d;
};
constexpr AxisToks kHToks{tok::ih, tok::oh, tok::kh, tok::sh, tok::ph, tok::dh};
constexpr AxisToks kWToks{tok::iw, tok::ow, tok::kw, tok::sw, tok::pw, tok::dw};

// One spatial axis of a problem; dil is 1-based, as in the problem model.
struct Axis {
    int64_t in = 1, k = 1, s = 1, lo = 0, hi = 0, dil = 1;
    bool operator==(const Axis&) const = default;
};

Axis h_axis(const WindowProblem& p) { return {p.ih, p.kh, p.sh, p.pt, p.pb, p.dh}; }
Axis w_axis(const WindowProblem& p) { return {p.iw, p.kw, p.sw, p.pl, p.pr, p.dw}; }

void set_h(WindowProblem& p, const Axis& a) {
    p.ih = a.in, p.kh = a.k, p.sh = a.s, p.pt = a.lo, p.pb = a.hi, p.dh = a.dil;
}
void set_w(WindowProblem& p, const Axis& a) {
    p.iw = a.in, p.kw = a.k, p.sw = a.s, p.pl = a.lo, p.pr = a.hi, p.dw = a.dil;
}

// Pads are derived from numbers anywhere in int64's range (validate() rejects the large ones
// afterwards); 128 bits hold every intermediate.
__extension__ typedef __int128 Wide;

std::optional<int64_t> narrow(Wide v) {
    if (v < std::numeric_limits<int64_t>::min() || v > std::numeric_limits<int64_t>::max())
        return std::nullopt;
    return static_cast<int64_t>(v);
}

// WindowProblem::kh_extent() in 128 bits: dh*(kh-1)+1.
Wide window_extent(const Axis& a) { return Wide{a.dil} * (Wide{a.k} - 1) + 1; }

// benchdnn's compute_pad: the top pad that centres `out` outputs, for an oh given without
// ph. Division rounds toward zero, as benchdnn's does.
std::optional<int64_t> centring_lo(int64_t out, const Axis& a) {
    return narrow(((Wide{out} - 1) * a.s - a.in + window_extent(a)) / 2);
}

// The smallest bottom pad giving `out` outputs: benchdnn's padding_r (opp_pad), or 0 where
// that is negative yet no bottom pad still gives `out` (the output rounds down). Negative
// when even no bottom pad gives more than `out` outputs; validate() reports it.
// In ceil mode `out` outputs need a span (in + lo + hi - extent) of at least (out-2)*s + 1,
// or exactly 0 for one output; where that bottom pad is negative, 0 (parse() checks that
// the problem then has `out` outputs: ceil mode's dropped window can leave fewer).
std::optional<int64_t> smallest_hi(int64_t out, const Axis& a, bool ceil_mode) {
    if (ceil_mode) {
        const Wide span = out == 1 ? Wide{0} : (Wide{out} - 2) * a.s + 1;
        const Wide hi = span + window_extent(a) - a.in - a.lo;
        return narrow(hi < 0 ? 0 : hi);
    }
    const Wide hi = (Wide{out} - 1) * a.s + window_extent(a) - a.in - a.lo;
    return narrow(hi < 0 && hi > -Wide{a.s} ? 0 : hi);
}

// ---- Reading ----

struct Slot {
    std::optional<int64_t> value;
    std::string text;  // the token as written, for errors
};
using Slots = std::array<Slot, tok::count>;

struct Scanned {
    Slots slots;
    std::string name;
};

struct NameMatch {
    std::string_view name;      // empty: no token starts here
    std::optional<tok::Id> id;  // empty for a 3-D token
};

NameMatch match_name(std::string_view rest) {
    for (size_t i = 0; i < tok::count; ++i)
        if (rest.starts_with(kTokNames[i])) return {kTokNames[i], static_cast<tok::Id>(i)};
    for (std::string_view name : k3dTokNames)
        if (rest.starts_with(name)) return {name, std::nullopt};
    return {};
}

// The length of the UTF-8 character `rest` starts with: its lead byte's count when the
// continuation bytes follow, else 1 (a stray byte is shown alone).
size_t utf8_length(std::string_view rest) {
    const auto lead = static_cast<unsigned char>(rest[0]);
    const size_t n = lead >= 0xF0 && lead < 0xF8 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (n > rest.size()) return 1;
    for (size_t i = 1; i < n; ++i)
        if ((static_cast<unsigned char>(rest[i]) & 0xC0) != 0x80) return 1;
    return n;
}

// An unknown token reads as far as a token would: letters, then digits; a character
// outside ASCII is shown whole, never cut into a lone byte.
std::string unknown_token(std::string_view rest) {
    if (static_cast<unsigned char>(rest[0]) >= 0x80) return std::string(rest.substr(0, utf8_length(rest)));
    size_t end = 0;
    auto skip = [&](auto is) {
        while (end < rest.size() && is(static_cast<unsigned char>(rest[end]))) ++end;
    };
    skip([](unsigned char c) { return std::isalpha(c) != 0; });
    skip([](unsigned char c) { return std::isdigit(c) != 0; });
    return std::string(rest.substr(0, end == 0 ? 1 : end));
}

std::string token_list(Op op) {
    std::string list;
    for (size_t i = 0; i < tok::count; ++i)
        if (op == Op::conv2d || !conv_only(static_cast<tok::Id>(i)))
            list += std::string(kTokNames[i]) + " ";
    return list + "and n for the name";
}

// Reads one `name<digits>` token at the start of `rest` into `slots`; returns its length.
size_t read_token(std::string_view text, std::string_view rest, Op op, Slots& slots) {
    auto fail = [&](std::string token, const std::string& message) {
        return DescriptorError(std::string(text), std::move(token), message);
    };
    const NameMatch match = match_name(rest);
    if (match.name.empty())
        throw fail(unknown_token(rest), "unknown token (tokens: " + token_list(op) + ")");
    const std::string token(
        rest.substr(0, rest.find_first_not_of("0123456789", match.name.size())));
    if (!match.id)
        throw fail(token,
                   "3-D descriptors are not supported (id od kd sd pd dd); convconf's "
                   "problems are 2-D");
    if (op == Op::maxpool2d && conv_only(*match.id))
        throw fail(token, "not a pooling token (pooling has no groups and no oc)");
    if (op == Op::conv2d && pool_only(*match.id))
        throw fail(token, "not a convolution token (ceil mode is pooling's)");
    if (token.size() == match.name.size())
        throw fail(token, "missing number after \"" + std::string(match.name) + "\"");
    int64_t value = 0;
    if (std::from_chars(token.data() + match.name.size(), token.data() + token.size(), value).ec !=
        std::errc{})
        throw fail(token, "number out of range (beyond int64)");
    Slot& slot = slots[*match.id];
    if (slot.value) throw fail(token, "repeated (first given as \"" + slot.text + "\")");
    if (*match.id == tok::ceil && value != 0 && value != 1)
        throw fail(token, "ceil mode is ceil0 (floor, the default) or ceil1");
    slot = {value, token};
    return token.size();
}

// benchdnn takes everything after `n` as the name. Its docs quote it (n"resnet_50:conv1")
// for the shell, which strips the quotes; here they are stripped too.
std::string read_name(std::string_view text, std::string_view after_n) {
    if (!after_n.starts_with('"')) return std::string(after_n);
    if (after_n.size() < 2 || !after_n.ends_with('"'))
        throw DescriptorError(std::string(text), "n" + std::string(after_n),
                              "the quoted name has no closing quote");
    return std::string(after_n.substr(1, after_n.size() - 2));
}

Scanned scan(std::string_view text, Op op) {
    Scanned scanned;
    size_t pos = 0;
    while (pos < text.size()) {
        const std::string_view rest = text.substr(pos);
        if (rest.front() == '_') {  // benchdnn: "symbol `_` is ignored"
            ++pos;
        } else if (rest.front() == 'n') {
            scanned.name = read_name(text, rest.substr(1));
            break;
        } else {
            pos += read_token(text, rest, op, scanned.slots);
        }
    }
    return scanned;
}

int64_t required(const Scanned& s, tok::Id id, std::string_view text, const std::string& why) {
    if (!s.slots[id].value)
        throw DescriptorError(std::string(text), std::string(kTokNames[id]), "missing; " + why);
    return *s.slots[id].value;
}

int64_t derived_from(std::optional<int64_t> value, const Slot& slot, std::string_view text) {
    if (!value)
        throw DescriptorError(std::string(text), slot.text,
                              "the value derived from it is beyond int64");
    return *value;
}

constexpr const char* kHMissing =
    "a descriptor needs ih and kh (1-D and 3-D descriptors are not supported)";
constexpr const char* kWMissing =
    "once a w token is given benchdnn needs both iw and kw (it copies the w values from h only "
    "when no w token is given)";

// One axis from its tokens, by benchdnn's rules (str2desc and init_pad_r); in ceil mode an
// output size is ceil mode's.
Axis read_axis(const Scanned& s, const AxisToks& t, std::string_view text, const char* missing, bool ceil_mode) {
    Axis a;
    a.in = required(s, t.in, text, missing);
    a.k = required(s, t.k, text, missing);
    a.s = s.slots[t.s].value.value_or(1);
    if (const Slot& d = s.slots[t.d]; d.value)
        a.dil = derived_from(narrow(Wide{*d.value} + 1), d, text);
    const Slot& out = s.slots[t.out];
    const Slot& pad = s.slots[t.p];
    if (out.value && *out.value < 1)
        throw DescriptorError(std::string(text), out.text,
                              "an output size must be >= 1, got " + std::to_string(*out.value));
    if (!out.value) {
        a.lo = a.hi = pad.value.value_or(0);
        return a;
    }
    a.lo = pad.value ? *pad.value : derived_from(centring_lo(*out.value, a), out, text);
    a.hi = derived_from(smallest_hi(*out.value, a, ceil_mode), out, text);
    return a;
}

// benchdnn's test for a given w axis (the negation of no_w in str2desc) goes by value:
// sw1, pw0 and dw0 count as absent.
bool w_given(const Slots& slots) {
    auto value = [&](tok::Id id, int64_t absent) { return slots[id].value.value_or(absent); };
    return value(tok::iw, 0) != 0 || value(tok::kw, 0) != 0 || value(tok::ow, 0) != 0 ||
           value(tok::dw, 0) != 0 || value(tok::sw, 1) != 1 || value(tok::pw, 0) >= 1;
}

// Where benchdnn copies w from h it overwrites the w tokens written at their defaults; reject
// one it would overwrite with another value rather than read it differently from benchdnn.
void check_copied_w(const Slots& slots, const WindowProblem& p, std::string_view text) {
    using Copy = std::pair<tok::Id, int64_t>;
    const std::array<Copy, 6> copied{Copy{tok::iw, p.iw}, Copy{tok::ow, p.ow()},
                                     Copy{tok::kw, p.kw}, Copy{tok::sw, p.sw},
                                     Copy{tok::pw, p.pl}, Copy{tok::dw, p.dw - 1}};
    for (const auto& [id, value] : copied) {
        const Slot& slot = slots[id];
        if (!slot.value || *slot.value == value) continue;
        const std::string copy = std::string(kTokNames[id]) + std::to_string(value);
        throw DescriptorError(std::string(text), slot.text,
                              "benchdnn ignores it: with no w token off its default it copies "
                              "every w value from h, giving " +
                                  copy + "; give iw and kw too to set the w axis");
    }
}

// Problem fields and the tokens they come from, most direct first. A w field copies its h
// field when no w token is given. Counts (x, col, w, y) blame their largest factor.
struct Source {
    std::string_view field;
    std::string_view copies;
    std::array<tok::Id, 10> tokens;
    size_t count;
    bool largest = false;
};
constexpr std::array<Source, 21> kSources{{
    {"mb", "", {tok::mb}, 1},
    {"g", "", {tok::g}, 1},
    {"ic", "", {tok::ic}, 1},
    {"oc", "", {tok::oc}, 1},
    {"ih", "", {tok::ih}, 1},
    {"kh", "", {tok::kh}, 1},
    {"sh", "", {tok::sh}, 1},
    {"dh", "", {tok::dh}, 1},
    {"pt", "", {tok::ph, tok::oh}, 2},
    {"pb", "", {tok::oh, tok::ph}, 2},
    {"iw", "ih", {tok::iw}, 1},
    {"kw", "kh", {tok::kw}, 1},
    {"sw", "sh", {tok::sw}, 1},
    {"dw", "dh", {tok::dw}, 1},
    {"pl", "pt", {tok::pw, tok::ow}, 2},
    {"pr", "pb", {tok::ow, tok::pw}, 2},
    {"ceil_mode", "", {tok::ceil}, 1},
    {"x", "", {tok::mb, tok::ic, tok::ih, tok::iw}, 4, true},
    // col and y have the output's extents, which a pad or an oh/ow makes as large as it
    // is: ph1099511627776 is the token to blame, not ih5.
    {"col", "", {tok::mb, tok::ic, tok::ih, tok::iw, tok::kh, tok::kw, tok::oh, tok::ow, tok::ph, tok::pw}, 10, true},
    {"w", "", {tok::oc, tok::ic, tok::kh, tok::kw}, 4, true},
    {"y", "", {tok::mb, tok::oc, tok::oh, tok::ow, tok::ih, tok::iw, tok::ph, tok::pw}, 8, true},
}};

std::optional<tok::Id> blame(const Slots& slots, std::string_view field, bool w_copied) {
    for (const Source& source : kSources) {
        if (source.field != field) continue;
        if (w_copied && !source.copies.empty()) return blame(slots, source.copies, false);
        std::optional<tok::Id> best;
        for (size_t i = 0; i < source.count; ++i) {
            const tok::Id id = source.tokens[i];
            if (!slots[id].value) continue;
            if (!source.largest) return id;
            if (!best || *slots[id].value > *slots[*best].value) best = id;
        }
        return best;
    }
    return std::nullopt;
}

DescriptorError validation_error(const ProblemError& e, const Slots& slots, bool w_copied,
                                 std::string_view text) {
    const std::optional<tok::Id> id = blame(slots, e.field(), w_copied);
    if (!id) return DescriptorError(std::string(text), e.field(), e.message());
    const bool from_output = *id == tok::oh || *id == tok::ow;
    return DescriptorError(
        std::string(text), slots[*id].text,
        e.message() + (from_output ? " (derived from the output size)" : ""));
}

template <class P>
Described<P> parse(std::string_view text) {
    constexpr bool is_conv = std::is_same_v<P, ConvProblem>;
    const Scanned s = scan(text, is_conv ? Op::conv2d : Op::maxpool2d);
    P p;
    p.mb = s.slots[tok::mb].value.value_or(kDefaultMb);
    p.ic = required(s, tok::ic, text, "a descriptor needs the input channels");
    if constexpr (is_conv) {
        p.oc = required(s, tok::oc, text, "a convolution needs the output channels");
        p.g = s.slots[tok::g].value.value_or(1);
    }
    p.ceil_mode = s.slots[tok::ceil].value.value_or(0) == 1;
    const Axis h = read_axis(s, kHToks, text, kHMissing, p.ceil_mode);
    const bool w_copied = !w_given(s.slots);
    set_h(p, h);
    set_w(p, w_copied ? h : read_axis(s, kWToks, text, kWMissing, p.ceil_mode));
    try {
        p.validate();
    } catch (const ProblemError& e) {
        throw validation_error(e, s.slots, w_copied, text);
    }
    // Ceil mode drops a last window that would start in the padding: no bottom pad may give
    // the output size asked for.
    for (const auto& [id, got] : {std::pair{tok::oh, p.oh()}, {tok::ow, p.ow()}})
        if (const Slot& out = s.slots[id]; p.ceil_mode && out.value && *out.value != got)
            throw DescriptorError(std::string(text), out.text,
                                  "no pad gives this output size in ceil mode (it gives " + std::to_string(got) +
                                      ": ceil mode drops a last window that would start in the padding)");
    if (w_copied) check_copied_w(s.slots, p, text);
    return {p, s.name};
}

// ---- Writing ----

using Values = std::array<std::optional<int64_t>, tok::count>;

// The tokens reading needs to give this axis back: in and k always, the rest unless reading
// derives them (stride 1, dense, no pad, pb = pt, the centring pt of the output written).
void put_axis(Values& v, const AxisToks& t, const Axis& a, int64_t out) {
    v[t.in] = a.in;
    v[t.k] = a.k;
    if (a.s != 1) v[t.s] = a.s;
    if (a.dil != 1) v[t.d] = a.dil - 1;
    if (a.hi != a.lo) {
        v[t.out] = out;
        if (centring_lo(out, a) != a.lo) v[t.p] = a.lo;
    } else if (a.lo != 0) {
        v[t.p] = a.lo;
    }
}

Values window_values(const WindowProblem& p) {
    Values v;
    if (p.ceil_mode) v[tok::ceil] = 1;
    if (p.mb != kDefaultMb) v[tok::mb] = p.mb;
    v[tok::ic] = p.ic;
    const Axis h = h_axis(p), w = w_axis(p);
    put_axis(v, kHToks, h, p.oh());
    if (w != h) put_axis(v, kWToks, w, p.ow());  // else reading copies h, as benchdnn does
    return v;
}

std::string write(const Values& v, std::string_view name) {
    std::string text;
    for (size_t i = 0; i < tok::count; ++i)
        if (v[i]) text += std::string(kTokNames[i]) + std::to_string(*v[i]);
    if (!name.empty()) text += "n\"" + std::string(name) + "\"";
    return text;
}

}  // namespace

Described<ConvProblem> parse_conv_descriptor(std::string_view text) {
    return parse<ConvProblem>(text);
}

Described<PoolProblem> parse_pool_descriptor(std::string_view text) {
    return parse<PoolProblem>(text);
}

std::string to_descriptor(const ConvProblem& p, std::string_view name) {
    Values v = window_values(p);
    if (p.g != 1) v[tok::g] = p.g;
    v[tok::oc] = p.oc;
    return write(v, name);
}

std::string to_descriptor(const PoolProblem& p, std::string_view name) {
    return write(window_values(p), name);
}

}  // namespace convconf
