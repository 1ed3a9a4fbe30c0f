// The deterministic sweep of `convconf run`: generated problems nobody named, the same on
// every machine for the same seed (our own generator, reference/data.hpp's Random).
// Problems are valid by construction, as the property generators build them: kernel,
// dilation and stride first, pads below the window's extent, then an input at least the
// padded window needs (and, for pooling, at least the dilation, so no window misses x).
#pragma once

#include <cstdint>
#include <vector>

#include "reference/conformance.hpp"

namespace convconf {

// `count` checks drawn from `seed`: every op and pass, both dtypes, all layouts, the fills
// that exercise each. Sizes are kept small (N <= 3, C, K <= 8, H, W <= 12, kernels <= 5)
// so a sweep of hundreds runs in seconds.
std::vector<CheckSpec> sweep_plan(uint64_t seed, int64_t count);
// Check `index` of the sweep of `seed` alone (sweep_plan's element `index`, for any count),
// so a run can take every N-th of a huge sweep without building the others.
CheckSpec sweep_check(uint64_t seed, int64_t index);
// Its op, from the generator's first draw: cheaper than building the check.
Op sweep_op(uint64_t seed, int64_t index);

}  // namespace convconf
