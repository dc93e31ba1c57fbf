#pragma once
// Recognising a variant's earlier runs in the run log.
#include <optional>
#include <string>

#include <toml++/toml.h>

namespace incept {

// The config hash with train.threads left out. A sweep splits the cores among its parallel trainings
// (train.threads = cores / jobs), which changes the config hash, but a variant finished with --jobs 4 is the same
// experiment when the sweep runs again with --jobs 2 or on a machine with other cores.
std::string experiment_hash(const toml::table& resolved);

// The same for a resolved config as the run log stores it (runs.config_toml); nullopt if it does not parse.
std::optional<std::string> stored_experiment_hash(const std::string& config_toml);

}  // namespace incept
