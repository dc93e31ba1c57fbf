#include "framework/torch_model.h"

#include <fmt/format.h>

#include "framework/memory_limit.h"

namespace incept {

namespace {

// Refuses, before allocating anything, a model whose float32 weights alone exceed this machine's memory.
void check_weights_fit_in_memory(const ModelSpec& spec) {
  const double params = static_cast<double>(spec.cost().params) + static_cast<double>(spec.aux_cost().params);
  check_fits_in_memory(params * sizeof(float), fmt::format("the model's float32 weights ({:.0f} parameters)", params),
                       "reduce its sizes");
}

struct ConvUnitImpl : OpModule {
  ConvUnitImpl(const ConvAttrs& a, std::int64_t in_channels) : relu(a.relu) {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, a.out, {a.kernel.h, a.kernel.w})
                                                         .stride({a.stride.h, a.stride.w})
                                                         .padding({a.padding.h, a.padding.w})
                                                         .groups(a.groups)
                                                         .bias(a.bias)));
    if (a.bn) bn = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(a.out).eps(a.bn_eps)));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor y = conv->forward(x);
    if (bn) y = bn->forward(y);
    return relu ? torch::relu_(y) : y;
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  bool relu;
};

struct PoolImpl : OpModule {
  explicit PoolImpl(const Node& n) : kind(n.kind), a(n.pool) {}
  torch::Tensor forward(const torch::Tensor& x) override {
    if (kind == OpKind::MaxPool)
      return torch::max_pool2d(x, {a.kernel.h, a.kernel.w}, {a.stride.h, a.stride.w}, {a.padding.h, a.padding.w},
                               {1, 1}, a.ceil_mode);
    return torch::avg_pool2d(x, {a.kernel.h, a.kernel.w}, {a.stride.h, a.stride.w}, {a.padding.h, a.padding.w},
                             a.ceil_mode, a.count_include_pad);
  }
  OpKind kind;
  PoolAttrs a;
};

struct AdaptiveAvgPoolImpl : OpModule {
  explicit AdaptiveAvgPoolImpl(Pair out) : out(out) {}
  torch::Tensor forward(const torch::Tensor& x) override {
    if (out.h == 1 && out.w == 1) return x.mean({2, 3}, /*keepdim=*/true);
    return torch::adaptive_avg_pool2d(x, {out.h, out.w});
  }
  Pair out;
};

struct DropoutImpl : OpModule {
  explicit DropoutImpl(double p) : p(p) {}
  torch::Tensor forward(const torch::Tensor& x) override { return torch::dropout(x, p, is_training()); }
  double p;
};

struct FlattenImpl : OpModule {
  torch::Tensor forward(const torch::Tensor& x) override { return x.flatten(1); }
};

struct ReLUImpl : OpModule {
  torch::Tensor forward(const torch::Tensor& x) override { return torch::relu(x); }
};

// Holds its parameters directly so they are named "<layer>.weight", like torch.nn.Linear's.
struct LinearImpl : OpModule {
  LinearImpl(std::int64_t in, std::int64_t out, bool bias) {
    torch::nn::Linear reference(torch::nn::LinearOptions(in, out).bias(bias));  // LibTorch's default init
    weight = register_parameter("weight", reference->weight.detach().clone());
    if (bias) this->bias = register_parameter("bias", reference->bias.detach().clone());
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor flat = x.dim() > 2 ? x.flatten(1) : x;
    return torch::nn::functional::linear(flat, weight, bias);
  }
  torch::Tensor weight, bias;
};

struct SequenceImpl : OpModule {
  SequenceImpl(const Node& n, const NodeReport& r) {
    for (std::size_t i = 0; i < n.children.size(); ++i)
      children.push_back(register_module(n.children[i].name, build_module(n.children[i], r.children[i])));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor y = x;
    for (auto& c : children) y = c->forward(y);
    return y;
  }
  std::vector<std::shared_ptr<OpModule>> children;
};

struct ConcatImpl : OpModule {
  ConcatImpl(const Node& n, const NodeReport& r) {
    for (std::size_t i = 0; i < n.children.size(); ++i)
      branches.push_back(register_module(n.children[i].name, build_module(n.children[i], r.children[i])));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    std::vector<torch::Tensor> outs;
    outs.reserve(branches.size());
    for (auto& b : branches) outs.push_back(b->forward(x));
    return torch::cat(outs, 1);
  }
  std::vector<std::shared_ptr<OpModule>> branches;
};

}  // namespace

std::shared_ptr<OpModule> build_module(const Node& n, const NodeReport& r) {
  switch (n.kind) {
    case OpKind::Conv: return std::make_shared<ConvUnitImpl>(n.conv, r.input.channels());
    case OpKind::MaxPool:
    case OpKind::AvgPool: return std::make_shared<PoolImpl>(n);
    case OpKind::AdaptiveAvgPool: return std::make_shared<AdaptiveAvgPoolImpl>(n.adaptive_out);
    case OpKind::Dropout: return std::make_shared<DropoutImpl>(n.dropout_p);
    case OpKind::Flatten: return std::make_shared<FlattenImpl>();
    case OpKind::ReLU: return std::make_shared<ReLUImpl>();
    case OpKind::Linear: return std::make_shared<LinearImpl>(r.input.numel(), n.linear_out, n.linear_bias);
    case OpKind::Sequence: return std::make_shared<SequenceImpl>(n, r);
    case OpKind::Concat: return std::make_shared<ConcatImpl>(n, r);
  }
  throw std::logic_error("unknown IR node kind");
}

NetworkImpl::NetworkImpl(const ModelSpec& spec) {
  check_weights_fit_in_memory(spec);
  for (const auto& layer : spec.layers) layers_.push_back(register_module(layer.name, build_module(layer.ir, layer.report)));
  for (const auto& a : spec.aux)
    aux_.push_back({register_module(a.head.name, build_module(a.head.ir, a.head.report)), a.at_index, a.weight});
}

torch::Tensor NetworkImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = x;
  for (auto& l : layers_) y = l->forward(y);
  return y;
}

ForwardResult NetworkImpl::forward_train(const torch::Tensor& x) {
  ForwardResult out;
  torch::Tensor y = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    y = layers_[i]->forward(y);
    if (!is_training()) continue;
    for (auto& a : aux_) {
      if (a.at != i) continue;
      out.aux.push_back(a.head->forward(y));
      out.aux_weights.push_back(a.weight);
    }
  }
  out.logits = y;
  return out;
}

std::int64_t count_parameters(const torch::nn::Module& module) {
  std::int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace incept
