// The sweep file format: how axes multiply out, what variants are called, and every mistake reported at once with
// the sweep file's line and column.
#include <catch2/catch.hpp>

#include "tests/sweep/sweep_test_support.h"

using namespace incept;
using incept::sweep_test::sweep_errors;
using incept::sweep_test::write_sweep;
using incept::testing::TempDir;

namespace {

std::vector<std::string> names(const Sweep& s) {
  std::vector<std::string> out;
  for (const auto& v : s.variants) out.push_back(v.name);
  return out;
}

}  // namespace

TEST_CASE("named variants x zip x grid x seeds expand in file order, seeds fastest") {
  TempDir tmp;
  Sweep s = load_sweep(write_sweep(tmp, R"(name = "full"
base = "tiny.toml"
seeds = [0, 1]
[set]
"train.epochs" = 1
[variants.plain]
[variants.naive]
"model.mix.block" = "inception_naive"
[[zip]]
"model.stem.out" = [4, 8]
"model.mix.out" = [4, 8]
[grid]
"model.defaults.inception_reduced.ratio" = [0.5, 0.25]
"model.bn" = [false, true]
)"));
  REQUIRE(s.variants.size() == 2 * 2 * 2 * 2 * 2);
  CHECK(s.name == "full");
  CHECK(s.seeds == std::vector<std::int64_t>{0, 1});
  CHECK(s.baseline == "plain,stem.out=4,mix.out=4,ratio=0.5,bn=false");

  const SweepVariant& first = s.variants[0];
  CHECK(first.name == "plain,stem.out=4,mix.out=4,ratio=0.5,bn=false");
  CHECK(first.seed == 0);
  CHECK(first.index == 0);
  CHECK(first.overrides == std::vector<std::string>{"train.epochs=1", "model.stem.out=4", "model.mix.out=4",
                                                    "model.defaults.inception_reduced.ratio=0.5", "model.bn=false",
                                                    "train.seed=0"});
  CHECK(s.variants[1].name == first.name);
  CHECK(s.variants[1].seed == 1);
  CHECK(s.variants[2].name == "plain,stem.out=4,mix.out=4,ratio=0.5,bn=true");  // the last grid key turns fastest
  CHECK(s.variants[4].name == "plain,stem.out=4,mix.out=4,ratio=0.25,bn=false");
  CHECK(s.variants[8].name == "plain,stem.out=8,mix.out=8,ratio=0.5,bn=false");
  const SweepVariant& last = s.variants.back();
  CHECK(last.name == "naive,stem.out=8,mix.out=8,ratio=0.25,bn=true");
  CHECK(last.seed == 1);
  CHECK(last.index == 31);
  CHECK(last.overrides.at(1) == "model.mix.block='inception_naive'");
  // Every variant is built from the same base and appears once per seed.
  for (const auto& v : s.variants) CHECK(v.base == s.base);
  std::vector<std::string> n = names(s);
  std::sort(n.begin(), n.end());
  CHECK(std::unique(n.begin(), n.end()) - n.begin() == 16);
}

TEST_CASE("only seeds: one variant called base, no seeds: one run per variant") {
  TempDir tmp;
  Sweep seeds_only = load_sweep(write_sweep(tmp, "base = \"tiny.toml\"\nseeds = [3, 1, 2]\n"));
  CHECK(names(seeds_only) == std::vector<std::string>{"base", "base", "base"});
  CHECK(seeds_only.variants[2].seed == 2);
  CHECK(seeds_only.name == "sweep");  // the file's stem

  Sweep no_seeds = load_sweep(write_sweep(tmp, "base = \"tiny.toml\"\n[grid]\n\"model.bn\" = [false, true]\n"));
  CHECK(names(no_seeds) == std::vector<std::string>{"bn=false", "bn=true"});
  CHECK(no_seeds.variants[0].overrides == std::vector<std::string>{"model.bn=false"});
}

TEST_CASE("dotted keys, sub-tables and override tables name the same paths as quoted keys") {
  TempDir tmp;
  Sweep s = load_sweep(write_sweep(tmp, R"(base = "tiny.toml"
[grid.model]
bn = [false, true]
[variants.wide]
model.stem.out = 8
"model.mix" = { out = 8, block = "inception_naive" }
[variants.big_stem]
"model.stem" = { out = 16, kernel = 5 }
)"));
  CHECK(names(s) == std::vector<std::string>{"wide,bn=false", "wide,bn=true", "big_stem,bn=false",
                                             "big_stem,bn=true"});
  CHECK(s.variants[0].overrides ==
        std::vector<std::string>{"model.stem.out=8", "model.mix.out=8", "model.mix.block='inception_naive'",
                                 "model.bn=false"});
  CHECK(s.variants[2].overrides ==
        std::vector<std::string>{"model.stem.out=16", "model.stem.kernel=5", "model.bn=false"});
}

TEST_CASE("values of every TOML type travel as --set text and read well in names") {
  TempDir tmp;
  Sweep s = load_sweep(write_sweep(tmp, R"(base = "tiny.toml"
[grid]
"model.stem.kernel" = [3, [1, 3]]
"train.lr" = [0.05]
"data.dataset" = ["synthetic"]
)"));
  REQUIRE(s.variants.size() == 2);
  CHECK(s.variants[1].name == "stem.kernel=[1,3],lr=0.05,dataset=synthetic");
  CHECK(s.variants[1].overrides ==
        std::vector<std::string>{"model.stem.kernel=[1, 3]", "train.lr=0.05", "data.dataset='synthetic'"});
}

TEST_CASE("a named variant may bring its own base config") {
  TempDir tmp;
  tmp.write("other.toml", "extends = \"tiny.toml\"\nname = \"other\"\n");
  Sweep s = load_sweep(write_sweep(tmp, R"(seeds = [0]
[variants.tiny]
base = "tiny.toml"
[variants.other]
base = "other.toml"
"train.lr" = 0.2
)"));
  REQUIRE(s.variants.size() == 2);
  CHECK(s.base.empty());
  CHECK(s.variants[0].base == (tmp.path() / "tiny.toml").string());
  CHECK(s.variants[1].base == (tmp.path() / "other.toml").string());
  CHECK(s.variants[1].overrides == std::vector<std::string>{"train.lr=0.2", "train.seed=0"});
}

TEST_CASE("sweep file mistakes are all reported at once with line and column") {
  TempDir tmp;
  std::string err = sweep_errors(tmp, R"(base = "tiny.toml"
seed = [1]
seeds = [0, -1, 0]
baseline = "plian"
[grid]
"model.bn" = true
"train.lr" = []
[[zip]]
"model.stem.out" = [4, 8]
"model.mix.out" = [4, 8, 16]
[variants.plain]
[variants.odd]
"model.mix" = 3
[variants.bad]
base = 7
)");
  std::string f = (tmp.path() / "sweep.toml").string();
  CHECK_THAT(err, Catch::Contains(f + ":2:1: error: unknown key 'seed' at the top level; did you mean 'seeds'?"));
  CHECK_THAT(err, Catch::Contains(f + ":3:13: error: seeds: expected a non-negative integer, got -1"));
  CHECK_THAT(err, Catch::Contains(f + ":3:17: error: seeds: 0 is listed twice"));
  CHECK_THAT(err, Catch::Contains(f + ":4:12: error: baseline 'plian' is not a variant of this sweep; did you mean "
                                      "'plain'?"));
  CHECK_THAT(err, Catch::Contains(f + ":6:14: error: grid: 'model.bn' must be a non-empty list of values"));
  CHECK_THAT(err, Catch::Contains(f + ":7:14: error: grid: 'train.lr' must be a non-empty list of values, e.g. "
                                      "[16, 32]; got an empty array"));
  CHECK_THAT(err, Catch::Contains(f + ":10:19: error: zip: 'model.mix.out' has 3 values but 'model.stem.out' has "
                                      "2"));
  CHECK_THAT(err, Catch::Contains(f + ":15:8: error: variants.bad.base: expected a config file name, got an "
                                      "integer"));
}

TEST_CASE("a path varied twice, or also set by [set] or --set, is an error") {
  TempDir tmp;
  std::string f = (tmp.path() / "sweep.toml").string();
  std::string err = sweep_errors(tmp, R"(base = "tiny.toml"
seeds = [0]
[set]
"model.bn" = true
[grid]
"model.bn" = [false, true]
"train.seed" = [1, 2]
[[zip]]
"model.stem.out" = [4, 8]
[variants.a]
"model.stem.out" = 16
)", false, {"model.mix.out=8"});
  CHECK_THAT(err, Catch::Contains(f + ":7:16: error: 'train.seed' is already varied by seeds (" + f + ":2:10)"));
  CHECK_THAT(err, Catch::Contains(f + ":4:14: error: 'model.bn' is varied by grid (" + f +
                                  ":6:14); it cannot also be in [set]"));
  CHECK_THAT(err, Catch::Contains(f + ":11:20: error: 'model.stem.out' is varied by [[zip]] (" + f +
                                  ":9:20); variant 'a' cannot also set it"));

  std::string cli = sweep_errors(tmp, "base = \"tiny.toml\"\n[grid]\n\"model.bn\" = [false, true]\n", false,
                                 {"model.bn=true"});
  CHECK_THAT(cli, Catch::Contains("--set model.bn=true: error: 'model.bn' is varied by the sweep (grid at " + f +
                                  ":3:14); --set cannot override it"));
}

TEST_CASE("a missing base config, or none at all, points at the sweep file") {
  TempDir tmp;
  std::string f = (tmp.path() / "sweep.toml").string();
  CHECK_THAT(sweep_errors(tmp, "name = \"x\"\nbase = \"nope.toml\"\n"),
             Catch::Contains(f + ":2:8: error: base config 'nope.toml' does not exist"));
  CHECK_THAT(sweep_errors(tmp, "name = \"x\"\n"), Catch::Contains(f + ": error: base = \"config.toml\" is required"));
  CHECK_THAT(sweep_errors(tmp, "base = \"tiny.toml\"\n[grid\n"), Catch::Contains(f + ":2:"));
  try {
    load_sweep((tmp.path() / "absent.toml").string());
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("absent.toml: error: sweep file does not exist"));
  }
}
