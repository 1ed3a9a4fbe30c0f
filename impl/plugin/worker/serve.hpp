// convconf's own worker (`convconf worker --plugin LIB`): the worker side of the protocol
// (docs/worker-protocol.md) serving variants of this process, so that `--isolate` can run
// a plugin in a process of its own, where a crash is one failed check.
#pragma once

#include <vector>

#include "impl/core/variant.hpp"

namespace convconf::worker {

// Answers requests on in_fd with frames on out_fd until in_fd ends (0). A frame that is
// not the protocol's ends it with a message on stderr (2). Each output arrives at the
// variant poisoned and guarded; a write past an output or into an input is answered as
// an error, as the in-process checks report it.
int serve(const std::vector<const Variant*>& variants, int in_fd, int out_fd);

}  // namespace convconf::worker
