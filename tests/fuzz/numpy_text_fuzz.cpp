// libFuzzer entry point for the numpy-text parser (parse_numpy); the check is
// fuzz::check_numpy_text (tests/fuzz/targets.hpp). Built by the fuzz preset: tools/dev fuzz.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/fuzz/targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    convconf::fuzz::check_numpy_text({reinterpret_cast<const char*>(data), size});
    return 0;
}
