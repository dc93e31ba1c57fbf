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
// "auto" or a whole number from 1 to `max` (`what`: what the number counts, for the message).
inline CLI::Validator auto_or_count(int max, const std::string& what) {
  return CLI::Validator(
      [max, what](std::string& value) {
        if (value == "auto") return std::string();
        if (!value.empty() && value.size() <= 4 && value.find_first_not_of("0123456789") == std::string::npos) {
          const int n = std::stoi(value);
          if (n >= 1 && n <= max) return std::string();
        }
        return "'" + value + "' is not 'auto' or a number of " + what + " from 1 to " + std::to_string(max);
      },
      "auto|N");
}
inline CLI::Validator jobs_value() { return auto_or_count(1024, "trainings"); }
// --pack: trainings per packed network.
inline CLI::Validator pack_value() { return auto_or_count(256, "trainings per packed network"); }

}  // namespace incept
