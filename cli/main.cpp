// `incept`: the command-line entry point. Errors are reported, never thrown past main: configuration errors exit
// with status 2 (`path:line:col: error: ...`), data and environment errors with status 1.
#include <iostream>

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include "cli/cmd_data.h"
#include "cli/cmd_report.h"
#include "cli/cmd_runs.h"
#include "cli/cmd_sweep.h"
#include "cli/commands.h"
#include "framework/diagnostics.h"

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Also a command that already reported its outcome and only sets the exit status (CLI::RuntimeError).
    return app.exit(e);
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
