#pragma once
// Optimizers, learning-rate schedules and weight initialisation chosen by the [train] section.
#include <memory>

#include <torch/torch.h>

#include "experiments/config/train_config.h"

namespace incept {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& cfg,
                                                        const std::vector<torch::Tensor>& params);

// The learning rate at a fractional epoch (epoch + batch / batches), schedules and warmup included.
double learning_rate_at(const TrainConfig& cfg, double epoch);

void set_learning_rate(torch::optim::Optimizer& opt, double lr);

// Initialises conv and linear weights (and zeroes their biases) as `cfg.init` says; batch norm keeps gamma=1,
// beta=0. "default" leaves LibTorch's initialisation untouched.
void initialize_weights(torch::nn::Module& model, const TrainConfig& cfg);

}  // namespace incept
