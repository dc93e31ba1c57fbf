#pragma once
// Checkpoints: model, optimizer, position in training (epoch and batch), partial-epoch sums, amp's loss scale and
// the CPU RNG state, so a resumed run continues exactly where the interrupted one stopped.
//
// A checkpoint belongs to one run and says so. The file is a short text header (format, run uid, config hash,
// position, MD5 and size of the payload) followed by LibTorch's archive, the payload. It is named by the run's
// uid and its position (<uid>-e<epochs>-b<batch>.pt), so two logs sharing a folder can never share a file, and a
// new checkpoint never overwrites the one the log still vouches for. A resume verifies the header against the log
// and the payload against its checksum before loading anything.
#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "experiments/store/run_store.h"

namespace incept {

struct TrainPosition {
  std::int64_t epochs_done = 0;  // completed epochs
  std::int64_t next_batch = 0;   // batches already done in the current epoch (0 at an epoch boundary)
  double loss_sum = 0;           // partial-epoch sums, so the resumed epoch reports the same metrics
  std::int64_t correct = 0;
  std::int64_t seen = 0;
  double epoch_seconds = 0;      // time already spent in the current epoch
  double train_seconds = 0;      // time spent in completed epochs
  // amp's dynamic loss scale and its run of good steps, so a resumed amp run does not restart at the initial
  // scale (0: the run does not train with amp, or its checkpoint predates them).
  double loss_scale = 0;
  std::int64_t loss_scale_good_steps = 0;
};

// Whose checkpoint it is: the run's uid and config hash (runs.uid, runs.config_hash).
struct CheckpointOwner {
  std::string run_uid;
  std::string config_hash;
};

// The file name for `owner`'s checkpoint at `position`, in `dir`.
std::string checkpoint_file(const std::string& dir, const std::string& run_uid, const TrainPosition& position);

// Written to `path`.tmp, flushed, then renamed, so a crash or a full disk never leaves a half-written checkpoint
// behind. Returns what the log should record: the path, the position and the payload's MD5.
CheckpointRef save_checkpoint(const std::string& path, const CheckpointOwner& owner, torch::nn::Module& model,
                              torch::optim::Optimizer& optimizer, const TrainPosition& position);

// A checkpoint file checked against its run's log entry, ready to load.
struct VerifiedCheckpoint {
  std::string path;
  std::string payload;  // LibTorch's archive
  bool legacy = false;  // written before checkpoints carried their identity (the log vouches only for its path)
};

// Reads the checkpoint `run` (as its log records it) names and checks, before anything is loaded: that it exists,
// belongs to this run (uid), was written for its config (hash), holds the position the log recorded and no more
// epochs than the log has (`epochs_recorded`), and that its payload is intact (MD5 in the header and in the
// log). Any mismatch is a UserError "checkpoint PATH: <reason>". A checkpoint recorded before schema 3 has no header;
// it is accepted when the log vouches for its path and recorded no checksum.
VerifiedCheckpoint verify_checkpoint(const RunRecord& run, std::int64_t epochs_recorded);

// Loads a verified checkpoint into `model` and `optimizer`, restores the CPU RNG state, returns the position.
TrainPosition load_checkpoint(const VerifiedCheckpoint& checkpoint, torch::nn::Module& model,
                              torch::optim::Optimizer& optimizer, const torch::Device& device);

}  // namespace incept
