#pragma once
// `incept runs`, `incept show RUN_ID` and `incept db merge`: reading and maintaining the experiment log.
namespace CLI {
class App;
}

namespace incept {

// Registers the subcommands on `app`; they print to std::cout and throw incept::UserError on failure.
void add_run_commands(CLI::App& app);

}  // namespace incept
