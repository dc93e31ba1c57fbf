#pragma once
// Runs incept subcommands in-process for tests: parses `args` (without the program name) with the commands that
// `add_commands` registers and returns what they printed on stdout.
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace incept::testing {

template <typename AddCommands>
std::string run_cli_capturing(AddCommands add_commands, std::vector<std::string> args) {
  CLI::App app("incept");
  add_commands(app);
  args.insert(args.begin(), "incept");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());

  std::ostringstream captured;
  std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
  std::cout.rdbuf(old);
  return captured.str();
}

}  // namespace incept::testing
