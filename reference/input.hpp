// Reading what the user names: the one way every reader of a file opens it, and the one set
// of limits every parser of user input applies (golden files, their schema, numpy text,
// benchdnn batch and shape files).
//
// A file that cannot be what was asked for is an InputError whose message names the option
// it came from, the path and what is wrong:
//   --batch shapes/: is a directory, not a file
//   --input x=x.txt: no such file
// never the C++ library's own text alone.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace convconf {

// A file is read whole into memory: beyond this it is no input of ours.
constexpr int64_t kMaxInputBytes = int64_t{1} << 28;  // 256 MiB
// numpy's limit on dimensions (NPY_MAXDIMS, numpy 2): a nested array deeper than this is no
// tensor, and reading it would recurse once per level.
constexpr size_t kMaxRank = 64;
// A tensor is typed in by hand or printed by a notebook; far beyond this is a typo. The
// limits keep what a few bytes can make a reader allocate ("fill" describes a whole tensor)
// far below the fuzzers' 2 GB: 32 MB per tensor as doubles (ResNet-50's conv1 input at mb 4
// fits), 256 MB per golden file.
constexpr int64_t kMaxTensorElements = int64_t{1} << 22;
constexpr int64_t kMaxFileElements = int64_t{1} << 25;

class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// How messages name a file, from the option it came from: "--file x.json" for "--file",
// "--input x=x.txt" for "--input x=" (an origin ending in '=' is the start of the argument),
// "x.json" for none.
std::string input_name(std::string_view origin, const std::filesystem::path& path);

// The whole content of `path`, or an InputError "<origin> <path>: <what is wrong>" when it
// does not exist, is a directory, cannot be opened or read, is empty, or holds more than
// kMaxInputBytes. Pipes and devices are read too (a shell's <(...)), up to the same limit.
std::string read_input_file(const std::filesystem::path& path, std::string_view origin);

// The whole of standard input, with read_input_file's limits; `origin` names it ("--input x=-").
std::string read_standard_input(std::string_view origin);

// Returns when `dir` is a directory that can be listed; otherwise an InputError
// "<origin> <dir>: ..." says that it does not exist, is not a directory or cannot be listed.
void require_directory(const std::filesystem::path& dir, std::string_view origin);

}  // namespace convconf
