// libFuzzer entry point for the benchdnn descriptor parsers (parse_conv_descriptor, parse_pool_descriptor); the check is
// fuzz::check_descriptor (tests/fuzz/targets.hpp). Built by the fuzz preset: tools/dev fuzz.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/fuzz/targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    convconf::fuzz::check_descriptor({reinterpret_cast<const char*>(data), size});
    return 0;
}
