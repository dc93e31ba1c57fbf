#include <catch2/catch.hpp>

#include <filesystem>

#include "experiments/data/dataset.h"
#include "experiments/data/shell.h"
#include "framework/diagnostics.h"
#include "idx_fixtures.h"

using namespace incept;
using Catch::Matchers::Contains;

namespace {

// Restores the working directory even when a check throws.
struct ChangeDirectory {
  std::filesystem::path previous = std::filesystem::current_path();
  explicit ChangeDirectory(const std::string& to) { std::filesystem::current_path(to); }
  ~ChangeDirectory() { std::filesystem::current_path(previous); }
};

DataConfig idx_config(const std::string& dir) {
  DataConfig cfg;
  cfg.dataset = "mnist";
  cfg.dir = dir;
  return cfg;
}

}  // namespace

TEST_CASE("load_dataset reads MNIST-format files, raw or gzipped", "[data][dataset]") {
  for (bool gzip : {false, true}) {
    TempDir dir("incept-dataset-test-");
    test::write_idx_dataset(dir.path(), 12, 5, 3, 4, gzip);
    const Dataset ds = load_dataset(idx_config(dir.path()), torch::kCPU);
    CHECK(ds.name == "mnist");
    CHECK(ds.source == dir.path());
    CHECK(ds.classes == 10);
    CHECK(ds.sample_shape == std::vector<std::int64_t>{1, 3, 4});
    CHECK(ds.train.size() == 12);
    CHECK(ds.test.size() == 5);
    CHECK(ds.train.images.sizes() == torch::IntArrayRef{12, 1, 3, 4});
    CHECK(ds.train.images.dtype() == torch::kFloat32);
    CHECK(ds.train.labels.dtype() == torch::kInt64);
    // Pixel p of image i is (7i + p) % 256, scaled to [0, 1].
    CHECK(ds.train.images[2][0][1][3].item<float>() == Approx((7 * 2 + 7) / 255.0));
    CHECK(ds.train.labels[11].item<std::int64_t>() == 1);
    CHECK(ds.train.images.max().item<float>() <= 1.0f);
    CHECK(ds.mean == 0);
    CHECK(ds.std == 1);
  }
}

TEST_CASE("train_limit and test_limit keep the first N samples", "[data][dataset]") {
  TempDir dir("incept-dataset-test-");
  test::write_idx_dataset(dir.path(), 20, 8, 2, 2);
  DataConfig cfg = idx_config(dir.path());
  const Dataset full = load_dataset(cfg, torch::kCPU);
  cfg.train_limit = 7;
  cfg.test_limit = 100;  // more than there is: keeps everything
  const Dataset limited = load_dataset(cfg, torch::kCPU);
  CHECK(limited.train.size() == 7);
  CHECK(limited.test.size() == 8);
  CHECK(torch::equal(limited.train.images, full.train.images.narrow(0, 0, 7)));
  CHECK(torch::equal(limited.train.labels, full.train.labels.narrow(0, 0, 7)));

  cfg.train_limit = -1;
  CHECK_THROWS_WITH(load_dataset(cfg, torch::kCPU), Contains("train_limit"));
}

TEST_CASE("normalize uses training statistics unless mean/std are given", "[data][dataset]") {
  TempDir dir("incept-dataset-test-");
  test::write_idx_dataset(dir.path(), 30, 10, 4, 4);
  DataConfig cfg = idx_config(dir.path());
  cfg.normalize = true;
  const Dataset ds = load_dataset(cfg, torch::kCPU);
  CHECK(ds.mean > 0);
  CHECK(ds.std > 0);
  CHECK(ds.train.images.mean().item<double>() == Approx(0).margin(1e-5));
  CHECK(ds.train.images.std(false).item<double>() == Approx(1).epsilon(1e-4));

  cfg.mean = 0.5;
  cfg.std = 0.25;
  const Dataset fixed = load_dataset(cfg, torch::kCPU);
  CHECK(fixed.mean == 0.5);
  CHECK(fixed.std == 0.25);
  CHECK(fixed.train.images[0][0][0][0].item<float>() == Approx((0 / 255.0 - 0.5) / 0.25));

  cfg.std = 0;
  CHECK_THROWS_WITH(load_dataset(cfg, torch::kCPU), Contains("data.std must be positive"));
}

TEST_CASE("missing dataset files name every expected path and the fetch command", "[data][dataset]") {
  TempDir dir("incept-dataset-test-");
  test::write_idx_dataset(dir.path(), 4, 4, 2, 2);
  std::filesystem::remove(dir.path() + "/t10k-labels-idx1-ubyte");
  std::filesystem::remove(dir.path() + "/train-images-idx3-ubyte");
  try {
    load_dataset(idx_config(dir.path()), torch::kCPU);
    FAIL("loaded an incomplete dataset");
  } catch (const UserError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK_THAT(message, Contains(dir.path() + "/t10k-labels-idx1-ubyte[.gz]"));
    CHECK_THAT(message, Contains(dir.path() + "/train-images-idx3-ubyte[.gz]"));
    CHECK_THAT(message, !Contains("train-labels"));
    CHECK_THAT(message, Contains("incept data fetch mnist"));
  }

  DataConfig cfg;
  cfg.dataset = "fashion-mnist";
  cfg.dir = "/nonexistent/fashion-mnist";
  CHECK_THROWS_WITH(load_dataset(cfg, torch::kCPU),
                    Contains("does not exist") && Contains("incept data fetch fashion-mnist --dir /nonexistent"));
}

TEST_CASE("the default directory is data/<dataset>", "[data][dataset]") {
  DataConfig cfg;
  cfg.dataset = "fashion-mnist";
  TempDir dir("incept-dataset-test-");
  ChangeDirectory cd(dir.path());
  CHECK_THROWS_WITH(load_dataset(cfg, torch::kCPU),
                    Contains("data/fashion-mnist/train-images-idx3-ubyte") &&
                        Contains("run `incept data fetch fashion-mnist` to get it"));
  test::write_idx_dataset(std::filesystem::path(dir.path()) / "data" / "fashion-mnist", 3, 3, 2, 2, true);
  CHECK(load_dataset(cfg, torch::kCPU).train.size() == 3);
}

TEST_CASE("corrupt dataset files surface their file-level errors", "[data][dataset]") {
  TempDir dir("incept-dataset-test-");
  test::write_idx_dataset(dir.path(), 6, 4, 2, 2);
  const std::string labels = dir.path() + "/train-labels-idx1-ubyte";
  test::write_bytes(labels, test::idx_bytes({5}, {0, 1, 2, 3, 4}));
  CHECK_THROWS_WITH(load_dataset(idx_config(dir.path()), torch::kCPU),
                    Contains("has 6 images") && Contains(labels + " has 5 labels"));
  test::write_bytes(labels, test::idx_bytes({6}, {0, 1, 2, 3, 4, 10}));
  CHECK_THROWS_WITH(load_dataset(idx_config(dir.path()), torch::kCPU),
                    Contains(labels) && Contains("index 5 is 10"));
}

TEST_CASE("unknown dataset names are rejected with the known ones", "[data][dataset]") {
  DataConfig cfg;
  cfg.dataset = "mnsit";
  CHECK_THROWS_WITH(load_dataset(cfg, torch::kCPU),
                    Contains("did you mean 'mnist'") && Contains("mnist, fashion-mnist, synthetic"));
}
