#pragma once
// Checks shared by the commands' options, so every command refuses the same bad input the same way.
#include <string>

#include <CLI/CLI.hpp>

namespace incept {

// A path or value given explicitly but empty (`--db ""`, `--shard ""`) is a mistake, never a request for the
// default: the default is what you get by leaving the option out.
inline CLI::Validator non_empty() {
  return CLI::Validator([](std::string& value) { return value.empty() ? std::string("must not be empty") : ""; },
                        "NONEMPTY");
}

}  // namespace incept
