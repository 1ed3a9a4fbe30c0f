#include "reference/registry.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "impl/im2col/im2col.hpp"
#include "impl/naive/naive.hpp"
#include "impl/plugin/plugin.hpp"
#include "impl/plugin/worker/worker.hpp"
#include "impl/strided/strided.hpp"
#include "reference/onednn/onednn.hpp"

namespace convconf {
namespace {

// A path or command as one shell word.
std::string shell_word(const std::string& s) {
    const bool plain = !s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                         "0123456789_./-+=:,@%") == std::string::npos;
    if (plain) return s;
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Seconds as --worker-timeout takes them: "5", "0.25".
std::string timeout_text(std::chrono::milliseconds t) {
    if (t.count() % 1000 == 0) return std::to_string(t.count() / 1000);
    std::string s = std::to_string(double(t.count()) / 1000);
    while (s.back() == '0') s.pop_back();
    return s;
}

struct Registry {
    std::vector<std::unique_ptr<Variant>> owned;
    std::vector<const Variant*> list;
    std::vector<plugin::Library> libraries;  // the variants in owned come first
    std::vector<worker::Source> workers;     // --worker commands and --isolate'd plugins
    std::map<std::string, std::string> origin;  // a variant's options that load it: "--plugin P"
    std::map<std::string, std::string> source;  // where it comes from, for messages: "plugin P"
    bool frozen = false;                     // variants() was called: the list is final
    bool environment_loaded = false;
    std::optional<std::string> environment_error;

    Registry() {
        // The table. One line per implementation family; naive stays first.
        owned.push_back(naive::make_variant());
        owned.push_back(im2col::make_variant());
        owned.push_back(strided::make_variant());
        owned.push_back(onednn::make_variant());
        for (const auto& v : owned) list.push_back(v.get());
    }

    void load(const std::string& path, bool isolate) {
        if (isolate) return load_isolated(path);
        plugin::Library lib = plugin::load(path);
        for (const plugin::Library& l : libraries)
            if (l.file == lib.file) return;  // the same library: its variants are here already
        add("plugin " + path, "plugin " + lib.file, lib.variants, "--plugin " + shell_word(lib.file));
        libraries.push_back(std::move(lib));
    }

    // --isolate: the plugin in a worker process of convconf's own (convconf worker), where a
    // crash is one failed check. Nothing of the library runs in this process, not even its
    // loading: a library that cannot be used is the worker's error, with its stderr.
    void load_isolated(const std::string& path) {
        std::error_code ec;
        std::string file = std::filesystem::canonical(path, ec).string();
        if (ec) file = path;
        const std::string options = "--plugin " + shell_word(file) + " --isolate";
        for (const auto& [name, o] : origin)
            if (o == options) return;
        const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
        if (ec) throw plugin::PluginError("plugin " + path + ": --isolate: cannot find convconf's own program: " + ec.message());
        worker::Source src = worker::start("convconf worker --plugin " + shell_word(file), {self, "worker", "--plugin", file});
        add("plugin " + path, "plugin " + file + " (--isolate)", src.variants, options);
        workers.push_back(std::move(src));
    }

    void load_worker(const std::string& command) {
        const std::string options = "--worker " + shell_word(command);
        for (const auto& [name, o] : origin)
            if (o == options) return;  // the same command twice: one set of variants
        worker::Source src = worker::start(command);
        add("worker '" + command + "'", "worker '" + command + "'", src.variants, options);
        workers.push_back(std::move(src));
    }

    // Registers outside variants under the options that load them, refusing a name taken.
    // from: as the user gave it, for the error; named: as later errors name it.
    void add(const std::string& from, const std::string& named, const std::vector<std::unique_ptr<Variant>>& vs,
             const std::string& options) {
        for (const auto& v : vs)
            for (const Variant* other : list)
                if (other->name() == v->name()) {
                    const auto it = source.find(other->name());
                    throw plugin::PluginError(from + ": variant " + v->name() + " has the name of " +
                                              (it == source.end() ? "an in-tree variant" : "a variant of " + it->second));
                }
        for (const auto& v : vs) {
            list.push_back(v.get());
            origin[v->name()] = options;
            source[v->name()] = named;
        }
    }

    // Loads CONVCONF_PLUGINS once. A failure is kept and thrown again by every later call,
    // so no caller ever sees a list without the plugins asked for.
    void load_environment() {
        if (environment_error) throw plugin::PluginError(*environment_error);
        if (environment_loaded) return;
        try {
            load_environment_paths();
        } catch (const plugin::PluginError& e) {
            environment_error = e.what();
            throw;
        }
        environment_loaded = true;
    }

    void load_environment_paths() {
        // CONVCONF_PLUGINS: paths separated by ':'; CONVCONF_WORKERS: commands separated by ';'.
        for (const auto& [name, separator] : {std::pair{"CONVCONF_PLUGINS", ':'}, std::pair{"CONVCONF_WORKERS", ';'}}) {
            const char* env = std::getenv(name);
            if (!env) continue;
            const std::string all(env);
            size_t begin = 0;
            while (begin <= all.size()) {
                const size_t end = std::min(all.find(separator, begin), all.size());
                const std::string item = all.substr(begin, end - begin);
                if (item.find_first_not_of(" \t") != std::string::npos) {
                    try {
                        if (separator == ':')
                            load(item, false);
                        else
                            load_worker(item);
                    } catch (const std::runtime_error& e) {  // PluginError, WorkerFailure
                        throw plugin::PluginError(std::string(name) + ": " + e.what());
                    }
                }
                begin = end + 1;
            }
        }
    }
};

Registry& registry() {
    static Registry r;
    return r;
}
std::mutex& registry_mutex() {
    static std::mutex m;
    return m;
}

}  // namespace

const std::vector<const Variant*>& variants() {
    Registry& r = registry();
    const std::lock_guard<std::mutex> lock(registry_mutex());
    if (!r.frozen) {
        r.load_environment();
        r.frozen = true;
    }
    return r.list;
}

namespace {
// Loads each item (after the environment's), unless the list is in use already: nothing
// to load is fine then, anything else a logic error of the caller's.
template <class Load>
void load_before_use(const char* what, const std::vector<std::string>& items, Load load) {
    Registry& r = registry();
    const std::lock_guard<std::mutex> lock(registry_mutex());
    if (r.frozen) {
        if (items.empty()) return;
        throw std::logic_error(std::string(what) + ": the list of variants is in use already");
    }
    r.load_environment();
    for (const std::string& item : items) load(r, item);
}
}  // namespace

void load_plugins(const std::vector<std::string>& paths, bool isolate) {
    load_before_use("load_plugins", paths, [isolate](Registry& r, const std::string& p) { r.load(p, isolate); });
}

void load_workers(const std::vector<std::string>& commands) {
    load_before_use("load_workers", commands, [](Registry& r, const std::string& c) { r.load_worker(c); });
}

const Variant* find_variant(std::string_view name) {
    for (const Variant* v : variants())
        if (v->name() == name) return v;
    return nullptr;
}

const Variant& naive_variant() { return *variants().front(); }

std::string variant_options(std::string_view name) {
    std::string options;
    {
        const Registry& r = registry();
        const auto it = r.origin.find(std::string(name));
        if (it != r.origin.end()) options = it->second + " ";
        const bool worker = options.rfind("--worker ", 0) == 0 || options.find(" --isolate ") != std::string::npos;
        if (worker && worker::timeout() != worker::kDefaultTimeout)
            options += "--worker-timeout " + shell_word(timeout_text(worker::timeout())) + " ";
    }
    return options + "--variant " + std::string(name);
}

}  // namespace convconf
