#pragma once
// One experiment: a config file resolved (extends, --set) and validated as a whole.
#include <optional>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "experiments/config/data_config.h"
#include "experiments/config/train_config.h"
#include "framework/model_spec.h"

namespace incept {

struct ExperimentConfig {
  std::string path;         // the file given by the user
  std::string name;         // `name` key, or the file's stem
  std::string description;
  toml::table resolved;     // after extends and --set
  std::string toml_text;    // canonical text of `resolved`, stored with every run
  std::string hash;         // of toml_text
  DataConfig data;
  ModelSpec model;
  TrainConfig train;
};

// Throws ConfigError listing every problem in the file (exit status 2 at the CLI).
ExperimentConfig load_experiment(const std::string& path, const std::vector<std::string>& overrides = {});

// Parses an already merged table (used by sweeps, which build variants in memory).
ExperimentConfig resolve_experiment(toml::table root, const std::string& path);

// What the config's [data] delivers, known without reading it (MNIST and Fashion-MNIST: 1x28x28, 10 classes;
// synthetic: its shape and class count), checked against the model's input and output: the reason they do not
// fit, or nullopt. Training checks the loaded data again; this lets a sweep's dry run find the mismatch.
std::optional<std::string> data_model_mismatch(const ExperimentConfig& cfg);

// Training images per epoch as far as [data] tells without reading the files: the synthetic size, MNIST's and
// Fashion-MNIST's 60,000, capped by train_limit.
std::int64_t known_train_images(const DataConfig& data);

}  // namespace incept
