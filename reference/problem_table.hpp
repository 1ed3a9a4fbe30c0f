// The named problem table (XNNPACK style: a name plus a problem), shared by the tests of
// every variant and by `convconf run`. Each entry is there for a feature of the contract;
// adding a problem is one line in problem_table.cpp.
#pragma once

#include <string>
#include <vector>

#include "impl/core/problem.hpp"

namespace convconf {

struct NamedConv {
    std::string name;
    ConvProblem problem;  // layouts NCHW/OIHW; the plan expands them
};
struct NamedPool {
    std::string name;
    PoolProblem problem;
};

const std::vector<NamedConv>& conv_problems();
const std::vector<NamedPool>& pool_problems();

}  // namespace convconf
