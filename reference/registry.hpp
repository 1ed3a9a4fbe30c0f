// The registry: the one table of implementation variants. Tests and the convconf tool
// enumerate it; adding a variant is one entry in registry.cpp.
#pragma once

#include <string_view>
#include <vector>

#include "impl/core/variant.hpp"

namespace convconf {

// Every registered variant, in registration order. "naive" is always first: it is the
// reference the others are compared with.
const std::vector<const Variant*>& variants();

// The variant called `name`, or nullptr.
const Variant* find_variant(std::string_view name);

// The naive-loops reference variant.
const Variant& naive_variant();

}  // namespace convconf
