#pragma once
// The pieces of a training run that bench/incept_bench reuses, so that it measures what `incept train` runs.
// Kept out of trainer.h, so that the command-line code that only starts a run does not need LibTorch's headers.
#include <atomic>
#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "experiments/config/experiment_config.h"
#include "experiments/data/dataset.h"
#include "experiments/store/run_store.h"
#include "experiments/train/checkpoint.h"
#include "framework/torch_model.h"

namespace incept {

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
  bool stopped = false;  // `stop` was set before the pass ended: loss and acc mean nothing
};
// Mean loss and accuracy over a split, in eval mode and batches of `batch_size` (each epoch's test figures).
// `stop`, when given, is checked between batches: a long test pass must not delay a Ctrl-C.
EvalResult evaluate(Network& net, const Split& split, std::int64_t batch_size, const TrainConfig& c,
                    const std::atomic<bool>* stop = nullptr);

// ---- shared by the trainer (trainer.cpp) and the packed trainer (packed_trainer.cpp) ----

// Set by the first SIGINT/SIGTERM once install_interrupt_handler() has run: finish the batch, checkpoint, stop.
const std::atomic<bool>& interrupt_requested();
// Set by a second one while a watchdog is active: stop at once (the watchdog records the runs and exits).
const std::atomic<bool>& force_stop_requested();
// Whether a watchdog (a heartbeat thread that honours force_stop_requested) is running: without one, a second
// interrupt exits at once.
void set_watchdog_active(bool active);

// train.checkpoint_dir, relative to the log's folder. Files in it are named by run uid, so any number of logs may
// share it.
std::string checkpoint_dir_for(const TrainConfig& c, const std::string& db_path);
// Checkpoint files of run `uid` in `dir` other than `keep`.
void remove_other_checkpoints(const std::string& dir, const std::string& uid, const std::string& keep);
// A checkpoint folder that cannot be used stops the run before it trains (UserError naming it).
void check_checkpoint_dir(const std::string& dir, const std::string& config_path);
// The dataset's samples and classes fit the model (UserError naming both).
void check_data_fits_model(const Dataset& data, const ExperimentConfig& cfg);
// The activations of a training batch (of `members` packed networks) fit in memory, else a UserError naming the
// largest layer.
void check_activations_fit(const ExperimentConfig& cfg, const Dataset& data, std::int64_t members = 1);
// A stopped run to resume: its log entry, its checkpoint verified against that entry, its stored config resolved.
struct StoppedRun {
  RunRecord record;
  VerifiedCheckpoint checkpoint;
  ExperimentConfig config;
};
// The log at `db_path`, opened to resume runs from it (runs of dead processes marked interrupted first); a
// UserError when there is none.
RunStore open_log_to_resume(const std::string& db_path);
// Run `id` of `store`, checked before anything is built, loaded or written: it exists, is neither completed nor held
// by a live process, and has a checkpoint that matches its log entry; a UserError naming what stops it otherwise.
StoppedRun stopped_run(const RunStore& store, std::int64_t id, const std::string& db_path);

// The record of the epoch that just ended at `pos` (its running sums, `test`, the last batch's `lr`, the seconds of
// its batches and of the whole epoch), for run `run_id`; `pos` moves on to the start of the next epoch.
EpochRecord finish_epoch(std::int64_t run_id, TrainPosition& pos, const EvalResult& test, double lr,
                         double train_seconds, double epoch_seconds);
// The model's layers (and aux heads) as the log's layer table records them.
std::vector<LayerRecord> layer_records(const ModelSpec& m);

}  // namespace incept
