#pragma once
// `incept sweep SWEEP.toml`: run (or, with --dry-run, list) every variant of an ablation sweep.
namespace CLI {
class App;
}

namespace incept {

// Registers the subcommand on `app`. Sweep-file errors are ConfigError (exit 2); a sweep with a failed variant
// exits 1, an interrupted one 130 (through CLI::RuntimeError).
void add_sweep_commands(CLI::App& app);

}  // namespace incept
