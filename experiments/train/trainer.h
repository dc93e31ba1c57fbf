#pragma once
// Trains one experiment and records everything about it in the run store: the resolved config, costs, per-epoch
// metrics, timing and how it ended.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "experiments/config/experiment_config.h"
#include "experiments/store/run_status.h"
#include "experiments/train/prefix_members.h"

namespace incept {

struct TrainOptions {
  std::string db_path = "runs.db";
  bool quiet = false;
  std::string sweep;    // sweep name, when run by a sweep
  std::string variant;  // variant name within the sweep
  // When non-empty, the experiment_hash() the config must resolve to (a sweep passes the one it planned).
  std::string expect_experiment;
  // Prefix reuse (prefix_members.h): runs recorded from this training at their own last epoch, each the same
  // computation up to there. train_experiment begins them; resume_run takes the stopped runs `resume_with`
  // (whose checkpoints must hold the resumed run's state), dropping with a note any that cannot go along.
  std::vector<PrefixMemberConfig> prefix_members;
  std::vector<std::int64_t> resume_with;
  // Packing (packed_trainer.h): runs trained with this one as one packed network, each its own computation and its
  // own run (the same fields as a prefix member: config, variant, planned experiment).
  std::vector<PrefixMemberConfig> pack_with;
  // resume_run: stopped runs to resume with it as one packed network (their checkpoints at its position).
  std::vector<std::int64_t> pack_with_runs;
};

struct TrainOutcome {
  std::int64_t run_id = 0;
  RunStatus status = RunStatus::failed;  // completed | diverged | interrupted | failed
  std::optional<double> final_test_acc, best_test_acc;
  double train_seconds = 0;
  std::int64_t epochs_done = 0;
  std::string error;
  // The runs recorded with it: prefix reuse, fewest epochs first; or the other members of its pack, in pack order.
  std::vector<TrainOutcome> members;
  bool packed = false;  // members are pack members (their own computations), not prefix members
  std::string label;    // a pack member's sweep cell, "variant seed=S" ("" otherwise), for its outcome line
};

TrainOutcome train_experiment(const ExperimentConfig& cfg, const TrainOptions& options);

// Continues an interrupted (or failed) run from its last checkpoint, with the config stored in the database. The
// checkpoint is verified against the log before anything is loaded, and the run is claimed: a run another live
// process holds is refused, and every refusal leaves the log as it was.
TrainOutcome resume_run(std::int64_t run_id, const TrainOptions& options);

// Makes Ctrl-C (SIGINT) and SIGTERM finish the current batch (or stop the evaluation), checkpoint, and mark the
// run interrupted. A second one stops the process at once (exit 130), whatever it is doing: the run is marked
// interrupted and keeps its last checkpoint.
void install_interrupt_handler();

}  // namespace incept
