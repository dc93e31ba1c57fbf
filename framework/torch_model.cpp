#include "framework/torch_model.h"

#include <dlfcn.h>

#include <atomic>
#include <exception>
#include <future>

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include "platform/memory_limit.h"

namespace incept {

namespace {

// Refuses, before allocating anything, a model whose float32 weights alone exceed this machine's memory.
void check_weights_fit_in_memory(const ModelSpec& spec) {
  const double params = static_cast<double>(spec.cost().params) + static_cast<double>(spec.aux_cost().params);
  check_fits_in_memory(params * sizeof(float), fmt::format("the model's float32 weights ({:.0f} parameters)", params),
                       "reduce its sizes");
}

// OpenMP's per-thread team size, reached through the libgomp that LibTorch has loaded (incept does not link
// OpenMP itself). LibTorch's intra-op parallelism and oneDNN both size their teams from it.
struct OmpThreads {
  using Get = int (*)();
  using Set = void (*)(int);
  Get get = reinterpret_cast<Get>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  Set set = reinterpret_cast<Set>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  static const OmpThreads& instance() {
    static const OmpThreads omp;
    return omp;
  }
};

// Sets the calling thread's team size for its lifetime and restores it after.
class OneThreadScope {
 public:
  OneThreadScope() {
    at::internal::lazy_init_num_threads();  // first: it would reset the team size on first use
    const auto& omp = OmpThreads::instance();
    if (omp.get && omp.set) {
      saved_ = omp.get();
      omp.set(1);
    }
  }
  ~OneThreadScope() {
    if (saved_ > 0) OmpThreads::instance().set(saved_);
  }
  OneThreadScope(const OneThreadScope&) = delete;
  OneThreadScope& operator=(const OneThreadScope&) = delete;

 private:
  int saved_ = 0;
};

// `members` (packing): that many networks' units side by side, each seeing only its own channels.
struct ConvUnitOp final : OpModule {
  ConvUnitOp(const ConvAttrs& a, std::int64_t in_channels, std::int64_t members) : relu(a.relu) {
    conv = register_module(
        "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(members * in_channels, members * a.out, {a.kernel.h, a.kernel.w})
                                      .stride({a.stride.h, a.stride.w})
                                      .padding({a.padding.h, a.padding.w})
                                      .groups(members * a.groups)
                                      .bias(a.bias)));
    if (a.bn)
      bn = register_module("bn",
                           torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(members * a.out).eps(a.bn_eps)));
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

// Depthwise kxk (groups = channels, no bias), pointwise 1x1 [+ BN] [+ ReLU]; named like timm's legacy Xception
// SeparableConv2d halves.
struct SeparableConvOp final : OpModule {
  SeparableConvOp(const SeparableConvAttrs& a, std::int64_t in_channels, std::int64_t members) : relu(a.relu) {
    const std::int64_t channels = members * in_channels;
    depthwise = register_module(
        "depthwise", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels, {a.kernel.h, a.kernel.w})
                                           .stride({a.stride.h, a.stride.w})
                                           .padding({a.padding.h, a.padding.w})
                                           .groups(channels)
                                           .bias(false)));
    pointwise = register_module(
        "pointwise",
        torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, members * a.out, 1).groups(members).bias(a.bias)));
    if (a.bn)
      bn = register_module("bn",
                           torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(members * a.out).eps(a.bn_eps)));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor y = pointwise->forward(depthwise->forward(x));
    if (bn) y = bn->forward(y);
    return relu ? torch::relu_(y) : y;
  }
  torch::nn::Conv2d depthwise{nullptr}, pointwise{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  bool relu;
};

struct MaxPoolOp final : OpModule {
  explicit MaxPoolOp(const PoolWindow& w) : w(w) {}
  torch::Tensor forward(const torch::Tensor& x) override {
    return torch::max_pool2d(x, {w.kernel.h, w.kernel.w}, {w.stride.h, w.stride.w}, {w.padding.h, w.padding.w},
                             {1, 1}, w.ceil_mode);
  }
  PoolWindow w;
};

struct AvgPoolOp final : OpModule {
  explicit AvgPoolOp(const AvgPoolAttrs& a) : w(a.window), count_include_pad(a.count_include_pad) {}
  torch::Tensor forward(const torch::Tensor& x) override {
    return torch::avg_pool2d(x, {w.kernel.h, w.kernel.w}, {w.stride.h, w.stride.w}, {w.padding.h, w.padding.w},
                             w.ceil_mode, count_include_pad);
  }
  PoolWindow w;
  bool count_include_pad;
};

struct AdaptiveAvgPoolOp final : OpModule {
  explicit AdaptiveAvgPoolOp(Pair out) : out(out) {}
  torch::Tensor forward(const torch::Tensor& x) override {
    if (out.h == 1 && out.w == 1) return x.mean({2, 3}, /*keepdim=*/true);
    return torch::adaptive_avg_pool2d(x, {out.h, out.w});
  }
  Pair out;
};

struct DropoutOp final : OpModule {
  explicit DropoutOp(double p) : p(p) {}
  torch::Tensor forward(const torch::Tensor& x) override { return torch::dropout(x, p, is_training()); }
  double p;
};

struct FlattenOp final : OpModule {
  torch::Tensor forward(const torch::Tensor& x) override { return x.flatten(1); }
};

struct ReLUOp final : OpModule {
  torch::Tensor forward(const torch::Tensor& x) override { return torch::relu(x); }
};

// Holds its parameters directly so they are named "<layer>.weight", like torch.nn.Linear's.
struct LinearOp final : OpModule {
  LinearOp(std::int64_t in, std::int64_t out, bool bias) {
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

// Sequences and residual connections build their children with `build`: build_module for a network, the packed
// builder for a packed one (the arrangement is the same for both).
struct SequenceOp final : OpModule {
  SequenceOp(const Node& n, const NodeReport& r, const ModuleBuilder& build) {
    for (std::size_t i = 0; i < n.children.size(); ++i)
      children.push_back(register_module(n.children[i].name, build(n.children[i], r.children[i])));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor y = x;
    for (auto& c : children) y = c->forward(y);
    return y;
  }
  std::vector<std::shared_ptr<OpModule>> children;
};

struct ConcatOp final : OpModule {
  ConcatOp(const Node& n, const NodeReport& r) {
    for (std::size_t i = 0; i < n.children.size(); ++i)
      branches.push_back(register_module(n.children[i].name, build_module(n.children[i], r.children[i])));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    if (parallel && branches.size() > 1) return torch::cat(forward_parallel(x), 1);
    std::vector<torch::Tensor> outs;
    outs.reserve(branches.size());
    for (auto& b : branches) outs.push_back(b->forward(x));
    return torch::cat(outs, 1);
  }

  // The calling thread and the inter-op pool's threads (at::launch, which carries grad mode and the other
  // thread-local state over) take branches from a shared counter, each with one intra-op thread, so no core
  // runs two OpenMP teams. Results land in branch order, so the concatenation is the sequential one.
  std::vector<torch::Tensor> forward_parallel(const torch::Tensor& x) {
    const std::size_t n = branches.size();
    std::vector<torch::Tensor> outs(n);
    std::vector<std::exception_ptr> errors(n);
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      OneThreadScope one_thread;
      for (std::size_t i; (i = next.fetch_add(1)) < n;) {
        try {
          outs[i] = branches[i]->forward(x);
        } catch (...) {
          errors[i] = std::current_exception();
        }
      }
    };
    const int helpers = std::min<int>(static_cast<int>(n) - 1, std::max(1, at::get_num_threads() - 1));
    std::vector<std::promise<void>> done(static_cast<std::size_t>(helpers));
    for (auto& d : done)
      at::launch([&work, &d] {
        work();
        d.set_value();
      });
    work();
    for (auto& d : done) d.get_future().wait();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
    return outs;
  }

  std::vector<std::shared_ptr<OpModule>> branches;
  bool parallel = false;
};

// shortcut(x) + scale * body(x) [-> ReLU], the shortcut being the identity when the node has none. The scaled sum
// is one fused op (torch::add's alpha), as analysis counts it.
struct ResidualOp final : OpModule {
  ResidualOp(const Node& n, const ResidualAttrs& a, const NodeReport& r, const ModuleBuilder& build)
      : scale(a.scale), relu(a.relu) {
    body = register_module(n.children[0].name, build(n.children[0], r.children[0]));
    if (n.children.size() > 1) shortcut = register_module(n.children[1].name, build(n.children[1], r.children[1]));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor y = torch::add(shortcut ? shortcut->forward(x) : x, body->forward(x), scale);
    return relu ? torch::relu_(y) : y;
  }
  std::shared_ptr<OpModule> body, shortcut;
  double scale;
  bool relu;
};

}  // namespace

std::shared_ptr<OpModule> build_module(const Node& n, const NodeReport& r) {
  return std::visit(
      Overloaded{
          [&](const ConvAttrs& a) -> std::shared_ptr<OpModule> { return conv_unit_module(a, r.input.channels()); },
          [&](const SeparableConvAttrs& a) -> std::shared_ptr<OpModule> {
            return separable_conv_module(a, r.input.channels());
          },
          [&](const MaxPoolAttrs& a) -> std::shared_ptr<OpModule> { return std::make_shared<MaxPoolOp>(a.window); },
          [&](const AvgPoolAttrs& a) -> std::shared_ptr<OpModule> { return std::make_shared<AvgPoolOp>(a); },
          [&](const AdaptiveAvgPoolAttrs& a) -> std::shared_ptr<OpModule> {
            return std::make_shared<AdaptiveAvgPoolOp>(a.out);
          },
          [&](const DropoutAttrs& a) -> std::shared_ptr<OpModule> { return std::make_shared<DropoutOp>(a.p); },
          [&](const FlattenAttrs&) -> std::shared_ptr<OpModule> { return std::make_shared<FlattenOp>(); },
          [&](const ReLUAttrs&) -> std::shared_ptr<OpModule> { return std::make_shared<ReLUOp>(); },
          [&](const LinearAttrs& a) -> std::shared_ptr<OpModule> {
            return std::make_shared<LinearOp>(r.input.numel(), a.out, a.bias);
          },
          [&](const SequenceAttrs&) -> std::shared_ptr<OpModule> { return sequence_module(n, r, build_module); },
          [&](const ConcatAttrs&) -> std::shared_ptr<OpModule> { return std::make_shared<ConcatOp>(n, r); },
          [&](const ResidualAttrs& a) -> std::shared_ptr<OpModule> {
            return residual_module(n, a, r, build_module);
          },
      },
      n.op);
}

std::shared_ptr<OpModule> sequence_module(const Node& n, const NodeReport& r, const ModuleBuilder& build) {
  return std::make_shared<SequenceOp>(n, r, build);
}

std::shared_ptr<OpModule> residual_module(const Node& n, const ResidualAttrs& a, const NodeReport& r,
                                          const ModuleBuilder& build) {
  return std::make_shared<ResidualOp>(n, a, r, build);
}

std::shared_ptr<OpModule> conv_unit_module(const ConvAttrs& a, std::int64_t in_channels, std::int64_t members) {
  return std::make_shared<ConvUnitOp>(a, in_channels, members);
}

std::shared_ptr<OpModule> separable_conv_module(const SeparableConvAttrs& a, std::int64_t in_channels,
                                                std::int64_t members) {
  return std::make_shared<SeparableConvOp>(a, in_channels, members);
}

void LayerStack::add_layer(const std::string& name, std::shared_ptr<OpModule> layer) {
  layers_.push_back(register_module(name, std::move(layer)));
}

void LayerStack::add_aux(const std::string& name, std::shared_ptr<OpModule> head, std::size_t at, double weight) {
  aux_.push_back({register_module(name, std::move(head)), at, weight});
}

torch::Tensor LayerStack::run(const torch::Tensor& x) {
  torch::Tensor y = x;
  for (auto& l : layers_) y = l->forward(y);
  return y;
}

NetworkImpl::NetworkImpl(const ModelSpec& spec) {
  check_weights_fit_in_memory(spec);
  for (const auto& layer : spec.layers) add_layer(layer.name, build_module(layer.ir, layer.report));
  for (const auto& a : spec.aux) add_aux(a.head.name, build_module(a.head.ir, a.head.report), a.at_index, a.weight);
}

ForwardResult LayerStack::run_train(const torch::Tensor& x) {
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

void NetworkImpl::set_parallel_branches(bool on) {
  for (const auto& m : modules(/*include_self=*/false))
    if (auto* c = dynamic_cast<ConcatOp*>(m.get())) c->parallel = on;
}

std::int64_t count_parameters(const torch::nn::Module& module) {
  std::int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace incept
