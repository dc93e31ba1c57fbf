#pragma once
// Checkpoints: model, optimizer, position in training (epoch and batch), partial-epoch sums, amp's loss scale and
// the CPU RNG state, so a resumed run continues exactly where the interrupted one stopped.
#include <cstdint>
#include <string>

#include <torch/torch.h>

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

// Written to `path`.tmp then renamed, so a crash or a full disk never leaves a half-written checkpoint behind.
void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     const TrainPosition& position);
TrainPosition load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                              const torch::Device& device);

}  // namespace incept
