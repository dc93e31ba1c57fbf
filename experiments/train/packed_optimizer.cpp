#include "experiments/train/packed_optimizer.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include <fmt/format.h>

namespace incept {

namespace {

// The key LibTorch's optimizers file a parameter's state under: the TensorImpl's address, as a string in LibTorch
// 1.13 (what c10::guts::to_string prints) and as the pointer itself in 2.x.
template <class StateMap>
typename StateMap::key_type state_key(const StateMap&, const torch::Tensor& p) {
  using Key = typename StateMap::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;
    text << p.unsafeGetTensorImpl();
    return text.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

// The state `optimizer` holds for `p` as a `State`, or nullptr when it holds none (or, with other_kind_ok, one of
// another kind).
template <class State>
const State* state_of(const torch::optim::Optimizer& optimizer, const torch::Tensor& p, bool other_kind_ok = false) {
  const auto& states = optimizer.state();
  auto it = states.find(state_key(states, p));
  if (it == states.end()) return nullptr;
  const auto* s = dynamic_cast<const State*>(it->second.get());
  if (!s && !other_kind_ok) throw std::logic_error("PackedOptimizer::load_member: the optimizer is not of the packed members' kind");
  return s;
}

// Adam's and AdamW's states: the same fields in two classes.
template <class State>
std::unique_ptr<torch::optim::OptimizerParamState> adam_state(std::int64_t step, torch::Tensor exp_avg,
                                                              torch::Tensor exp_avg_sq) {
  auto s = std::make_unique<State>();
  s->step(step);
  s->exp_avg(std::move(exp_avg));
  s->exp_avg_sq(std::move(exp_avg_sq));
  return s;
}

}  // namespace

std::optional<std::string> packed_optimizer_mismatch(const TrainConfig& a, const TrainConfig& b) {
  if (a.optimizer != b.optimizer)
    return fmt::format("train.optimizer differs ({} vs {})", a.optimizer, b.optimizer);
  if (a.optimizer == "sgd" && a.nesterov != b.nesterov)
    return fmt::format("train.nesterov differs ({} vs {})", a.nesterov, b.nesterov);
  return std::nullopt;
}

PackedOptimizer::PackedOptimizer(std::vector<torch::Tensor> params, const std::vector<TrainConfig>& member_configs)
    : params_(std::move(params)), configs_(member_configs) {
  if (configs_.empty()) throw std::invalid_argument("a packed optimizer needs at least one member");
  for (const TrainConfig& c : configs_)
    if (auto why = packed_optimizer_mismatch(configs_.front(), c))
      throw std::invalid_argument("members cannot share a packed optimizer: " + *why);
  algorithm_ = configs_.front().optimizer;
  nesterov_ = configs_.front().nesterov;
  for (const TrainConfig& c : configs_) {
    any_momentum_ = any_momentum_ || c.momentum != 0;
    any_weight_decay_ = any_weight_decay_ || c.weight_decay != 0;
  }
  const auto k = members();
  const torch::TensorOptions on = params_.empty() ? torch::TensorOptions() : params_.front().options();
  hyper_ = torch::zeros({kRows, k, 1}, on.requires_grad(false));
  learning_rates_.assign(configs_.size(), 0.0);
  stopped_.assign(configs_.size(), false);
  stepped_.assign(params_.size(), false);
  for (const torch::Tensor& p : params_) {
    if (p.numel() % k != 0) throw std::logic_error("PackedOptimizer: a parameter is not member-major");
    const bool momentum = (algorithm_ == "sgd" && any_momentum_) || algorithm_ == "rmsprop";
    const bool adam = algorithm_ == "adam" || algorithm_ == "adamw";
    momentum_.push_back(momentum ? torch::zeros_like(p, torch::MemoryFormat::Contiguous) : torch::Tensor());
    exp_avg_.push_back(adam ? torch::zeros_like(p, torch::MemoryFormat::Contiguous) : torch::Tensor());
    square_avg_.push_back(adam || algorithm_ == "rmsprop" ? torch::zeros_like(p, torch::MemoryFormat::Contiguous)
                                                          : torch::Tensor());
  }
}

torch::Tensor PackedOptimizer::member_view(const torch::Tensor& t) const { return t.view({members(), -1}); }

void PackedOptimizer::prepare(const std::vector<double>& learning_rates) {
  if (learning_rates.size() != configs_.size())
    throw std::invalid_argument("PackedOptimizer::prepare: one learning rate per member");
  learning_rates_ = learning_rates;
  ++steps_;
  const auto k = members();
  // Computed in double, as LibTorch computes its scalars, and stored at the parameters' precision.
  torch::Tensor host;
  const bool cuda = hyper_.is_cuda();
  if (cuda) {
    constexpr std::size_t kRing = 64;
    if (pinned_.empty())
      for (std::size_t i = 0; i < kRing; ++i)
        pinned_.push_back(torch::empty({kRows, k, 1}, torch::TensorOptions(torch::kFloat32).pinned_memory(true)));
    host = pinned_[static_cast<std::size_t>(steps_) % kRing];
  } else {
    host = torch::empty({kRows, k, 1}, torch::kFloat32);
  }
  auto h = host.accessor<float, 3>();
  const double t = static_cast<double>(steps_);
  for (std::int64_t m = 0; m < k; ++m) {
    const TrainConfig& c = configs_[static_cast<std::size_t>(m)];
    const double lr = stopped_[static_cast<std::size_t>(m)] ? 0.0 : learning_rates[static_cast<std::size_t>(m)];
    h[kLr][m][0] = lr;
    h[kMomentum][m][0] = c.momentum;
    h[kWeightDecay][m][0] = c.weight_decay;
    h[kBeta1][m][0] = c.beta1;
    h[kOneMinusBeta1][m][0] = 1 - c.beta1;
    h[kBeta2][m][0] = c.beta2;
    h[kOneMinusBeta2][m][0] = 1 - c.beta2;
    h[kEps][m][0] = c.eps;
    h[kAlpha][m][0] = c.alpha;
    h[kOneMinusAlpha][m][0] = 1 - c.alpha;
    h[kStepSize][m][0] = lr / (1 - std::pow(c.beta1, t));
    h[kSqrtCorrection2][m][0] = std::sqrt(1 - std::pow(c.beta2, t));
    h[kDecay][m][0] = 1 - lr * c.weight_decay;
    h[kActive][m][0] = stopped_[static_cast<std::size_t>(m)] ? 0.0 : 1.0;
  }
  hyper_.copy_(host, /*non_blocking=*/cuda);
}

void PackedOptimizer::zero_grad() {
  for (torch::Tensor& p : params_)
    if (p.grad().defined()) p.mutable_grad().zero_();
}

void PackedOptimizer::step() {
  torch::NoGradGuard no_grad;
  any_stopped_ = std::find(stopped_.begin(), stopped_.end(), true) != stopped_.end();
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].grad().defined()) continue;
    stepped_[i] = true;
    const torch::Tensor p = member_view(params_[i]);
    torch::Tensor g = member_view(params_[i].grad());
    if (any_stopped_) g = masked(g);
    if (algorithm_ == "sgd") step_sgd(i, p, g);
    else if (algorithm_ == "adam") step_adam(i, p, g, /*decoupled=*/false);
    else if (algorithm_ == "adamw") step_adam(i, p, g, /*decoupled=*/true);
    else step_rmsprop(i, p, g);
  }
}

// torch::optim::SGD (dampening 0): d = g + wd p; buf = momentum buf + d; d = nesterov ? d + momentum buf : buf;
// p -= lr d.
void PackedOptimizer::step_sgd(std::size_t i, const torch::Tensor& p, const torch::Tensor& g) {
  torch::Tensor d = any_weight_decay_ ? torch::addcmul(g, p, hyper(kWeightDecay)) : g;
  if (any_momentum_) {
    torch::Tensor buf = member_view(momentum_[i]);
    buf.mul_(hyper(kMomentum)).add_(d);
    d = nesterov_ ? torch::addcmul(d, buf, hyper(kMomentum)) : buf;
  }
  p.addcmul_(d, hyper(kLr), -1);
}

// torch::optim::Adam / AdamW: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps); AdamW first decays p by 1 - lr wd, Adam adds wd p
// to g.
void PackedOptimizer::step_adam(std::size_t i, const torch::Tensor& p, const torch::Tensor& g_in, bool decoupled) {
  torch::Tensor g = g_in;
  if (any_weight_decay_) {
    if (decoupled) p.mul_(hyper(kDecay));
    else g = torch::addcmul(g, p, hyper(kWeightDecay));
  }
  torch::Tensor m = member_view(exp_avg_[i]), v = member_view(square_avg_[i]);
  m.mul_(hyper(kBeta1)).addcmul_(g, hyper(kOneMinusBeta1));
  v.mul_(hyper(kBeta2)).addcmul_(g * g, hyper(kOneMinusBeta2));
  const torch::Tensor denom = v.sqrt().div_(hyper(kSqrtCorrection2)).add_(hyper(kEps));
  torch::Tensor update = m.div(denom).mul_(hyper(kStepSize));
  p.sub_(any_stopped_ ? masked(update) : update);  // a stopped member's 0 / 0 (eps = 0) must not move it
}

// torch::optim::RMSprop (not centered): g += wd p; s = alpha s + (1 - alpha) g^2; avg = sqrt(s) + eps;
// with momentum buf = momentum buf + g / avg, p -= lr buf; without, p -= lr g / avg (the same with momentum 0).
void PackedOptimizer::step_rmsprop(std::size_t i, const torch::Tensor& p, const torch::Tensor& g_in) {
  const torch::Tensor g = any_weight_decay_ ? torch::addcmul(g_in, p, hyper(kWeightDecay)) : g_in;
  torch::Tensor s = member_view(square_avg_[i]), buf = member_view(momentum_[i]);
  s.mul_(hyper(kAlpha)).addcmul_(g * g, hyper(kOneMinusAlpha));
  const torch::Tensor avg = s.sqrt().add_(hyper(kEps));
  buf.mul_(hyper(kMomentum)).add_(any_stopped_ ? masked(g / avg) : g / avg);
  p.addcmul_(buf, hyper(kLr), -1);
}

torch::Tensor PackedOptimizer::masked(const torch::Tensor& t) const {
  return torch::where(hyper(kActive) > 0, t, torch::zeros({}, t.options()));
}

void PackedOptimizer::stop_member(std::int64_t k) {
  torch::NoGradGuard no_grad;
  stopped_.at(static_cast<std::size_t>(k)) = true;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    member_view(params_[i])[k].zero_();
    for (torch::Tensor* state : {&momentum_[i], &exp_avg_[i], &square_avg_[i]})
      if (state->defined()) member_view(*state)[k].zero_();
  }
}

std::int64_t PackedOptimizer::stopped_members() const {
  return static_cast<std::int64_t>(std::count(stopped_.begin(), stopped_.end(), true));
}

void PackedOptimizer::store_member(std::int64_t k, torch::optim::Optimizer& optimizer,
                                   const std::vector<torch::Tensor>& member_params) const {
  namespace optim = torch::optim;
  if (member_params.size() != params_.size())
    throw std::logic_error("PackedOptimizer::store_member: not the packed network's parameters");
  const TrainConfig& c = configs_.at(static_cast<std::size_t>(k));
  auto& states = optimizer.state();
  states.clear();
  if (steps_ == 0) return;  // a fresh LibTorch optimizer has no state either
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (!stepped_[i]) continue;
    const torch::Tensor& mp = member_params[i];
    // A copy on the member parameter's device (a checkpoint's network is on the CPU, the pack maybe on a GPU).
    auto slice = [&](const torch::Tensor& t) {
      return member_view(t)[k].view(mp.sizes()).to(mp.options(), /*non_blocking=*/false, /*copy=*/true);
    };
    std::unique_ptr<optim::OptimizerParamState> state;
    if (algorithm_ == "sgd") {
      if (c.momentum == 0) continue;  // LibTorch's SGD keeps no buffer then
      auto s = std::make_unique<optim::SGDParamState>();
      s->momentum_buffer(slice(momentum_[i]));
      state = std::move(s);
    } else if (algorithm_ == "adam") {
      state = adam_state<optim::AdamParamState>(steps_, slice(exp_avg_[i]), slice(square_avg_[i]));
    } else if (algorithm_ == "adamw") {
      state = adam_state<optim::AdamWParamState>(steps_, slice(exp_avg_[i]), slice(square_avg_[i]));
    } else {
      auto s = std::make_unique<optim::RMSpropParamState>();
      s->step(steps_);
      s->square_avg(slice(square_avg_[i]));
      if (c.momentum > 0) s->momentum_buffer(slice(momentum_[i]));
      state = std::move(s);
    }
    states[state_key(states, mp)] = std::move(state);
  }
}

void PackedOptimizer::load_member(std::int64_t k, const torch::optim::Optimizer& optimizer,
                                  const std::vector<torch::Tensor>& member_params) {
  namespace optim = torch::optim;
  torch::NoGradGuard no_grad;
  if (member_params.size() != params_.size())
    throw std::logic_error("PackedOptimizer::load_member: not the packed network's parameters");
  auto put = [&](const torch::Tensor& packed, const torch::Tensor& member) {
    if (packed.defined() && member.defined()) member_view(packed)[k].copy_(member.reshape({-1}));
  };
  std::optional<std::int64_t> steps;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const torch::Tensor& mp = member_params[i];
    if (algorithm_ == "sgd") {
      if (const auto* s = state_of<optim::SGDParamState>(optimizer, mp)) {
        stepped_[i] = true;
        put(momentum_[i], s->momentum_buffer());
      }
    } else if (algorithm_ == "adam" || algorithm_ == "adamw") {
      const auto* adam = state_of<optim::AdamParamState>(optimizer, mp, /*other_kind_ok=*/true);
      const auto* adamw = state_of<optim::AdamWParamState>(optimizer, mp, /*other_kind_ok=*/true);
      if (adam || adamw) {
        stepped_[i] = true;
        steps = adam ? adam->step() : adamw->step();
        put(exp_avg_[i], adam ? adam->exp_avg() : adamw->exp_avg());
        put(square_avg_[i], adam ? adam->exp_avg_sq() : adamw->exp_avg_sq());
      }
    } else if (const auto* s = state_of<optim::RMSpropParamState>(optimizer, mp)) {
      stepped_[i] = true;
      steps = s->step();
      put(square_avg_[i], s->square_avg());
      put(momentum_[i], s->momentum_buffer());
    }
  }
  // SGD counts no steps: a loaded buffer says there has been one.
  if (algorithm_ == "sgd" && steps_ == 0 && std::find(stepped_.begin(), stepped_.end(), true) != stepped_.end())
    steps_ = 1;
  // The members of a pack start together: a member from another step count would be a different computation.
  if (steps && *steps != steps_) {
    if (steps_ != 0)
      throw std::invalid_argument(fmt::format("packed members must be at the same step (member {} is at step {}, "
                                              "the others at {})",
                                              k, *steps, steps_));
    steps_ = *steps;
  }
}

}  // namespace incept
