// `incept`: the command-line entry point. Errors are reported, never thrown past main: configuration and usage errors
// exit with status 2 (`path:line:col: error: ...`, or what was wrong on the command line), data and environment
// errors with status 1.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include "cli/cmd_data.h"
#include "cli/cmd_report.h"
#include "cli/cmd_runs.h"
#include "cli/cmd_sweep.h"
#include "cli/commands.h"
#include "framework/diagnostics.h"
#include "framework/text.h"

namespace {

// Every command, or only those for people (not the hidden ones incept runs itself, such as throughput-probe).
std::vector<std::string> command_names(CLI::App& app, bool hidden_too = true) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    if (hidden_too || !sub->get_group().empty()) names.push_back(sub->get_name());
  return names;
}

// A mistyped command is named, with the nearest known ones: CLI11 alone would only say that one is required.
int unknown_command(CLI::App& app, const std::string& word) {
  const std::vector<std::string> names = command_names(app, false);
  std::cerr << "error: unknown command '" << word << "'" << incept::did_you_mean(word, names)
            << " (commands: " << incept::join(names, ", ") << "; see incept --help)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"incept: declarative experiments with Inception-family CNNs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "incept 0.1.0");
  incept::add_model_commands(app);
  incept::add_train_commands(app);
  incept::add_run_commands(app);
  incept::add_data_commands(app);
  incept::add_sweep_commands(app);
  incept::add_report_commands(app);
  if (argc > 1 && argv[1][0] != '-') {
    const std::vector<std::string> names = command_names(app);
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) return unknown_command(app, argv[1]);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a command that already reported its outcome and only sets the exit status
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // A usage error is an input error like a bad config: status 2, with what was wrong, never CLI11's 100+ codes.
    std::cerr << "error: " << e.what() << "\nRun with --help for more information.\n";
    return 2;
  } catch (const incept::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const incept::UserError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const c10::Error& e) {  // LibTorch's what() appends a C++ backtrace; users need the message only
    std::cerr << "error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
