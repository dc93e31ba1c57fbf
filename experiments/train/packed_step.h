#pragma once
// One training step of a packed network (framework/packed_model.h): each member's batch gathered from the
// training split, the forward pass, each member's loss (training_loss: main head with its label smoothing plus the
// weighted aux heads), the backward pass of their sum and the packed optimizer's update.
//
// CUDA graphs (train.cuda_graph, CUDA builds only): these networks are launch-bound on a GPU, so after three eager
// warm-up steps on a side stream the forward pass, losses, backward pass and update are captured once into a CUDA
// graph and replayed for every later batch of the same size; the batch is first copied into the graph's static
// input buffers, and the learning rates reach it through the optimizer's hyper-parameter tensor (prepare()). A
// batch of another size (an epoch's last) runs eagerly. Where capture fails, the step says why once and stays eager.
// On the CPU, and in a LibTorch build without CUDA, the step is always eager.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "experiments/data/dataset.h"
#include "experiments/train/packed_optimizer.h"
#include "framework/packed_model.h"

namespace incept {

struct PackedStepResult {
  torch::Tensor main_loss;   // [K]: each member's main-head loss (what its log records)
  torch::Tensor total_loss;  // [K]: with the aux heads (what its backward pass differentiates)
  torch::Tensor correct;     // [K]: correct predictions of each member's batch
  std::int64_t batch_size = 0;
};

class PackedStep {
 public:
  // `cuda_graph`: capture on CUDA where possible (ignored elsewhere), for batches of `batch_size` (train.batch_size:
  // an epoch's smaller last batch, and a resume that starts with it, run eagerly).
  PackedStep(PackedNetworkImpl& net, PackedOptimizer& optimizer, std::int64_t members, torch::Device device,
             bool cuda_graph, std::int64_t batch_size);
  ~PackedStep();
  PackedStep(const PackedStep&) = delete;
  PackedStep& operator=(const PackedStep&) = delete;

  // Forward pass and losses of one batch: `indices` [K, N] holds member k's sample indices at row k. An eager step
  // leaves its backward pass and update to finish(); a replayed graph has done everything. The results stay valid
  // until the next call.
  PackedStepResult run(const Split& train, const torch::Tensor& indices, const std::vector<double>& label_smoothing);
  // The backward pass and update of the batch run() computed (nothing after a graph replay).
  void finish();

  // Whether later steps of a full batch replay a captured graph; and why not, when capture was tried and failed.
  bool graphed() const;
  const std::string& fallback_reason() const { return fallback_reason_; }

 private:
  // Forward pass and losses of x [K, N, ...], y [K, N]; leaves the loss to differentiate for finish().
  PackedStepResult eager(const torch::Tensor& x, const torch::Tensor& y, const std::vector<double>& label_smoothing);
  // The step through the CUDA graph (warm-up, capture or replay); nothing when this batch must run eagerly.
  std::optional<PackedStepResult> run_graphed(const Split& train, const torch::Tensor& flat,
                                              const std::vector<std::int64_t>& shape,
                                              const std::vector<double>& label_smoothing);
  PackedNetworkImpl& net_;
  PackedOptimizer& optimizer_;
  std::int64_t members_;
  torch::Device device_;
  std::int64_t batch_size_;
  std::string fallback_reason_;
  torch::Tensor x_buf_, y_buf_;  // an eager step's gathered batch, reused across batches
  torch::Tensor pending_loss_;   // an eager step's loss, for finish()
  struct Graph;                  // CUDA only (packed_step.cpp)
  std::unique_ptr<Graph> graph_;
};

}  // namespace incept
