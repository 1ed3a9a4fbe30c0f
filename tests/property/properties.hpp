// The properties of issue 6, each a function of the variant under test. Each runs one or
// more rapidcheck properties and returns the first failure, with its shrunk counterexample
// and repro lines (runner.hpp).
#pragma once

#include <string>
#include <vector>

#include "impl/core/variant.hpp"
#include "tests/property/runner.hpp"

namespace convconf::property {

struct NamedProperty {
    std::string name;
    PropertyOutcome (*check)(const Variant&);
};

// a. exact on integer data; b. within the derived bound on floats; c. adjoint identities;
// d. central differences; e. max-pool facts; f. invalid problems rejected naming the field.
const std::vector<NamedProperty>& variant_properties();

}  // namespace convconf::property
