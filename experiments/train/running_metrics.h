#pragma once
// The running training loss and accuracy of an epoch, summed on the device that computes the batches and read
// back only now and then: on CUDA every read waits for the GPU to drain, so reading after each batch would stall
// the host once per batch.
#include <cstdint>
#include <optional>
#include <vector>

#include <torch/torch.h>

#include "experiments/train/checkpoint.h"

namespace incept {

class RunningMetrics {
 public:
  RunningMetrics() = default;
  // Sums on `device`, read back every `interval` batches (and at the end of each epoch). With `members` > 1 (a
  // packed network) every figure is a [members] tensor, one entry per member, summed and read back together.
  RunningMetrics(const torch::Device& device, std::int64_t interval, std::int64_t members = 1);

  // One batch: its mean loss, its total loss (aux heads included; only checked for being finite), and its number
  // of correct predictions, all still on the device (each [members] for a packed network).
  void add(const torch::Tensor& loss, const torch::Tensor& total_loss, const torch::Tensor& correct,
           std::int64_t batch_size);
  // Whether the pending batches should be read back now.
  bool due(bool last_batch_of_epoch) const {
    return pending_batches_ >= interval_ || (last_batch_of_epoch && pending_batches_ > 0);
  }

  struct NonFinite {
    double loss;                // mean loss of the pending batches (inf or nan, unless only an aux loss was)
    std::int64_t first_batch;   // 0-based index of the first pending batch
  };
  // Adds the pending batches to `pos` (loss_sum, correct, seen). `pos.next_batch` is the last batch added.
  // Returns what went wrong instead when a pending loss was not finite.
  std::optional<NonFinite> read_into(TrainPosition& pos);
  // The same for each member of a packed network, into positions[k] (nullptr: a member no longer trained, whose
  // figures are dropped).
  std::vector<std::optional<NonFinite>> read_members(const std::vector<TrainPosition*>& positions);

 private:
  std::int64_t interval_ = 1;
  std::int64_t members_ = 1;
  torch::Tensor loss_sum_, total_sum_, correct_;
  std::int64_t pending_batches_ = 0, pending_seen_ = 0;
};

}  // namespace incept
