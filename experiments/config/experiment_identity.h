#pragma once
// What makes two runs "the same experiment". One definition, used wherever the question is asked: a sweep
// deciding whether a cell is already done (skip, resume) and a report deciding which runs pool into one row.
//
// A run's resolved config is its experiment, except for settings that only say how or where it was executed
// or what it is called: those never change a recorded figure.
#include <cstdint>
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

// ---- the same computation up to an epoch (prefix reuse) ----
//
// Two experiments that differ only in train.epochs compute the same thing up to the shorter one's end when nothing
// a run computes before its last epoch depends on how many epochs it has: batches are drawn by (seed, epoch) and
// the learning rate is a function of the position alone under the schedules `constant`, `step` and `exponential`
// (with or without warm-up, which counts its own epochs). `cosine` reads the total (its rate at epoch 1 differs
// between a 2-epoch and a 4-epoch run), and so does any schedule this build does not know to be independent of it:
// such runs share nothing. The shorter run is then exactly the longer one's snapshot at its last epoch.

// Where a run stands among the runs it could share a prefix with.
struct EpochPrefix {
  // The experiment without train.epochs (seed included) when the schedule is independent of the total; "" when it
  // is not, and the run shares nothing.
  std::string key;
  std::int64_t epochs = 0;  // train.epochs (TrainConfig's default where the config does not write it)
};
EpochPrefix epoch_prefix(const toml::table& resolved);

// The one decision: how many first epochs two runs compute identically: the smaller train.epochs when their keys
// are equal and non-empty, 0 when they share nothing. A run of `b` may be recorded from a run of `a` exactly when
// shared_epoch_prefix(a, b) == b.epochs.
std::int64_t shared_epoch_prefix(const EpochPrefix& a, const EpochPrefix& b);
std::int64_t shared_epoch_prefix(const toml::table& a, const toml::table& b);

// ---- runs that can train as one packed network (experiments/train/packed_trainer.h) ----
//
// The members of a pack share the network, the data, the batches' sizes and count, the device and threads and the
// optimizer's algorithm: everything in the config except what each member keeps of its own — its seed, init,
// learning rate and schedule, the optimizer's numbers (momentum, weight decay, betas, eps, alpha), label smoothing,
// checkpoint folder and labels. Runs with equal non-empty keys can be packed.
std::string packing_key(const toml::table& resolved);
// The settings each member of a pack keeps of its own (dotted paths).
bool is_member_setting(const std::string& dotted_path);

}  // namespace incept
