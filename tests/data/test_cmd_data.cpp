#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "cli/cmd_data.h"
#include "experiments/data/fetch.h"
#include "experiments/data/shell.h"
#include "framework/diagnostics.h"
#include "tests/support/skip.h"

using namespace incept;
using Catch::Matchers::Contains;

namespace {

void parse(CLI::App& app, std::vector<std::string> args) {
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last-first
  app.parse(args);
}

}  // namespace

TEST_CASE("`incept data fetch` requires a dataset and reports unknown ones", "[data][cli]") {
  {
    CLI::App app("incept");
    add_data_commands(app);
    CHECK_THROWS_AS(parse(app, {"data", "fetch"}), CLI::RequiredError);
  }
  {
    CLI::App app("incept");
    add_data_commands(app);
    CHECK_THROWS_WITH(parse(app, {"data", "fetch", "imagenet"}), Contains("mnist, fashion-mnist"));
  }
}

TEST_CASE("`incept data fetch fashion-mnist --dir` writes DIR/fashion-mnist", "[data][cli]") {
  if (!std::filesystem::is_directory(kFashionMnistSystemDir))
    INCEPT_SKIP("dataset-fashion-mnist is not installed (bash scripts/setup.sh installs it)");
  TempDir dir("incept-cli-test-");
  CLI::App app("incept");
  add_data_commands(app);
  parse(app, {"data", "fetch", "fashion-mnist", "--dir", dir.path()});
  CHECK(std::filesystem::is_regular_file(dir.path() + "/fashion-mnist/train-images-idx3-ubyte.gz"));
}
