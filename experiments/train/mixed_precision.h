#pragma once
// CUDA mixed precision: float16 autocast for the forward pass plus dynamic loss scaling, so small float16
// gradients do not flush to zero. LibTorch's C++ API has autocast but no GradScaler; this is the same algorithm
// (scale, unscale with an inf/NaN check, skip the step and halve on overflow, double after a run of good steps).
#include <torch/torch.h>

namespace incept {

// Enables CUDA autocast for its lifetime (no-op when `enabled` is false).
class AutocastScope {
 public:
  explicit AutocastScope(bool enabled);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_;
  bool previous_ = false;
};

class GradScaler {
 public:
  explicit GradScaler(bool enabled, double initial_scale = 65536.0, int growth_interval = 2000);
  torch::Tensor scale(const torch::Tensor& loss) const;
  // Unscales the gradients of `optimizer`, steps it unless they overflowed, and updates the scale.
  // Returns false when the step was skipped.
  bool step(torch::optim::Optimizer& optimizer);
  double current_scale() const { return scale_; }
  int good_steps() const { return good_steps_; }
  // Continues from a checkpointed scale instead of the initial one.
  void restore(double scale, int good_steps);

 private:
  bool enabled_;
  double scale_;
  int growth_interval_;
  int good_steps_ = 0;
};

}  // namespace incept
