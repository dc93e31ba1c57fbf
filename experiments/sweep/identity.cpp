#include "experiments/sweep/identity.h"

#include "framework/config_loader.h"

namespace incept {

std::string experiment_hash(const toml::table& resolved) {
  toml::table copy = resolved;  // source positions do not matter for hashing
  if (toml::table* train = copy["train"].as_table()) {
    train->erase("threads");
    // `--set train.threads=N` creates [train] in a config that had none; without threads it is the same config.
    if (train->empty()) copy.erase("train");
  }
  return config_hash(copy);
}

std::optional<std::string> stored_experiment_hash(const std::string& config_toml) {
  try {
    return experiment_hash(toml::parse(config_toml));
  } catch (const toml::parse_error&) {
    return std::nullopt;
  }
}

}  // namespace incept
