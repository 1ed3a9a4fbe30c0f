// convconf worker: serves plugin libraries over the worker protocol on stdin and stdout
// (docs/worker-protocol.md). What --isolate starts; a worker like any other, so it also
// shows the protocol from the worker's side.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "impl/plugin/plugin.hpp"
#include "impl/plugin/worker/serve.hpp"
#include "tools/cli.hpp"

namespace convconf::cli {
namespace {

int cmd_worker(Args& args) {
    const std::vector<std::string> paths = args.values("--plugin");
    if (const auto extra = args.positional(); !extra.empty())
        throw UsageError("worker takes no positional arguments (got \"" + extra.front() + "\")");
    if (paths.empty()) throw UsageError("worker serves plugins: give --plugin PATH");
    if (isatty(STDOUT_FILENO))
        throw UsageError("worker speaks the worker protocol on stdout; convconf starts it (--isolate, --worker)");
    std::vector<plugin::Library> libraries;
    std::vector<const Variant*> served;
    for (const std::string& p : paths) {
        try {
            libraries.push_back(plugin::load(p));
        } catch (const plugin::PluginError& e) {
            throw std::runtime_error(std::string("--plugin: ") + e.what());
        }
        for (const auto& v : libraries.back().variants) served.push_back(v.get());
    }
    // The protocol gets a descriptor of its own, and fd 1 becomes stderr: a plugin that
    // prints (printf, std::cout) writes to the log, never into a frame.
    std::fflush(stdout);
    const int protocol = dup(STDOUT_FILENO);
    if (protocol < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
        throw std::runtime_error(std::string("worker: cannot set up its stdout: ") + std::strerror(errno));
    return worker::serve(served, STDIN_FILENO, protocol);
}

}  // namespace

const Command kWorker{"worker", "serve plugins over the worker protocol (what --isolate runs)",
    "usage: convconf worker --plugin PATH [--plugin PATH]...\n"
    "  Serves the variants of the plugin libraries over the worker protocol on stdin and\n"
    "  stdout (docs/worker-protocol.md) until stdin ends. `--plugin PATH --isolate` on run,\n"
    "  check, golden and bench starts it, so that a plugin that crashes fails one check\n"
    "  instead of ending the run.\n",
    cmd_worker};

}  // namespace convconf::cli
