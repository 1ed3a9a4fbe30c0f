// benchdnn batch files (`--batch=FILE`): problem descriptors, each with the options in effect
// where it stands, so a benchdnn input file runs unchanged through convconf.
//
// Read as benchdnn reads them (its read_batch): the text is whitespace-separated tokens; a
// token that starts with `#` comments out the rest of its line; a token that starts with `--`
// is an option, `--name=value` or `--name`, in effect for every descriptor after it until it
// is set again or `--reset` clears them all; any other token is a descriptor. Descriptors
// are not parsed here: whether one is a convolution or a pooling is the caller's to say
// (parse_conv_descriptor, parse_pool_descriptor).
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "reference/input.hpp"

namespace convconf {

struct BatchEntry {
    std::string descriptor;
    // The options in effect: name without the dashes -> value ("" for `--name`).
    std::map<std::string, std::string> options;
    std::string source;  // the file, as given to read_batch
    int line = 0;        // 1-based

    // "<source>:<line>", for messages that point back at the file.
    std::string location() const;
};

// what(): "<source>:<line>: <message>".
class BatchError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// `source` names the text in messages (a file name). Throws BatchError for what convconf
// cannot follow: a nested `--batch` and an option with an empty name.
std::vector<BatchEntry> parse_batch(std::string_view text, std::string_view source);
// Reads and parses a file (reference/input.hpp: an InputError naming `origin` and the path
// when it cannot be read, is a directory or is empty); BatchError when it holds no descriptor,
// which would otherwise check nothing and pass.
std::vector<BatchEntry> read_batch(const std::string& path, std::string_view origin = "--batch");

}  // namespace convconf
