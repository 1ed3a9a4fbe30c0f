// The test binary runs checks of small problems: one thread (see impl/core/threads.hpp).
#include "impl/core/threads.hpp"

namespace {
const bool kOneThread = [] {
    convconf::set_threads(1);
    return true;
}();
}  // namespace
