// Outside implementations in another process (docs/worker-protocol.md): a command convconf
// starts and speaks to over its stdin and stdout, whose variants are wrapped as Variants
// like any other. Every failure of the process (it exits, dies by a signal, answers
// garbage, wrong sizes or shapes, or not within the timeout) fails the one check it
// happened in, with what happened and its stderr's tail; the process is killed and the
// next call starts a new one. Calls made at the same time (run --threads N) each get a
// process of their own: N calls, N processes.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "impl/core/variant.hpp"
#include "impl/plugin/worker/process.hpp"

namespace convconf::worker {

// How long one request (and the start of a worker, its hello) may take: --worker-timeout.
inline constexpr std::chrono::milliseconds kDefaultTimeout{60000};
// At least 1 ms (std::invalid_argument otherwise: a timeout of 0 would fail every call).
void set_timeout(std::chrono::milliseconds);
std::chrono::milliseconds timeout();

struct Source {
    std::string command;  // as given (--worker, CONVCONF_WORKERS)
    std::vector<std::unique_ptr<Variant>> variants;
};

// Starts the command and asks its variants (the hello). argv defaults to the command's
// words (split_command). Throws WorkerFailure naming the command: it cannot be split or
// started, or its hello is not the protocol's.
Source start(const std::string& command, std::vector<std::string> argv = {});

// Whether the variant is a worker's (--worker, --isolate).
bool is_worker(const Variant&);

// One request that does nothing (a ping) to the variant's worker, for the round trip's
// cost (convconf bench). Throws std::invalid_argument for a variant not of a worker.
void ping(const Variant&);

}  // namespace convconf::worker
