// The registry: every implementation variant convconf tests, assembled in one place above
// impl/ (the in-tree families) and reference/onednn (oneDNN), and with the plugins' variants
// (impl/plugin) after them. Tests and the convconf tool enumerate it; adding an in-tree
// variant is one entry in registry.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "impl/core/variant.hpp"

namespace convconf {

// Every variant: naive first (the reference the others are compared with), then the other
// in-tree families, oneDNN, and each plugin's variants in the order they were loaded. The
// first call loads the plugins CONVCONF_PLUGINS names (colon-separated paths) and those
// load_plugins() was given, and starts the workers of CONVCONF_WORKERS and load_workers();
// one that cannot be used throws plugin::PluginError.
const std::vector<const Variant*>& variants();

// Loads the libraries at paths (--plugin), after those of CONVCONF_PLUGINS, before
// variants() is first used (std::logic_error after). A library loaded already, under any
// path, is not loaded again. Throws plugin::PluginError naming the path: a library that
// cannot be loaded or checked, or a variant whose name another variant has. isolate
// (--isolate): each library is served by a worker process of convconf's own instead
// (`convconf worker --plugin PATH`), so that a crash in it fails one check.
void load_plugins(const std::vector<std::string>& paths, bool isolate);

// Starts the worker commands (--worker; docs/worker-protocol.md), after those of
// CONVCONF_WORKERS (commands separated by ';'), before variants() is first used. The same
// command twice is started once. Throws worker::WorkerFailure naming the command (it
// cannot start, or its hello is wrong) or plugin::PluginError (a variant's name is taken).
void load_workers(const std::vector<std::string>& commands);

// The variant called `name`, or nullptr.
const Variant* find_variant(std::string_view name);

// The naive-loops reference variant.
const Variant& naive_variant();

// How a command line names the variant: "--variant NAME", with what loads it before it
// ("--plugin PATH", "--plugin PATH --isolate", "--worker 'COMMAND'", and a --worker-timeout
// that is not the default), so that a repro line pasted as it is loads it again.
std::string variant_options(std::string_view name);

}  // namespace convconf
