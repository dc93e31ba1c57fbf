#pragma once
// The loss a training step minimises, shared by the trainer and its tests.
#include <torch/torch.h>

#include "framework/torch_model.h"

namespace incept {

struct TrainingLoss {
  torch::Tensor main;   // the main head's cross entropy: the training loss the run log records
  torch::Tensor total;  // main + weight * cross entropy of each aux head: what backward() differentiates
};

// Cross entropy (with `label_smoothing`) of the main logits, plus each aux head's cross entropy times its
// loss weight (`model.aux[].weight`). `f.aux` is empty in eval mode, where total is main.
TrainingLoss training_loss(const ForwardResult& f, const torch::Tensor& labels, double label_smoothing);

}  // namespace incept
