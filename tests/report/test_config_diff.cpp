// Flattening stored configs and finding the settings that tell variants apart.
#include <catch2/catch.hpp>

#include "framework/diagnostics.h"
#include "reports/config_diff.h"

using namespace incept;
using Catch::Matchers::Contains;

TEST_CASE("configs flatten to dotted paths, layers addressed by name", "[report][config]") {
  const FlatConfig flat = flatten_config(R"(
name = "x"
description = "ignored"
[model]
input = [1, 28, 28]
[[model.layers]]
name = "stem"
block = "conv"
out = 8
[model.defaults.inception_reduced]
ratio = 0.25
[train]
seed = 3
threads = 4
lr = 0.1
)",
                                         "test");
  const FlatConfig expected = {{"model.input", "[1, 28, 28]"},
                               {"model.layers.stem.block", "conv"},
                               {"model.layers.stem.out", "8"},
                               {"model.defaults.inception_reduced.ratio", "0.25"},
                               {"train.lr", "0.1"}};
  CHECK(flat == expected);
}

TEST_CASE("values read as they are written", "[report][config]") {
  const FlatConfig flat = flatten_config(
      "a = 0.1\nb = 1.0\nc = [\"x\", \"y\"]\nd = { k = 1 }\ne = \"text\"\nf = true\ng = 1e-3\n", "t");
  const FlatConfig expected = {{"a", "0.1"}, {"b", "1.0"}, {"c", "[\"x\", \"y\"]"}, {"d.k", "1"},
                               {"e", "text"}, {"f", "true"}, {"g", "0.001"}};
  CHECK(flat == expected);
}

TEST_CASE("a [model.<layer>] override compares equal to editing the layer", "[report][config]") {
  const FlatConfig overridden = flatten_config(
      "[[model.layers]]\nname = \"a\"\nblock = \"inception_reduced\"\n[model.a]\nblock = \"inception_naive\"\n", "o");
  const FlatConfig edited = flatten_config("[[model.layers]]\nname = \"a\"\nblock = \"inception_naive\"\n", "e");
  CHECK(overridden == edited);
  CHECK(differing_settings({overridden, edited}).keys.empty());
}

TEST_CASE("only differing keys are reported, missing ones as unset", "[report][config]") {
  const FlatConfig a = {{"model.bn", "false"}, {"train.lr", "0.1"}};
  const FlatConfig b = {{"model.bn", "true"}, {"train.lr", "0.1"}, {"train.momentum", "0.9"}};
  const SettingsDiff diff = differing_settings({a, b});
  CHECK(diff.keys == std::vector<std::string>{"model.bn", "train.momentum"});
  CHECK(diff.values[0] == std::vector<std::optional<std::string>>{"false", std::nullopt});
  CHECK(diff.values[1] == std::vector<std::optional<std::string>>{"true", "0.9"});
  CHECK(differing_settings({a}).keys.empty());  // one variant: nothing to compare with
}

TEST_CASE("a stored config that is not TOML is an error naming the run", "[report][config]") {
  CHECK_THROWS_AS(flatten_config("[model\n", "run 7"), UserError);
  CHECK_THROWS_WITH(flatten_config("[model\n", "run 7"), Contains("run 7"));
}
