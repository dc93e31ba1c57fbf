#pragma once
// `incept data ...`: dataset management commands.
#include <CLI/CLI.hpp>

namespace incept {

// Adds `data fetch <dataset> [--dir DIR]`. The callbacks throw UserError on failure, out of CLI::App::parse.
void add_data_commands(CLI::App& app);

}  // namespace incept
