#pragma once
// Trains one experiment and records everything about it in the run store: the resolved config, costs, per-epoch
// metrics, timing and how it ended.
#include <cstdint>
#include <optional>
#include <string>

#include "experiments/experiment_config.h"

namespace incept {

struct TrainOptions {
  std::string db_path = "runs.db";
  bool quiet = false;
  std::string sweep;    // sweep name, when run by a sweep
  std::string variant;  // variant name within the sweep
};

struct TrainOutcome {
  std::int64_t run_id = 0;
  std::string status;  // completed | diverged | interrupted | failed
  std::optional<double> final_test_acc, best_test_acc;
  double train_seconds = 0;
  std::int64_t epochs_done = 0;
  std::string error;
};

TrainOutcome train_experiment(const ExperimentConfig& cfg, const TrainOptions& options);

// Continues an interrupted (or failed) run from its last checkpoint, with the config stored in the database.
TrainOutcome resume_run(std::int64_t run_id, const TrainOptions& options);

// Makes Ctrl-C (SIGINT) and SIGTERM finish the current batch, checkpoint, and mark the run interrupted.
void install_interrupt_handler();

}  // namespace incept
