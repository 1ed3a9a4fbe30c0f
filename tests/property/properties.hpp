// The properties of issue 6, each a function of the variant under test. Each runs one or
// more rapidcheck properties and returns the first failure, with its shrunk counterexample
// and repro lines (runner.hpp).
#pragma once

#include <string>
#include <vector>

#include "impl/core/variant.hpp"
#include "reference/expected.hpp"
#include "tests/property/runner.hpp"

namespace convconf::property {

struct NamedProperty {
    std::string name;
    PropertyOutcome (*check)(const Variant&);
};

// a. exact on integer data; b. within the derived bound on floats; c. adjoint identities;
// d. central differences; e. max-pool facts; f. invalid problems rejected naming the field.
const std::vector<NamedProperty>& variant_properties();

// One side of an adjoint identity: an inner product of an input with a variant's output,
// and how far rounding can take it from the exact value (properties.cpp derives it).
struct Side {
    double value = 0, error = 0;
};
// Whether two sides can be the same exact number: |a - b| <= a.error + b.error.
bool agree(const Side&, const Side&);

// <t, out> for an input t and a variant's output `out` held to the derived bound of `e`
// (a copy, exact, when e is null).
template <class T>
Side side(const Tensor<T>& t, const Tensor<T>& out, const Expected* e);

// <conv(x,w), dy>, <x, backward_data(dy,w)> and <w, backward_weights(x,dy)> as the variant
// computes them at `dtype`, on floats in [-1, 1) drawn from `seed` (or, with `positive`,
// their magnitudes), with the inputs.
struct ConvAdjoint {
    Side forward, data, weights;
    Tensor<double> x, w, dy;
};
ConvAdjoint conv_adjoint(const Variant&, const ConvProblem&, uint64_t seed, DType dtype, bool positive);

}  // namespace convconf::property
