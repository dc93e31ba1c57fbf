#pragma once
// K networks of one architecture trained as one (the HFTA technique, MLSys'21): a launch-bound GPU runs one kernel
// per layer for all K members instead of one per member. Every member keeps its own numbers:
//
//   convolution     one grouped convolution: member k's channels are the k-th block of K * C channels, so
//                   groups = K * (the member's groups) never mixes two members;
//   batch norm      one BatchNorm2d over the K * C channels: its statistics are per channel, hence per member;
//   linear          one batched matmul over [K, N, F] with a [K, out, in] weight;
//   pools, ReLU,    per channel or per element, applied to the packed tensor as they are;
//   residual add
//   dropout         each member's mask drawn from its own generator on the CPU, as its own run would draw it
//                   (on CUDA one mask for the packed tensor: the members' masks are independent, not the ones
//                   their runs alone would draw).
//
// Layouts: a feature map is [N, K * C, H, W] (member-major channels); after a flatten or a linear layer the
// features are [K, N, F]. The network takes [K, N, C, H, W] (member k's own batch at [k]) and returns logits
// [K, N, classes]. Every parameter and buffer is member-major along its first dimension (conv, batch norm:
// [K * C, ...]; linear: [K, out, in]), so member k's slice is `tensor.view({K, -1})[k]`: load_member/store_member
// copy a member between the packed network and a Network of the same spec (same names), which is how members start
// from their own initialisation and how each member's checkpoint is an ordinary one. BatchNorm's
// num_batches_tracked is one counter for all: the members step together.
//
// Gradients stay per member as well: a member whose loss turns NaN spreads NaN only into its own slices (checked by
// tests/test_packing.cpp), so a diverged member can be stopped while the others continue.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "framework/model_spec.h"
#include "framework/torch_model.h"

namespace incept {

// A packed network's forward result: logits [K, N, classes], each aux head's [K, N, classes] (training mode).
using PackedForward = ForwardResult;

// [K, N, C, H, W] (or [K, N, F]) -> the packed layout [N, K * C, H, W] (features stay [K, N, F]).
torch::Tensor pack_input(const torch::Tensor& x);

// The members' dropout generators (CPU), shared by the packed dropout layers.
struct MemberGenerators {
  std::vector<torch::Generator> generators;  // empty: draw from the default generator (CUDA)
};

class PackedNetworkImpl : public LayerStack {
 public:
  PackedNetworkImpl(const ModelSpec& spec, std::int64_t members);

  std::int64_t members() const { return members_; }
  // x: [K, N, C, H, W], member k's batch at x[k]. Returns [K, N, classes].
  torch::Tensor forward(const torch::Tensor& x) { return run(pack_input(x)); }
  PackedForward forward_train(const torch::Tensor& x) { return run_train(pack_input(x)); }

  // Copies member k's parameters and buffers from `net` (a Network of the same spec) into the packed tensors,
  // and back. The generator, when given, is the one member k's dropout draws from (CPU only): a member's own run
  // draws dropout masks from the default generator as it stands after the network's initialisation.
  void load_member(std::int64_t k, torch::nn::Module& net);
  void store_member(std::int64_t k, torch::nn::Module& net);
  void set_member_generator(std::int64_t k, torch::Generator generator);
  const torch::Generator& member_generator(std::int64_t k) const;

  // Member k's view of a packed parameter or buffer (shape as in the member's network): gradients, tests.
  torch::Tensor member_slice(const torch::Tensor& packed, std::int64_t k, at::IntArrayRef member_shape) const;

 private:
  // Copies between member k's slices and `net`'s tensors of the same names, in the direction `copy` takes:
  // copy(packed slice, member tensor).
  void for_each_member_tensor(std::int64_t k, torch::nn::Module& net,
                              const std::function<void(torch::Tensor, torch::Tensor)>& copy);
  std::int64_t members_;
  std::shared_ptr<MemberGenerators> generators_;
};
TORCH_MODULE(PackedNetwork);

}  // namespace incept
