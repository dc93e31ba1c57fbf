#pragma once
// `incept report`: compare the variants of a sweep (or any runs) from the experiment log, as Markdown, CSV,
// JSON or a self-contained HTML page with charts.
namespace CLI {
class App;
}

namespace incept {

// Registers the subcommand on `app`; it prints to std::cout (or writes -o) and throws incept::UserError on failure.
void add_report_commands(CLI::App& app);

}  // namespace incept
