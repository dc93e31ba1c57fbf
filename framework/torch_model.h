#pragma once
// Builds a LibTorch module from a resolved ModelSpec. Module and parameter names follow the IR
// ("inception1.branch3x3.reduce.conv.weight"), so a checkpoint reads like the config.
#include <functional>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "framework/model_spec.h"

namespace incept {

// Every IR node becomes one of these (framework/torch_model.cpp: ConvUnitOp, MaxPoolOp, ..., ConcatOp, ResidualOp);
// `forward` maps a batch to a batch. The node kinds are known only at run time, from the config, so sequences,
// concatenations and the network hold children of any kind and call them through this base: the dispatch has to be
// dynamic. LibTorch's own container for that, torch::nn::Sequential over AnyModule, would erase the type as well
// and box each call's tensor and result in an AnyValue; one virtual tensor-to-tensor `forward` is the typed form.
// For the same reason the node modules are not XImpl classes with TORCH_MODULE holders: only this base ever holds
// them, so a holder per kind would add nothing. Network, used directly, follows the holder idiom.
struct OpModule : torch::nn::Module {
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
};

struct ForwardResult {
  torch::Tensor logits;
  std::vector<torch::Tensor> aux;  // one per aux head, in config order; empty in eval mode
  std::vector<double> aux_weights;
};

// A model's layers in order and its aux heads, each registered under its config name: what a network (and a packed
// network, framework/packed_model.h) runs.
class LayerStack : public torch::nn::Module {
 protected:
  // Registers `layer` (the next one) or an aux head reading the output of layer `at`.
  void add_layer(const std::string& name, std::shared_ptr<OpModule> layer);
  void add_aux(const std::string& name, std::shared_ptr<OpModule> head, std::size_t at, double weight);
  // The main path only.
  torch::Tensor run(const torch::Tensor& x);
  // Main path plus, in training mode, the aux heads' outputs.
  ForwardResult run_train(const torch::Tensor& x);

 private:
  struct Aux {
    std::shared_ptr<OpModule> head;
    std::size_t at;
    double weight;
  };
  std::vector<std::shared_ptr<OpModule>> layers_;
  std::vector<Aux> aux_;
};

class NetworkImpl : public LayerStack {
 public:
  explicit NetworkImpl(const ModelSpec& spec);
  // The main path only (what evaluation and inference use).
  torch::Tensor forward(const torch::Tensor& x) { return run(x); }
  // Main path plus, in training mode, the aux heads' outputs.
  ForwardResult forward_train(const torch::Tensor& x) { return run_train(x); }
  // Runs the branches of every Inception block (every concatenation) concurrently on the CPU: each branch on
  // one core with single-threaded kernels, instead of one branch after another with every core on each kernel.
  // Only the forward pass is concurrent: LibTorch's autograd runs a CPU backward pass on one thread.
  void set_parallel_branches(bool on);
};
TORCH_MODULE(Network);

std::shared_ptr<OpModule> build_module(const Node& node, const NodeReport& report);

// Sequences and residual connections, their children built by `build` (build_module for a network; a packed network
// passes its own builder, framework/packed_model.cpp).
using ModuleBuilder = std::function<std::shared_ptr<OpModule>(const Node&, const NodeReport&)>;
std::shared_ptr<OpModule> sequence_module(const Node& n, const NodeReport& r, const ModuleBuilder& build);
std::shared_ptr<OpModule> residual_module(const Node& n, const ResidualAttrs& a, const NodeReport& r,
                                          const ModuleBuilder& build);

// The conv unit and the depthwise-separable convolution for `members` networks packed into one
// (framework/packed_model.h): members x the channels, and groups multiplied by `members`, so no member's filters see
// another's channels. members = 1 is the module build_module makes.
std::shared_ptr<OpModule> conv_unit_module(const ConvAttrs& a, std::int64_t in_channels, std::int64_t members = 1);
std::shared_ptr<OpModule> separable_conv_module(const SeparableConvAttrs& a, std::int64_t in_channels,
                                                std::int64_t members = 1);

// Sum of numel() over parameters (the number that must equal the IR's count).
std::int64_t count_parameters(const torch::nn::Module& module);

}  // namespace incept
