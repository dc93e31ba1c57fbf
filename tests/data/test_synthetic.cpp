#include <catch2/catch.hpp>

#include "experiments/data/dataset.h"
#include "framework/diagnostics.h"

using namespace incept;
using Catch::Matchers::Contains;

namespace {

DataConfig synthetic_config(std::uint64_t seed) {
  DataConfig cfg;
  cfg.dataset = "synthetic";
  cfg.synthetic_seed = seed;
  cfg.synthetic_train = 200;
  cfg.synthetic_test = 50;
  return cfg;
}

}  // namespace

TEST_CASE("synthetic data has the configured shape, range and labels", "[data][synthetic]") {
  DataConfig cfg = synthetic_config(1);
  cfg.synthetic_shape = {3, 16, 12};
  cfg.synthetic_classes = 7;
  const Dataset ds = load_dataset(cfg, torch::kCPU);
  CHECK(ds.name == "synthetic");
  CHECK(ds.source == "synthetic(seed=1)");
  CHECK(ds.classes == 7);
  CHECK(ds.sample_shape == std::vector<std::int64_t>{3, 16, 12});
  CHECK(ds.train.images.sizes() == torch::IntArrayRef{200, 3, 16, 12});
  CHECK(ds.test.images.sizes() == torch::IntArrayRef{50, 3, 16, 12});
  CHECK(ds.train.images.dtype() == torch::kFloat32);
  CHECK(ds.train.labels.dtype() == torch::kInt64);
  CHECK(ds.train.images.min().item<float>() >= 0.0f);
  CHECK(ds.train.images.max().item<float>() <= 1.0f);
  CHECK(ds.train.labels.min().item<std::int64_t>() == 0);
  CHECK(ds.train.labels.max().item<std::int64_t>() == 6);
  // Labels come in balanced blocks: every class appears floor(200 / 7) or more times.
  const auto counts = torch::bincount(ds.train.labels);
  CHECK(counts.min().item<std::int64_t>() >= 200 / 7);
}

TEST_CASE("synthetic data is a pure function of the seed", "[data][synthetic]") {
  torch::manual_seed(123);
  const torch::Tensor expected_next = torch::rand({4});
  torch::manual_seed(123);
  const Dataset a = load_dataset(synthetic_config(7), torch::kCPU);
  // Generating data must not consume the global RNG (it would shift model initialisation).
  CHECK(torch::equal(torch::rand({4}), expected_next));

  const Dataset b = load_dataset(synthetic_config(7), torch::kCPU);
  const Dataset c = load_dataset(synthetic_config(8), torch::kCPU);
  CHECK(torch::equal(a.train.images, b.train.images));
  CHECK(torch::equal(a.train.labels, b.train.labels));
  CHECK(torch::equal(a.test.images, b.test.images));
  CHECK_FALSE(torch::equal(a.train.images, c.train.images));
  CHECK_FALSE(torch::equal(a.test.images, a.train.images.narrow(0, 0, 50)));
}

TEST_CASE("synthetic limits keep a prefix of the full split", "[data][synthetic]") {
  DataConfig cfg = synthetic_config(3);
  const Dataset full = load_dataset(cfg, torch::kCPU);
  cfg.train_limit = 33;
  cfg.test_limit = 10;
  const Dataset limited = load_dataset(cfg, torch::kCPU);
  CHECK(limited.train.size() == 33);
  CHECK(limited.test.size() == 10);
  CHECK(torch::equal(limited.train.images, full.train.images.narrow(0, 0, 33)));
  CHECK(torch::equal(limited.test.labels, full.test.labels.narrow(0, 0, 10)));
}

TEST_CASE("synthetic settings are validated", "[data][synthetic]") {
  DataConfig cfg = synthetic_config(0);
  cfg.synthetic_shape = {28, 28};
  CHECK_THROWS_WITH(load_dataset(cfg, torch::kCPU), Contains("synthetic_shape") && Contains("[28, 28]"));
  cfg = synthetic_config(0);
  cfg.synthetic_classes = 1;
  CHECK_THROWS_AS(load_dataset(cfg, torch::kCPU), UserError);
  cfg = synthetic_config(0);
  cfg.synthetic_train = 0;
  CHECK_THROWS_AS(load_dataset(cfg, torch::kCPU), UserError);
}

// The training tests rely on this: a tiny CNN with batch norm and global average pooling, like the Inception
// nets, learns the synthetic classes within two epochs of 16 batches.
TEST_CASE("a small CNN learns synthetic data in two epochs", "[data][synthetic]") {
  torch::manual_seed(0);
  DataConfig cfg = synthetic_config(42);
  cfg.synthetic_train = 512;
  cfg.synthetic_test = 256;
  cfg.normalize = true;
  const Dataset ds = load_dataset(cfg, torch::kCPU);

  torch::nn::Sequential net(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 16, 3).padding(1)),
                            torch::nn::BatchNorm2d(16), torch::nn::ReLU(), torch::nn::MaxPool2d(2),
                            torch::nn::Conv2d(torch::nn::Conv2dOptions(16, 32, 3).padding(1)),
                            torch::nn::BatchNorm2d(32), torch::nn::ReLU(),
                            torch::nn::AdaptiveAvgPool2d(1), torch::nn::Flatten(), torch::nn::Linear(32, 10));
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(3e-3));
  const BatchOrder order(ds.train.size(), 32, 0);
  for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
    const torch::Tensor indices = order.epoch_indices(epoch);
    for (std::int64_t b = 0; b < order.batches(); ++b) {
      const torch::Tensor idx = order.batch_indices(indices, b);
      opt.zero_grad();
      const auto loss = torch::nn::functional::cross_entropy(net->forward(ds.train.images.index_select(0, idx)),
                                                             ds.train.labels.index_select(0, idx));
      loss.backward();
      opt.step();
    }
  }
  torch::NoGradGuard no_grad;
  net->eval();
  const double accuracy =
      net->forward(ds.test.images).argmax(1).eq(ds.test.labels).to(torch::kFloat64).mean().item<double>();
  INFO("test accuracy " << accuracy);
  CHECK(accuracy >= 0.9);
}
