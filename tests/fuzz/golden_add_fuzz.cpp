// libFuzzer entry point for `convconf golden add`'s reading of a golden file; the check is
// fuzz::check_golden_add (tests/fuzz/targets.hpp). Built by the fuzz preset: tools/dev fuzz.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/fuzz/targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    convconf::fuzz::check_golden_add({reinterpret_cast<const char*>(data), size});
    return 0;
}
