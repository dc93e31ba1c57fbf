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

// --jobs: "auto" or a number of trainings at once, 1 to 1024.
inline CLI::Validator jobs_value() {
  return CLI::Validator(
      [](std::string& value) {
        if (value == "auto") return std::string();
        if (!value.empty() && value.size() <= 4 && value.find_first_not_of("0123456789") == std::string::npos) {
          const int n = std::stoi(value);
          if (n >= 1 && n <= 1024) return std::string();
        }
        return "'" + value + "' is not 'auto' or a number of trainings from 1 to 1024";
      },
      "auto|N");
}

}  // namespace incept
