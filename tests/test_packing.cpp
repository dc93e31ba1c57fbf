// Packing (framework/packed_model.h, experiments/train/packed_optimizer.h): K members of one architecture trained
// as one network must each compute what their own run computes — the same outputs, losses and gradients from the
// same weights and batches, the same optimizer updates from their own hyper-parameters — and a member that
// diverges must leave the others' numbers exactly as they were.
#include <catch2/catch.hpp>

#include <optional>
#include <sstream>
#include <type_traits>

#include <ATen/CPUGeneratorImpl.h>

#include "experiments/config/experiment_config.h"
#include "experiments/train/optimization.h"
#include "experiments/train/packed_optimizer.h"
#include "framework/packed_model.h"
#include "framework/torch_model.h"
#include "tests/support/temp_files.h"

using namespace incept;
using incept::testing::TempDir;

namespace {

// Every kind of op a packed network handles differently from its members: grouped and depthwise-separable
// convolutions with batch norm, a concatenation of branches inside a projected residual, pooling, dropout on a
// feature map and on features, flatten, two linear layers, and an aux head with its own dropout.
const char* kRich = R"(name = "rich"
[data]
dataset = "synthetic"
synthetic_train = 256
synthetic_test = 64
synthetic_shape = [1, 12, 12]

[model]
input = [1, 12, 12]
bn = true

[[model.layers]]
name = "stem"
block = "conv"
out = 8
kernel = 3
padding = 1

[[model.layers]]
name = "mix"
block = "inception_reduced"
out = 8
residual = true
residual_proj = true
residual_scale = 0.5

[[model.layers]]
name = "sep"
block = "separable_conv"
out = 16

[[model.layers]]
name = "pool"
block = "maxpool"
kernel = 2
stride = 2

[[model.layers]]
name = "drop"
block = "dropout"
p = 0.3

[[model.layers]]
name = "flat"
block = "flatten"

[[model.layers]]
name = "fc1"
block = "linear"
out = 20

[[model.layers]]
name = "drop2"
block = "dropout"
p = 0.5

[[model.layers]]
name = "head"
block = "linear"
out = 10

[[model.aux]]
name = "aux"
block = "aux_googlenet"
at = "sep"
classes = 10
conv_out = 8
hidden = 16
pool_kernel = 3
pool_stride = 3

[train]
epochs = 1
batch_size = 16
lr = 0.1
momentum = 0.9
seed = 7
threads = 1
)";

constexpr std::int64_t kMembers = 3, kBatch = 16;

// A member as its own run starts it: the default generator seeded with its seed, the network built and initialised
// from it; the generator's state after that is what the run's dropout draws from.
struct Member {
  Network net{nullptr};
  torch::Generator dropout_rng;
};

Member make_member(const ExperimentConfig& cfg, std::uint64_t seed) {
  torch::manual_seed(seed);
  Member m{Network(cfg.model), {}};
  TrainConfig tc = cfg.train;
  tc.init = "normal";
  tc.init_std = 0.2;
  initialize_weights(*m.net, tc);
  m.dropout_rng = at::detail::getDefaultCPUGenerator().clone();
  return m;
}

// Member k's batch: images and labels of its own (different members draw different batches).
std::pair<torch::Tensor, torch::Tensor> batch_of(std::int64_t k) {
  torch::manual_seed(1000 + static_cast<std::uint64_t>(k));
  return {torch::randn({kBatch, 1, 12, 12}), torch::randint(0, 10, {kBatch})};
}

torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& y) {
  return torch::nn::functional::cross_entropy(logits, y);
}

// Main loss plus 0.3 times the aux head's, as the trainer's training_loss for this config.
torch::Tensor member_loss(Network& net, const torch::Tensor& x, const torch::Tensor& y) {
  ForwardResult f = net->forward_train(x);
  torch::Tensor loss = cross_entropy(f.logits, y);
  for (std::size_t i = 0; i < f.aux.size(); ++i) loss = loss + f.aux_weights[i] * cross_entropy(f.aux[i], y);
  return loss;
}

std::vector<torch::Tensor> packed_losses(PackedNetwork& packed, const torch::Tensor& x, const torch::Tensor& y) {
  PackedForward f = packed->forward_train(x);
  std::vector<torch::Tensor> out;
  for (std::int64_t k = 0; k < packed->members(); ++k) {
    torch::Tensor loss = cross_entropy(f.logits[k], y[k]);
    for (std::size_t i = 0; i < f.aux.size(); ++i) loss = loss + f.aux_weights[i] * cross_entropy(f.aux[i][k], y[k]);
    out.push_back(loss);
  }
  return out;
}

struct Setup {
  ExperimentConfig cfg;
  std::vector<Member> members;
  PackedNetwork packed{nullptr};
  torch::Tensor x, y;  // [K, N, 1, 12, 12], [K, N]
};

Setup make_setup(const TempDir& tmp) {
  Setup s{load_experiment(tmp.write("rich.toml", kRich)), {}, nullptr, {}, {}};
  s.packed = PackedNetwork(s.cfg.model, kMembers);
  std::vector<torch::Tensor> xs, ys;
  for (std::int64_t k = 0; k < kMembers; ++k) {
    s.members.push_back(make_member(s.cfg, 11 + static_cast<std::uint64_t>(k)));
    s.packed->load_member(k, *s.members.back().net);
    s.packed->set_member_generator(k, s.members.back().dropout_rng.clone());
    auto [x, y] = batch_of(k);
    xs.push_back(x);
    ys.push_back(y);
  }
  s.x = torch::stack(xs);
  s.y = torch::stack(ys);
  return s;
}

// A member's own step: its dropout draws from the default generator, which holds its state after initialisation.
torch::Tensor own_loss(Member& m, const torch::Tensor& x, const torch::Tensor& y) {
  at::Generator global = at::detail::getDefaultCPUGenerator();  // a handle on the same generator
  global.set_state(m.dropout_rng.get_state());
  torch::Tensor loss = member_loss(m.net, x, y);
  m.dropout_rng.set_state(global.get_state());
  return loss;
}

// Gradients compare at the scale of each gradient tensor: batch norm's backward cancels large terms.
void check_close(const torch::Tensor& got, const torch::Tensor& want, const std::string& what) {
  const double scale = std::max(1e-12, want.abs().max().item<double>());
  INFO(what << ": max difference " << (got - want).abs().max().item<double>() << " at scale " << scale);
  CHECK(torch::allclose(got, want, 1e-4, 1e-4 * scale));
}

}  // namespace

TEST_CASE("a packed network holds K members' parameters, each loaded and stored unchanged", "[packing]") {
  TempDir tmp;
  Setup s = make_setup(tmp);
  CHECK(count_parameters(*s.packed) == kMembers * count_parameters(*s.members[0].net));
  for (std::int64_t k = 0; k < kMembers; ++k) {
    Network copy = make_member(s.cfg, 99).net;
    s.packed->store_member(k, *copy);
    const auto want = s.members[static_cast<std::size_t>(k)].net->named_parameters();
    const auto got = copy->named_parameters();
    REQUIRE(want.size() == got.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      INFO("member " << k << " " << want[i].key());
      CHECK(torch::equal(got[i].value(), want[i].value()));
    }
  }
}

TEST_CASE("each packed member computes its own run's first-step losses and gradients", "[packing]") {
  TempDir tmp;
  Setup s = make_setup(tmp);
  s.packed->train();
  const std::vector<torch::Tensor> losses = packed_losses(s.packed, s.x, s.y);
  torch::stack(losses).sum().backward();
  for (std::int64_t k = 0; k < kMembers; ++k) {
    Member& m = s.members[static_cast<std::size_t>(k)];
    m.net->train();
    torch::Tensor loss = own_loss(m, s.x[k], s.y[k]);
    loss.backward();
    INFO("member " << k);
    CHECK(losses[static_cast<std::size_t>(k)].item<double>() == Approx(loss.item<double>()).epsilon(1e-5));
    const auto mine = m.net->named_parameters();
    const auto packed = s.packed->named_parameters();
    REQUIRE(mine.size() == packed.size());
    for (std::size_t i = 0; i < mine.size(); ++i)
      check_close(s.packed->member_slice(packed[i].value().grad(), k, mine[i].value().sizes()),
                  mine[i].value().grad(), mine[i].key());
  }
  // Evaluation: the same logits per member (batch norm's running statistics included).
  s.packed->eval();
  const torch::Tensor logits = s.packed->forward(s.x);
  for (std::int64_t k = 0; k < kMembers; ++k) {
    Network& net = s.members[static_cast<std::size_t>(k)].net;
    net->eval();
    check_close(logits[k], net->forward(s.x[k]), "eval logits of member " + std::to_string(k));
  }
}

namespace {

// Every tensor of an optimizer's state, parameter by parameter (step counts as one-element tensors).
std::vector<torch::Tensor> state_tensors(const torch::optim::Optimizer& opt, const std::vector<torch::Tensor>& params) {
  namespace optim = torch::optim;
  std::vector<torch::Tensor> out;
  const auto& states = opt.state();
  for (const torch::Tensor& p : params) {
    // LibTorch 1.13 files a state under the TensorImpl's address printed; 2.x under the address itself.
    auto is_key_of_p = [&](const auto& key) {
      if constexpr (std::is_same_v<std::decay_t<decltype(key)>, std::string>) {
        std::ostringstream text;
        text << p.unsafeGetTensorImpl();
        return key == text.str();
      } else {
        return key == static_cast<std::decay_t<decltype(key)>>(p.unsafeGetTensorImpl());
      }
    };
    std::optional<decltype(states.begin())> it;
    for (auto i = states.begin(); i != states.end(); ++i)
      if (is_key_of_p(i->first)) it = i;
    if (!it) continue;
    const optim::OptimizerParamState* st = (*it)->second.get();
    if (const auto* s = dynamic_cast<const optim::SGDParamState*>(st)) out.push_back(s->momentum_buffer());
    if (const auto* s = dynamic_cast<const optim::AdamParamState*>(st))
      out.insert(out.end(), {torch::tensor(static_cast<double>(s->step())), s->exp_avg(), s->exp_avg_sq()});
    if (const auto* s = dynamic_cast<const optim::AdamWParamState*>(st))
      out.insert(out.end(), {torch::tensor(static_cast<double>(s->step())), s->exp_avg(), s->exp_avg_sq()});
    if (const auto* s = dynamic_cast<const optim::RMSpropParamState*>(st)) {
      out.insert(out.end(), {torch::tensor(static_cast<double>(s->step())), s->square_avg()});
      if (s->momentum_buffer().defined()) out.push_back(s->momentum_buffer());
    }
  }
  return out;
}

// Each member's own LibTorch optimizer (make_optimizer from its config) against the packed optimizer, over ten
// steps with the same gradients (drawn, not computed: a network would amplify float rounding from step to step and
// hide what is compared) and a learning rate that changes every step. The members differ in every hyper-parameter
// the algorithm has; one packed tensor gets no gradient, as an aux head's in evaluation.
void check_optimizer(const std::string& algorithm, bool nesterov) {
  std::vector<TrainConfig> configs;
  for (std::int64_t k = 0; k < kMembers; ++k) {
    TrainConfig c;
    c.optimizer = algorithm;
    c.nesterov = nesterov;
    c.momentum = k == 0 && !nesterov ? 0.0 : 0.5 + 0.2 * static_cast<double>(k);  // nesterov needs momentum
    c.weight_decay = k == 1 ? 0.0 : 1e-3 * static_cast<double>(k + 1);
    c.beta1 = 0.8 + 0.05 * static_cast<double>(k);
    c.beta2 = 0.99 + 0.004 * static_cast<double>(k);
    c.alpha = 0.9 + 0.03 * static_cast<double>(k);
    c.eps = 1e-8 * std::pow(10.0, static_cast<double>(k));
    c.lr = algorithm == "sgd" ? 0.05 : 0.001;
    configs.push_back(c);
  }
  torch::manual_seed(5);
  const std::vector<std::vector<std::int64_t>> shapes{{4, 3, 3, 3}, {5, 7}, {6}};
  std::vector<torch::Tensor> packed_params;
  for (const auto& shape : shapes) {
    std::vector<std::int64_t> packed_shape = shape;
    packed_shape.insert(packed_shape.begin(), kMembers);
    packed_params.push_back(torch::randn(packed_shape).reshape({-1}).requires_grad_());
  }
  std::vector<std::vector<torch::Tensor>> own_params(kMembers);
  std::vector<std::unique_ptr<torch::optim::Optimizer>> own;
  for (std::int64_t k = 0; k < kMembers; ++k) {
    for (std::size_t i = 0; i < shapes.size(); ++i)
      own_params[k].push_back(packed_params[i].detach().view({kMembers, -1})[k].reshape(shapes[i]).clone().requires_grad_());
    own.push_back(make_optimizer(configs[static_cast<std::size_t>(k)], own_params[k]));
  }
  PackedOptimizer packed(packed_params, configs);
  for (int step = 0; step < 10; ++step) {
    std::vector<double> lrs;
    for (std::int64_t k = 0; k < kMembers; ++k) lrs.push_back(configs[static_cast<std::size_t>(k)].lr * (1 + 0.1 * step + k));
    packed.prepare(lrs);
    for (std::size_t i = 0; i + 1 < shapes.size(); ++i) {  // the last parameter never gets a gradient
      const torch::Tensor g = torch::randn({kMembers, own_params[0][i].numel()}) * std::pow(10.0, -step % 4);
      packed_params[i].mutable_grad() = g.reshape({-1}).clone();
      for (std::int64_t k = 0; k < kMembers; ++k) own_params[k][i].mutable_grad() = g[k].reshape(shapes[i]).clone();
    }
    packed.step();
    for (std::int64_t k = 0; k < kMembers; ++k) {
      set_learning_rate(*own[static_cast<std::size_t>(k)], lrs[static_cast<std::size_t>(k)]);
      own[static_cast<std::size_t>(k)]->step();
    }
  }
  for (std::int64_t k = 0; k < kMembers; ++k) {
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      const torch::Tensor got = packed_params[i].detach().view({kMembers, -1})[k].reshape(shapes[i]);
      INFO(algorithm << " member " << k << " parameter " << i << ": max difference "
                     << (got - own_params[k][i]).abs().max().item<double>());
      CHECK(torch::allclose(got, own_params[k][i], 1e-5, 1e-6));
    }
    // Its state as its own LibTorch optimizer holds it (what its checkpoint saves), and back into a new pack.
    auto& mine = *own[static_cast<std::size_t>(k)];
    auto stored = make_optimizer(configs[static_cast<std::size_t>(k)], own_params[k]);
    packed.store_member(k, *stored, own_params[k]);
    REQUIRE(stored->state().size() == mine.state().size());
    PackedOptimizer reloaded(packed_params, configs);
    reloaded.load_member(k, *stored, own_params[k]);
    if (algorithm != "sgd") CHECK(reloaded.steps() == packed.steps());  // SGD counts no steps
    auto again = make_optimizer(configs[static_cast<std::size_t>(k)], own_params[k]);
    reloaded.store_member(k, *again, own_params[k]);
    const auto want = state_tensors(mine, own_params[k]), got_state = state_tensors(*again, own_params[k]);
    REQUIRE(want.size() == got_state.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      INFO(algorithm << " member " << k << " state tensor " << i);
      CHECK(torch::allclose(got_state[i], want[i], 1e-5, 1e-6));
    }
  }
}

}  // namespace

TEST_CASE("the packed optimizer steps each member as its own LibTorch optimizer would", "[packing]") {
  SECTION("sgd with and without momentum and weight decay") { check_optimizer("sgd", false); }
  SECTION("sgd, nesterov") { check_optimizer("sgd", true); }
  SECTION("adam") { check_optimizer("adam", false); }
  SECTION("adamw") { check_optimizer("adamw", false); }
  SECTION("rmsprop") { check_optimizer("rmsprop", false); }
}

TEST_CASE("a diverging packed member leaves the others' numbers unchanged, bit for bit", "[packing]") {
  TempDir tmp;
  // Two identical packs; in the second, member 1's batches turn to NaN from the second step on, it diverges and is
  // stopped. Members 0 and 2 must train exactly as in the first pack.
  Setup a = make_setup(tmp), b = make_setup(tmp);
  std::vector<TrainConfig> configs(kMembers, a.cfg.train);
  PackedOptimizer opt_a(a.packed->parameters(), configs), opt_b(b.packed->parameters(), configs);
  a.packed->train();
  b.packed->train();
  for (int step = 0; step < 4; ++step) {
    torch::Tensor x_b = b.x.clone();
    if (step >= 1) x_b[1].fill_(std::numeric_limits<float>::quiet_NaN());
    std::vector<torch::Tensor> la, lb;
    for (auto [setup, opt, x, losses] : {std::tuple{&a, &opt_a, a.x, &la}, std::tuple{&b, &opt_b, x_b, &lb}}) {
      opt->zero_grad();
      opt->prepare(std::vector<double>(kMembers, 0.05));
      *losses = packed_losses(setup->packed, x, setup->y);
      torch::stack(*losses).sum().backward();
      opt->step();
    }
    INFO("step " << step);
    for (std::int64_t k : {0, 2})
      CHECK(la[static_cast<std::size_t>(k)].item<float>() == lb[static_cast<std::size_t>(k)].item<float>());
    if (step == 1) {
      CHECK(std::isnan(lb[1].item<float>()));
      opt_b.stop_member(1);  // what the trainer does when a member's loss is not finite
    }
  }
  const auto pa = a.packed->named_parameters(), pb = b.packed->named_parameters();
  const auto shapes = a.members[0].net->named_parameters();
  for (std::size_t i = 0; i < pa.size(); ++i)
    for (std::int64_t k : {0, 2}) {
      INFO("member " << k << " " << shapes[i].key());
      const auto sizes = shapes[i].value().sizes();
      CHECK(torch::equal(a.packed->member_slice(pa[i].value(), k, sizes), b.packed->member_slice(pb[i].value(), k, sizes)));
    }
  // The stopped member holds zeros, not NaN: nothing of it can spread.
  for (const auto& p : pb) CHECK(!p.value().isnan().any().item<bool>());
}
