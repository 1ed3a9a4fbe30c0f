// What each fuzz target checks on one input: shared by the libFuzzer entry points
// (tests/fuzz/*_fuzz.cpp, built with clang by the fuzz preset) and by the ordinary test
// suite (tests/fuzz_regression_test.cpp), which replays every saved input through the same
// function, so a crash found once stays found.
//
// For every input a check returns normally when the parser kept its documented promise:
// the input was rejected with the exception its header names, or accepted with a result
// that has the properties below. A broken promise throws Finding. Any other exception is a
// finding too: the checks catch only what the parsers document, so it escapes (libFuzzer
// reports the abort; gtest reports the exception).
#pragma once

#include <stdexcept>
#include <string_view>

namespace convconf::fuzz {

// Deliberately not a std::invalid_argument or a GoldenError: no check may swallow it.
class Finding : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// golden::load_string: a GoldenError, or a file whose every case (but the expect_error
// ones) has a problem that validates at each of its dtypes and tensors whose value counts
// match their shapes.
void check_golden_loader(std::string_view bytes);

// `convconf golden check`'s path (golden::check_text: parse_json, golden/schema.json, the
// loader): a verdict, never a crash; a file it accepts loads as load_string loads it, and
// every error names the file.
void check_golden_check(std::string_view bytes);

// `convconf golden add`'s reading of an existing file: when it loads, append_case() adds a
// case to its text and the result loads with the old cases plus that one, and passes the
// schema. Accepted files of both targets hold no key twice in an object and nest no deeper
// than golden::JsonLimits, by a count independent of parse_json's own.
void check_golden_add(std::string_view bytes);

// parse_numpy: a std::invalid_argument, or an array whose shape has extents >= 1 whose
// product is the number of values, and which reads back the same when printed as numpy
// prints it; whose every number is spelt as numpy prints one (a regular expression of
// numpy's grammar, independent of the parser's) and is finite unless spelt inf or -inf.
void check_numpy_text(std::string_view bytes);

// parse_conv_descriptor and parse_pool_descriptor: a DescriptorError, or a problem that
// validates and round-trips (descriptor.hpp: reading what to_descriptor wrote gives the
// same problem and name, and writing that gives the same text).
void check_descriptor(std::string_view bytes);

}  // namespace convconf::fuzz
