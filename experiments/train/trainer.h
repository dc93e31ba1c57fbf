#pragma once
// Trains one experiment and records everything about it in the run store: the resolved config, costs, per-epoch
// metrics, timing and how it ended.
#include <cstdint>
#include <optional>
#include <string>

#include <torch/torch.h>

#include "experiments/data/dataset.h"
#include "experiments/experiment_config.h"
#include "framework/torch_model.h"

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

// The pieces of a run that bench/incept_bench reuses, so that it measures what `incept train` runs.

// The device train.device names: "auto" is CUDA when this LibTorch build has a usable GPU, else the CPU.
torch::Device choose_device(const std::string& wanted);
// cuDNN settings from train.deterministic: deterministic algorithms, or benchmark mode (fastest per shape).
void configure_cudnn(const TrainConfig& c);
// Process-wide thread setup from train.threads: LibTorch's intra-op threads, and OpenBLAS kept to one thread.
void configure_threads(const TrainConfig& c);
// Applies the performance switches that change the network itself (train.channels_last,
// train.parallel_branches, which applies on the CPU only); call after moving it to its device and before creating
// the optimizer.
void apply_performance_switches(Network& net, const TrainConfig& c);
// A batch as the network wants it (channels-last copy when train.channels_last).
torch::Tensor network_input(const torch::Tensor& images, const TrainConfig& c);

struct EvalResult {
  double loss = 0, acc = 0;
};
// Mean loss and accuracy over a split, in eval mode and batches of `batch_size` (each epoch's test figures).
EvalResult evaluate(Network& net, const Split& split, std::int64_t batch_size, const TrainConfig& c);

// Makes Ctrl-C (SIGINT) and SIGTERM finish the current batch, checkpoint, and mark the run interrupted.
void install_interrupt_handler();

}  // namespace incept
