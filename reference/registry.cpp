#include "impl/core/registry.hpp"

#include <memory>

#include "impl/im2col/im2col.hpp"
#include "impl/naive/naive.hpp"
#include "impl/strided/strided.hpp"
#include "reference/onednn/onednn.hpp"

namespace convconf {
namespace {

// The table. One line per implementation family; naive stays first.
std::vector<std::unique_ptr<Variant>> make_table() {
    std::vector<std::unique_ptr<Variant>> table;
    table.push_back(naive::make_variant());
    table.push_back(im2col::make_variant());
    table.push_back(strided::make_variant());
    table.push_back(onednn::make_variant());
    return table;
}

const std::vector<std::unique_ptr<Variant>>& table() {
    static const auto t = make_table();
    return t;
}

}  // namespace

const std::vector<const Variant*>& variants() {
    static const auto list = [] {
        std::vector<const Variant*> v;
        for (const auto& p : table()) v.push_back(p.get());
        return v;
    }();
    return list;
}

const Variant* find_variant(std::string_view name) {
    for (const Variant* v : variants())
        if (v->name() == name) return v;
    return nullptr;
}

const Variant& naive_variant() { return *variants().front(); }

}  // namespace convconf
