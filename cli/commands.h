#pragma once
// Each file cli/cmd_*.cpp adds one group of subcommands to the `incept` application.
#include <CLI/CLI.hpp>

namespace incept {

void add_model_commands(CLI::App& app);  // summary, graph, compare, blocks
void add_train_commands(CLI::App& app);  // train, resume

}  // namespace incept
