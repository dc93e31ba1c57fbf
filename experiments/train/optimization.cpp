#include "experiments/train/optimization.h"

#include <cmath>

namespace incept {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& c,
                                                        const std::vector<torch::Tensor>& params) {
  namespace optim = torch::optim;
  if (c.optimizer == "sgd")
    return std::make_unique<optim::SGD>(
        params, optim::SGDOptions(c.lr).momentum(c.momentum).nesterov(c.nesterov).weight_decay(c.weight_decay));
  if (c.optimizer == "rmsprop")
    return std::make_unique<optim::RMSprop>(
        params, optim::RMSpropOptions(c.lr).alpha(c.alpha).eps(c.eps).momentum(c.momentum).weight_decay(c.weight_decay));
  if (c.optimizer == "adam")
    return std::make_unique<optim::Adam>(
        params, optim::AdamOptions(c.lr).betas({c.beta1, c.beta2}).eps(c.eps).weight_decay(c.weight_decay));
  return std::make_unique<optim::AdamW>(
      params, optim::AdamWOptions(c.lr).betas({c.beta1, c.beta2}).eps(c.eps).weight_decay(c.weight_decay));
}

double learning_rate_at(const TrainConfig& c, double epoch) {
  double lr = c.lr;
  if (c.schedule == "step") {
    lr *= std::pow(c.gamma, std::floor(epoch / c.step_size));
  } else if (c.schedule == "exponential") {
    lr *= std::pow(c.gamma, epoch);
  } else if (c.schedule == "cosine") {
    double progress = std::min(1.0, epoch / static_cast<double>(c.epochs));
    lr = c.min_lr + 0.5 * (c.lr - c.min_lr) * (1.0 + std::cos(M_PI * progress));
  }
  if (c.warmup_epochs > 0 && epoch < c.warmup_epochs) lr *= epoch / c.warmup_epochs;
  return lr;
}

void set_learning_rate(torch::optim::Optimizer& opt, double lr) {
  for (auto& group : opt.param_groups()) group.options().set_lr(lr);
}

namespace {

void truncated_normal_(torch::Tensor& w, double std) {
  // Resample anything beyond two standard deviations, as TensorFlow's truncated_normal does.
  w.normal_(0.0, std);
  for (int round = 0; round < 100; ++round) {
    torch::Tensor outside = w.abs() > 2 * std;
    if (!outside.any().item<bool>()) return;
    w.masked_scatter_(outside, torch::empty_like(w).normal_(0.0, std).masked_select(outside));
  }
  w.clamp_(-2 * std, 2 * std);
}

}  // namespace

void initialize_weights(torch::nn::Module& model, const TrainConfig& c) {
  if (c.init == "default") return;
  torch::NoGradGuard no_grad;
  for (auto& item : model.named_parameters()) {
    const std::string& name = item.key();
    torch::Tensor& p = item.value();
    if (name.find(".bn.") != std::string::npos) continue;  // batch norm keeps its identity start
    if (p.dim() < 2) {
      p.zero_();  // conv / linear biases
      continue;
    }
    if (c.init == "normal") p.normal_(0.0, c.init_std);
    else if (c.init == "truncated_normal") truncated_normal_(p, c.init_std);
    else if (c.init == "kaiming") torch::nn::init::kaiming_normal_(p, 0.0, torch::kFanOut, torch::kReLU);
    else if (c.init == "xavier") torch::nn::init::xavier_uniform_(p);
  }
}

}  // namespace incept
