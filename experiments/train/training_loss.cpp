#include "experiments/train/training_loss.h"

namespace incept {

TrainingLoss training_loss(const ForwardResult& f, const torch::Tensor& labels, double label_smoothing) {
  auto ce = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(label_smoothing);
  TrainingLoss l;
  l.main = torch::nn::functional::cross_entropy(f.logits, labels, ce);
  l.total = l.main;
  for (std::size_t i = 0; i < f.aux.size(); ++i)
    l.total = l.total + f.aux_weights[i] * torch::nn::functional::cross_entropy(f.aux[i], labels, ce);
  return l;
}

}  // namespace incept
