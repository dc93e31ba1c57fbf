#pragma once
// What makes two runs "the same experiment". One definition, used wherever the question is asked: a sweep
// deciding whether a cell is already done (skip, resume) and a report deciding which runs pool into one row.
//
// A run's resolved config is its experiment, except for settings that only say how or where it was executed
// or what it is called: those never change a recorded figure.
#include <string>

#include <toml++/toml.h>

namespace incept {

// Dotted config paths that are not part of the experiment: labels (name, description, extends) and where and
// with how many threads it runs (train.threads, which a sweep's --jobs sets; train.checkpoint_dir).
bool is_execution_setting(const std::string& dotted_path);

// Whether the seed takes part: a sweep cell is one (variant, seed); a report row pools every seed of a variant.
enum class SeedPolicy { include, ignore };

// A stable hex hash of the resolved config without its execution settings (and without train.seed under
// SeedPolicy::ignore). Two runs with equal hashes trained the same experiment.
std::string experiment_hash(const toml::table& resolved, SeedPolicy seed = SeedPolicy::include);

// The same for a resolved config as the run log stores it (runs.config_toml); "" if the text does not parse.
std::string stored_experiment_hash(const std::string& config_toml, SeedPolicy seed = SeedPolicy::include);

}  // namespace incept
