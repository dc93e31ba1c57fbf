#include "framework/packed_model.h"

#include <stdexcept>

#include <fmt/format.h>

namespace incept {

namespace {

// A feature map [N, K * C, H, W] seen per member: [N, K, C, H, W].
torch::Tensor per_member(const torch::Tensor& x, std::int64_t k) {
  return x.reshape({x.size(0), k, x.size(1) / k, x.size(2), x.size(3)});
}

// [N, K * C, H, W] -> [K, N, C * H * W]: each member's flatten, as its own network's x.flatten(1).
torch::Tensor flatten_members(const torch::Tensor& x, std::int64_t k) {
  if (x.dim() == 3) return x;  // already features
  return x.reshape({x.size(0), k, -1}).transpose(0, 1);
}

// torch::dropout's arithmetic (a contiguous mask of bernoulli(1 - p) draws, divided by 1 - p, times the input),
// with each member's mask drawn from its own generator in the order its own run would draw it.
struct PackedDropout final : OpModule {
  PackedDropout(double p, std::int64_t k, std::shared_ptr<MemberGenerators> generators)
      : p(p), k(k), generators(std::move(generators)) {}
  torch::Tensor forward(const torch::Tensor& x) override {
    if (!is_training() || p == 0) return x;
    if (generators->generators.empty() || !x.is_cpu()) return torch::dropout(x, p, true);
    std::vector<torch::Tensor> masks;
    masks.reserve(static_cast<std::size_t>(k));
    const bool features = x.dim() == 3;
    for (std::int64_t m = 0; m < k; ++m) {
      const auto member_shape = features ? x[m].sizes().vec() : per_member(x, k).select(1, m).sizes().vec();
      torch::Tensor mask = torch::empty(member_shape, x.options().memory_format(torch::MemoryFormat::Contiguous));
      mask.bernoulli_(1 - p, generators->generators[static_cast<std::size_t>(m)]);
      if (p < 1) mask.div_(1 - p);
      masks.push_back(mask);
    }
    // Features: [K, N, F]; feature maps: stacked along a member axis after N, then merged into the channels.
    torch::Tensor mask = features ? torch::stack(masks, 0) : torch::stack(masks, 1).reshape(x.sizes());
    return x * mask;
  }
  double p;
  std::int64_t k;
  std::shared_ptr<MemberGenerators> generators;
};

struct PackedFlatten final : OpModule {
  explicit PackedFlatten(std::int64_t k) : k(k) {}
  torch::Tensor forward(const torch::Tensor& x) override { return flatten_members(x, k); }
  std::int64_t k;
};

// Parameters named "<layer>.weight" / "<layer>.bias" like the member's LinearOp, shaped [K, out, in] / [K, out].
struct PackedLinear final : OpModule {
  PackedLinear(std::int64_t in, std::int64_t out, bool has_bias, std::int64_t k) : k(k) {
    weight = register_parameter("weight", torch::zeros({k, out, in}));
    if (has_bias) bias = register_parameter("bias", torch::zeros({k, out}));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    const torch::Tensor features = flatten_members(x, k);  // [K, N, in]
    if (bias.defined()) return torch::baddbmm(bias.unsqueeze(1), features, weight.transpose(1, 2));
    return torch::bmm(features, weight.transpose(1, 2));
  }
  std::int64_t k;
  torch::Tensor weight, bias;
};

std::shared_ptr<OpModule> build_packed(const Node& n, const NodeReport& r, std::int64_t k,
                                       const std::shared_ptr<MemberGenerators>& generators);

// Each member's branches concatenated along its own channels: [N, K, C_b, H, W] joined on C, then merged back.
struct PackedConcat final : OpModule {
  PackedConcat(const Node& n, const NodeReport& r, std::int64_t k, const std::shared_ptr<MemberGenerators>& g) : k(k) {
    for (std::size_t i = 0; i < n.children.size(); ++i)
      branches.push_back(register_module(n.children[i].name, build_packed(n.children[i], r.children[i], k, g)));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    std::vector<torch::Tensor> outs;
    outs.reserve(branches.size());
    for (auto& b : branches) outs.push_back(b->forward(x));
    if (outs.front().dim() == 3) return torch::cat(outs, 2);  // features [K, N, F_b]
    for (auto& o : outs) o = per_member(o, k);
    torch::Tensor y = torch::cat(outs, 2);
    return y.reshape({y.size(0), -1, y.size(3), y.size(4)});
  }
  std::int64_t k;
  std::vector<std::shared_ptr<OpModule>> branches;
};

std::shared_ptr<OpModule> build_packed(const Node& n, const NodeReport& r, std::int64_t k,
                                       const std::shared_ptr<MemberGenerators>& generators) {
  const ModuleBuilder children = [k, generators](const Node& c, const NodeReport& cr) {
    return build_packed(c, cr, k, generators);
  };
  return std::visit(
      Overloaded{
          [&](const ConvAttrs& a) -> std::shared_ptr<OpModule> { return conv_unit_module(a, r.input.channels(), k); },
          [&](const SeparableConvAttrs& a) -> std::shared_ptr<OpModule> {
            return separable_conv_module(a, r.input.channels(), k);
          },
          // Per channel: the member's own module applies to [N, K * C, H, W] unchanged.
          [&](const MaxPoolAttrs&) -> std::shared_ptr<OpModule> { return build_module(n, r); },
          [&](const AvgPoolAttrs&) -> std::shared_ptr<OpModule> { return build_module(n, r); },
          [&](const AdaptiveAvgPoolAttrs&) -> std::shared_ptr<OpModule> { return build_module(n, r); },
          [&](const ReLUAttrs&) -> std::shared_ptr<OpModule> { return build_module(n, r); },
          [&](const DropoutAttrs& a) -> std::shared_ptr<OpModule> {
            return std::make_shared<PackedDropout>(a.p, k, generators);
          },
          [&](const FlattenAttrs&) -> std::shared_ptr<OpModule> { return std::make_shared<PackedFlatten>(k); },
          [&](const LinearAttrs& a) -> std::shared_ptr<OpModule> {
            return std::make_shared<PackedLinear>(r.input.numel(), a.out, a.bias, k);
          },
          [&](const SequenceAttrs&) -> std::shared_ptr<OpModule> { return sequence_module(n, r, children); },
          [&](const ConcatAttrs&) -> std::shared_ptr<OpModule> {
            return std::make_shared<PackedConcat>(n, r, k, generators);
          },
          [&](const ResidualAttrs& a) -> std::shared_ptr<OpModule> { return residual_module(n, a, r, children); },
      },
      n.op);
}

// Every parameter and buffer of a module by name.
std::vector<std::pair<std::string, torch::Tensor>> named_tensors(torch::nn::Module& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : m.named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : m.named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

}  // namespace

torch::Tensor pack_input(const torch::Tensor& x) {
  if (x.dim() != 5) return x;  // [K, N, F]: already the features layout
  return x.transpose(0, 1).reshape({x.size(1), x.size(0) * x.size(2), x.size(3), x.size(4)});
}

PackedNetworkImpl::PackedNetworkImpl(const ModelSpec& spec, std::int64_t members)
    : members_(members), generators_(std::make_shared<MemberGenerators>()) {
  if (members < 1) throw std::invalid_argument("a packed network needs at least one member");
  for (const auto& layer : spec.layers) add_layer(layer.name, build_packed(layer.ir, layer.report, members, generators_));
  for (const auto& a : spec.aux)
    add_aux(a.head.name, build_packed(a.head.ir, a.head.report, members, generators_), a.at_index, a.weight);
}

torch::Tensor PackedNetworkImpl::member_slice(const torch::Tensor& packed, std::int64_t k,
                                              at::IntArrayRef member_shape) const {
  std::int64_t member_numel = 1;
  for (std::int64_t d : member_shape) member_numel *= d;
  if (packed.numel() == member_numel) return packed.view(member_shape);  // one counter for all (num_batches_tracked)
  if (packed.numel() != members_ * member_numel || !packed.is_contiguous())
    throw std::logic_error(fmt::format("packed tensor of {} elements does not hold {} members of {}", packed.numel(),
                                       members_, member_numel));
  return packed.view({members_, member_numel})[k].view(member_shape);
}

void PackedNetworkImpl::for_each_member_tensor(std::int64_t k, torch::nn::Module& net,
                                               const std::function<void(torch::Tensor, torch::Tensor)>& copy) {
  torch::NoGradGuard no_grad;
  auto packed = named_tensors(*this);
  auto member = named_tensors(net);
  if (packed.size() != member.size())
    throw std::logic_error("packed network: the member's network is not of its spec");
  for (std::size_t i = 0; i < packed.size(); ++i) {
    if (packed[i].first != member[i].first)
      throw std::logic_error("packed network: the member's " + member[i].first + " is out of order");
    copy(member_slice(packed[i].second, k, member[i].second.sizes()), member[i].second);
  }
}

void PackedNetworkImpl::load_member(std::int64_t k, torch::nn::Module& net) {
  for_each_member_tensor(k, net, [](torch::Tensor slice, torch::Tensor mine) { slice.copy_(mine); });
}

void PackedNetworkImpl::store_member(std::int64_t k, torch::nn::Module& net) {
  for_each_member_tensor(k, net, [](torch::Tensor slice, torch::Tensor mine) { mine.copy_(slice); });
}

void PackedNetworkImpl::set_member_generator(std::int64_t k, torch::Generator generator) {
  auto& g = generators_->generators;
  if (g.size() < static_cast<std::size_t>(members_)) g.resize(static_cast<std::size_t>(members_));
  g[static_cast<std::size_t>(k)] = std::move(generator);
}

const torch::Generator& PackedNetworkImpl::member_generator(std::int64_t k) const {
  return generators_->generators.at(static_cast<std::size_t>(k));
}

}  // namespace incept
