#include "experiments/config/experiment_identity.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "experiments/config/train_config.h"
#include "framework/config_loader.h"

namespace incept {

namespace {

constexpr std::array<std::string_view, 5> kExecutionSettings = {"name", "description", "extends", "train.threads",
                                                                "train.checkpoint_dir"};

void erase_path(toml::table& root, std::string_view dotted) {
  const std::size_t dot = dotted.find('.');
  if (dot == std::string_view::npos) {
    root.erase(dotted);
    return;
  }
  const std::string_view head = dotted.substr(0, dot);
  toml::table* inner = root[head].as_table();
  if (!inner) return;
  erase_path(*inner, dotted.substr(dot + 1));
  // `--set train.threads=N` creates [train] in a config that had none; without threads it is the same config.
  if (inner->empty()) root.erase(head);
}

// Schedules whose rate at a position does not depend on train.epochs (experiments/train/optimization.cpp); a new
// schedule is shared only once it is added here.
constexpr std::array<std::string_view, 3> kSchedulesIndependentOfEpochs = {"constant", "step", "exponential"};

// The [train] settings a packed member keeps of its own (packed_optimizer.h takes the optimizer's numbers per member;
// the trainer computes each member's schedule, loss and initialisation). Anything else must be shared.
constexpr std::array<std::string_view, 17> kMemberSettings = {
    "train.seed",     "train.init",  "train.init_std",     "train.lr",        "train.schedule", "train.step_size",
    "train.gamma",    "train.min_lr", "train.warmup_epochs", "train.momentum", "train.weight_decay", "train.alpha",
    "train.eps",      "train.beta1", "train.beta2",        "train.label_smoothing", "train.checkpoint_dir"};

std::string schedule_of(const toml::table& resolved) {
  return resolved["train"]["schedule"].value<std::string>().value_or(TrainConfig{}.schedule);
}

}  // namespace

bool is_execution_setting(const std::string& dotted_path) {
  for (std::string_view s : kExecutionSettings)
    if (dotted_path == s) return true;
  return false;
}

std::string experiment_hash(const toml::table& resolved, SeedPolicy seed) {
  toml::table copy = resolved;  // source positions do not matter for hashing
  for (std::string_view s : kExecutionSettings) erase_path(copy, s);
  if (seed == SeedPolicy::ignore) erase_path(copy, "train.seed");
  return config_hash(copy);
}

std::string stored_experiment_hash(const std::string& config_toml, SeedPolicy seed) {
  try {
    return experiment_hash(toml::parse(config_toml), seed);
  } catch (const toml::parse_error&) {
    return "";
  }
}

EpochPrefix epoch_prefix(const toml::table& resolved) {
  EpochPrefix p;
  p.epochs = resolved["train"]["epochs"].value<std::int64_t>().value_or(TrainConfig{}.epochs);
  const std::string schedule = schedule_of(resolved);
  if (std::find(kSchedulesIndependentOfEpochs.begin(), kSchedulesIndependentOfEpochs.end(), schedule) ==
      kSchedulesIndependentOfEpochs.end())
    return p;
  toml::table copy = resolved;
  erase_path(copy, "train.epochs");
  p.key = experiment_hash(copy);
  return p;
}

std::int64_t shared_epoch_prefix(const EpochPrefix& a, const EpochPrefix& b) {
  if (a.key.empty() || a.key != b.key) return 0;
  return std::min(a.epochs, b.epochs);
}

std::int64_t shared_epoch_prefix(const toml::table& a, const toml::table& b) {
  return shared_epoch_prefix(epoch_prefix(a), epoch_prefix(b));
}

bool is_member_setting(const std::string& dotted_path) {
  return std::find(kMemberSettings.begin(), kMemberSettings.end(), dotted_path) != kMemberSettings.end();
}

std::string packing_key(const toml::table& resolved) {
  toml::table copy = resolved;
  for (std::string_view s : kMemberSettings) erase_path(copy, s);
  // Labels only; train.threads stays: the members run in one process.
  for (std::string_view s : {"name", "description", "extends"}) erase_path(copy, s);
  return config_hash(copy);
}

}  // namespace incept
