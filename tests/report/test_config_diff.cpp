// Flattening stored configs and finding the settings that tell variants apart.
#include <catch2/catch.hpp>

#include "framework/diagnostics.h"
#include "experiments/config/experiment_config.h"
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
                               {"model.stem.block", "conv"},
                               {"model.stem.out", "8"},
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

TEST_CASE("setting paths are the ones --set takes, and applying them turns one config into the other",
          "[report][config]") {
  const std::string dir = std::string(INCEPT_SOURCE_DIR) + "/configs/mnist/";
  const ExperimentConfig reduced = load_experiment(dir + "reduced.toml");
  const ExperimentConfig naive = load_experiment(dir + "naive.toml");
  const SettingsDiff diff =
      differing_settings({flatten_config(reduced.toml_text, "reduced"), flatten_config(naive.toml_text, "naive")});
  const std::vector<std::string> keys = {"model.inception1.block", "model.inception2.block", "model.inception3.block"};
  REQUIRE(diff.keys == keys);
  std::vector<std::string> sets;
  for (std::size_t k = 0; k < diff.keys.size(); ++k) sets.push_back(diff.keys[k] + "=" + *diff.values[1][k]);
  const ExperimentConfig rebuilt = load_experiment(dir + "reduced.toml", sets);
  CHECK(differing_settings({flatten_config(rebuilt.toml_text, "rebuilt"), flatten_config(naive.toml_text, "naive")})
            .keys.empty());
  CHECK(rebuilt.model.cost().params == naive.model.cost().params);
}

TEST_CASE("aux heads are addressed by name like layers", "[report][config]") {
  const FlatConfig flat = flatten_config(
      "[[model.aux]]\nname = \"aux1\"\nblock = \"aux_googlenet\"\nat = \"a\"\n[model.aux1]\nweight = 0.5\n", "t");
  const FlatConfig expected = {{"model.aux1.block", "aux_googlenet"}, {"model.aux1.at", "a"},
                               {"model.aux1.weight", "0.5"}};
  CHECK(flat == expected);
}

TEST_CASE("settings that change together form one group, named once", "[report][config]") {
  const FlatConfig reduced = {{"model.inception1.block", "inception_reduced"},
                              {"model.inception2.block", "inception_reduced"},
                              {"model.inception3.block", "inception_reduced"},
                              {"train.init", "normal"}};
  FlatConfig naive = reduced, naive_xavier = reduced, reduced_xavier = reduced;
  for (FlatConfig* c : {&naive, &naive_xavier})
    for (const char* key : {"model.inception1.block", "model.inception2.block", "model.inception3.block"})
      (*c)[key] = "inception_naive";
  naive_xavier["train.init"] = reduced_xavier["train.init"] = "xavier";
  const SettingsDiff diff = differing_settings({reduced, naive, reduced_xavier, naive_xavier});
  const std::vector<SettingGroup> groups = group_settings(diff);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].title == "model.inception1/2/3.block");
  CHECK(groups[0].keys == std::vector<std::size_t>{0, 1, 2});
  CHECK(groups[1].title == "train.init");
  CHECK(groups[1].keys == std::vector<std::size_t>{3});

  // Keys that change in the same variants but to different values stay apart: one column could not show both.
  const SettingsDiff apart = differing_settings({{{"train.lr", "0.1"}, {"train.epochs", "2"}},
                                                 {{"train.lr", "0.01"}, {"train.epochs", "4"}}});
  CHECK(group_settings(apart).size() == 2);
  // A key unset in the same variants where another is unset, with equal values elsewhere, groups too.
  const SettingsDiff unset = differing_settings({{}, {{"model.a.ratio", "0.25"}, {"model.b.ratio", "0.25"}}});
  REQUIRE(group_settings(unset).size() == 1);
  CHECK(group_settings(unset)[0].title == "model.a/b.ratio");
}

TEST_CASE("joint paths share what the paths share", "[report][config]") {
  CHECK(joint_path({"model.inception2.out", "model.inception3.out"}) == "model.inception2/3.out");
  CHECK(joint_path({"model.inception1.out", "model.inception10.out"}) == "model.inception1/inception10.out");
  CHECK(joint_path({"model.stem.out", "model.head.out"}) == "model.stem/head.out");
  CHECK(joint_path({"model.bn", "train.lr"}) == "model.bn, train.lr");
  CHECK(joint_path({"model.a.out", "model.b.kernel"}) == "model.a.out, model.b.kernel");
  CHECK(joint_path({"model.a.out", "model.a.out.x"}) == "model.a.out, model.a.out.x");
  CHECK(joint_path({"train.lr"}) == "train.lr");
}
