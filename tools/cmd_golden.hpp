// The subcommands of convconf golden (tools/cmd_golden.cpp dispatches on the word after
// `golden`): run (the default), add, check, list.
#pragma once

#include "tools/cli.hpp"

namespace convconf::cli {

extern const Command kGoldenAdd;  // tools/cmd_golden_add.cpp

}  // namespace convconf::cli
