#pragma once
// The optimizer of a packed network (framework/packed_model.h): one update per packed tensor for all K members, each
// member with its own hyper-parameters — learning rate (and its schedule), momentum, weight decay, betas, eps,
// RMSprop's alpha. The algorithm is LibTorch's own (torch::optim::SGD, Adam, AdamW, RMSprop, as make_optimizer
// configures them) applied to each member's slice [k] of `tensor.view({K, -1})`, with the per-member numbers in a
// [K, 1] column that broadcasts over the slices; a member's update therefore equals its own optimizer's up to float
// rounding (LibTorch fuses some multiply-adds that this spells as two operations). train.optimizer and
// train.nesterov must agree across the members (they choose the algorithm; prefix_member_mismatch-style keys are
// the caller's business, see packing_mismatch).
//
// The hyper-parameters live in one device tensor that prepare() rewrites before each step, and step() reads only
// device tensors: a step captured in a CUDA graph replays with the current learning rates and bias corrections.
//
// A member's state converts to and from a LibTorch optimizer over its own network's parameters (store_member,
// load_member), so each member's checkpoint is the one its own run would write, and `incept resume` continues it
// alone or packed again.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "experiments/config/train_config.h"

namespace incept {

// Why runs with these [train] sections cannot share one packed optimizer, or nullopt when they can.
std::optional<std::string> packed_optimizer_mismatch(const TrainConfig& a, const TrainConfig& b);

class PackedOptimizer {
 public:
  // `params`: the packed network's parameters (member-major along their first dimension); `members`: each member's
  // [train] section, in member order.
  PackedOptimizer(std::vector<torch::Tensor> params, const std::vector<TrainConfig>& member_configs);

  std::int64_t members() const { return static_cast<std::int64_t>(configs_.size()); }
  // Each member's learning rate for the next step (schedules are the caller's: learning_rate_at). Counts the step
  // (Adam's and RMSprop's step count). Call outside any CUDA graph.
  void prepare(const std::vector<double>& learning_rates);
  // One update of every member that is not stopped. Reads only tensors on the parameters' device.
  void step();
  // Zeroes the gradients in place.
  void zero_grad();
  // A diverged member: its parameters and state are zeroed and never move again, so its NaNs cannot reach a
  // float reduction the members share (there is none today; this keeps it so) and cost nothing.
  void stop_member(std::int64_t k);
  std::int64_t stopped_members() const;
  // Adam's and RMSprop's step count (every member's: they step together).
  std::int64_t steps() const { return steps_; }

  // Member k's state as `optimizer` (a LibTorch optimizer over `member_params`, made by make_optimizer from the
  // member's config) holds it, and back. `member_params` are in the packed parameters' order.
  void store_member(std::int64_t k, torch::optim::Optimizer& optimizer,
                    const std::vector<torch::Tensor>& member_params) const;
  void load_member(std::int64_t k, const torch::optim::Optimizer& optimizer,
                   const std::vector<torch::Tensor>& member_params);

 private:
  // The rows of hyper_, each a [K, 1] column, computed in double on the host as LibTorch computes its scalars.
  enum Row : std::int64_t {
    kLr, kMomentum, kWeightDecay, kBeta1, kOneMinusBeta1, kBeta2, kOneMinusBeta2, kEps, kAlpha, kOneMinusAlpha,
    kStepSize,        // Adam: lr / (1 - beta1^t)
    kSqrtCorrection2, // Adam: sqrt(1 - beta2^t)
    kDecay,           // AdamW: 1 - lr * weight_decay
    kActive,          // 1, or 0 for a stopped member (its gradients are ignored: they may be NaN)
    kRows
  };
  torch::Tensor hyper(Row r) const { return hyper_[r]; }  // [K, 1]
  torch::Tensor member_view(const torch::Tensor& t) const;  // [K, numel / K]
  torch::Tensor masked(const torch::Tensor& t) const;       // t [K, ...] with stopped members' rows zero
  void step_sgd(std::size_t i, const torch::Tensor& p, const torch::Tensor& g);
  void step_adam(std::size_t i, const torch::Tensor& p, const torch::Tensor& g, bool decoupled);
  void step_rmsprop(std::size_t i, const torch::Tensor& p, const torch::Tensor& g);

  std::vector<torch::Tensor> params_;
  std::vector<TrainConfig> configs_;
  std::string algorithm_;  // sgd | adam | adamw | rmsprop
  bool nesterov_ = false;
  bool any_momentum_ = false, any_weight_decay_ = false;
  torch::Tensor hyper_;                   // [kRows, K, 1] on the parameters' device
  std::vector<double> learning_rates_;    // what prepare() was given, for stopped members
  std::vector<bool> stopped_;
  bool any_stopped_ = false;  // during step(): some member is stopped (its gradients and updates are masked)
  // CUDA: pinned host buffers the hyper-parameters are copied from without waiting for the GPU. A ring, so a buffer
  // is rewritten only 64 steps later: the trainer reads its running metrics back (waiting for the GPU) every 50.
  std::vector<torch::Tensor> pinned_;
  std::int64_t steps_ = 0;  // steps prepared (SGD, which counts none: whether its buffers hold anything)
  std::vector<bool> stepped_;  // per parameter: has had a gradient (LibTorch keeps no state for one that has not)
  // Per parameter, shaped like it: SGD's and RMSprop's momentum buffer, Adam's exp_avg, and Adam's exp_avg_sq or
  // RMSprop's square_avg. Zeros to start with: SGD's first step then leaves its update in the buffer, as LibTorch's
  // copy does.
  std::vector<torch::Tensor> momentum_, exp_avg_, square_avg_;
};

}  // namespace incept
