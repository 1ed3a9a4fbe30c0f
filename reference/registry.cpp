#include "reference/registry.hpp"

#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "impl/im2col/im2col.hpp"
#include "impl/naive/naive.hpp"
#include "impl/plugin/plugin.hpp"
#include "impl/strided/strided.hpp"
#include "reference/onednn/onednn.hpp"

namespace convconf {
namespace {

struct Registry {
    std::vector<std::unique_ptr<Variant>> owned;
    std::vector<const Variant*> list;
    std::vector<plugin::Library> libraries;  // the variants in owned come first
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

    void load(const std::string& path) {
        plugin::Library lib = plugin::load(path);
        for (const plugin::Library& l : libraries)
            if (l.file == lib.file) return;  // the same library: its variants are here already
        for (const auto& v : lib.variants)
            for (const Variant* other : list)
                if (other->name() == v->name()) {
                    const std::string from = path_of(other->name());
                    throw plugin::PluginError("plugin " + path + ": variant " + v->name() + " has the name of " +
                                              (from.empty() ? "an in-tree variant" : "a variant of plugin " + from));
                }
        for (const auto& v : lib.variants) list.push_back(v.get());
        libraries.push_back(std::move(lib));
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
        const char* env = std::getenv("CONVCONF_PLUGINS");
        if (!env) return;
        const std::string all(env);
        size_t begin = 0;
        while (begin <= all.size()) {
            const size_t end = std::min(all.find(':', begin), all.size());
            const std::string path = all.substr(begin, end - begin);
            if (!path.empty()) {
                try {
                    load(path);
                } catch (const plugin::PluginError& e) {
                    throw plugin::PluginError(std::string("CONVCONF_PLUGINS: ") + e.what());
                }
            }
            begin = end + 1;
        }
    }

    std::string path_of(std::string_view name) const {
        for (const plugin::Library& l : libraries)
            for (const auto& v : l.variants)
                if (v->name() == name) return l.file;
        return {};
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

void load_plugins(const std::vector<std::string>& paths) {
    Registry& r = registry();
    const std::lock_guard<std::mutex> lock(registry_mutex());
    if (r.frozen) {
        if (paths.empty()) return;
        throw std::logic_error("load_plugins: the list of variants is in use already");
    }
    r.load_environment();
    for (const std::string& p : paths) r.load(p);
}

const Variant* find_variant(std::string_view name) {
    for (const Variant* v : variants())
        if (v->name() == name) return v;
    return nullptr;
}

const Variant& naive_variant() { return *variants().front(); }

std::string plugin_path(std::string_view name) { return registry().path_of(name); }

namespace {
// A path as one shell word.
std::string shell_word(const std::string& s) {
    const bool plain = !s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                         "0123456789_./-+=:,@%") == std::string::npos;
    if (plain) return s;
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}
}  // namespace

std::string variant_options(std::string_view name) {
    const std::string path = plugin_path(name);
    return (path.empty() ? "" : "--plugin " + shell_word(path) + " ") + "--variant " + std::string(name);
}

}  // namespace convconf
