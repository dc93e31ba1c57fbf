// Building variants: the same experiment `incept train BASE --set ...` builds, costs for the dry run, and errors
// that name the variant and point at the sweep file.
#include <numeric>

#include <catch2/catch.hpp>

#include "experiments/config/experiment_config.h"
#include "experiments/config/experiment_identity.h"
#include "framework/text.h"
#include "tests/sweep/sweep_test_support.h"

using namespace incept;
using incept::sweep_test::sweep_errors;
using incept::sweep_test::write_sweep;
using incept::testing::TempDir;

TEST_CASE("a resolved variant is the experiment incept train builds from the same overrides") {
  TempDir tmp;
  Sweep s = load_sweep(write_sweep(tmp, R"(base = "tiny.toml"
seeds = [5]
[set]
"data.synthetic_train" = 96
[variants.naive]
"model.mix" = { block = "inception_naive" }
[grid]
"model.defaults.inception_reduced.ratio" = [0.125]
"model.stem.kernel" = [[1, 3]]
"train.lr" = [0.1, 0.3]
)"),
                       {"train.batch_size=16"});
  std::vector<ResolvedVariant> resolved = resolve_variants(s, s.variants);
  REQUIRE(resolved.size() == 2);
  for (const ResolvedVariant& r : resolved) {
    ExperimentConfig direct = load_experiment(s.base, r.variant.overrides);
    CHECK(r.hash == experiment_hash(direct.resolved));
    CHECK(r.params == direct.model.cost().params + direct.model.aux_cost().params);
    CHECK(r.macs == direct.model.cost().macs);
    CHECK(r.variant.seed == 5);
    CHECK(direct.train.batch_size == 16);
    CHECK(direct.data.synthetic_train == 96);
    // The children add train.threads (their share of the cores): still the same experiment.
    std::vector<std::string> with_threads = r.variant.overrides;
    with_threads.push_back("train.threads=7");
    ExperimentConfig child = load_experiment(s.base, with_threads);
    CHECK(child.hash != direct.hash);
    CHECK(experiment_hash(child.resolved) == r.hash);
    // ... and recognisable from the text the run log stores.
    CHECK(stored_experiment_hash(child.toml_text) == r.hash);
    // The file a child trains is the resolved config itself, named, and resolves to the planned experiment.
    ExperimentConfig planned = load_experiment(tmp.write("planned.toml", r.config_toml));
    CHECK(experiment_hash(planned.resolved) == r.hash);
    CHECK(planned.name == r.config_name);
  }
  CHECK(resolved[0].hash != resolved[1].hash);
}

TEST_CASE("without seeds a variant runs with its base's seed") {
  TempDir tmp;
  Sweep s = load_sweep(write_sweep(tmp, "base = \"tiny.toml\"\n[grid]\n\"train.seed\" = [4, 9]\n"));
  CHECK(resolve_variants(s, s.variants).at(1).variant.seed == 9);
  Sweep plain = load_sweep(write_sweep(tmp, "base = \"tiny.toml\"\n[set]\n\"train.seed\" = 11\n"));
  CHECK(resolve_variants(plain, plain.variants).at(0).variant.seed == 11);
}

TEST_CASE("identity ignores train.threads even when the base has no [train] table") {
  toml::table without = toml::parse("[model]\ninput = [1, 8, 8]\n");
  toml::table with = toml::parse("[model]\ninput = [1, 8, 8]\n[train]\nthreads = 4\n");
  CHECK(experiment_hash(without) == experiment_hash(with));
  CHECK(stored_experiment_hash("this is = = not toml").empty());
}

TEST_CASE("one definition of the same experiment: labels and where it runs do not count, the seed does") {
  const toml::table base = toml::parse("name = 'a'\n[model]\ninput = [1, 8, 8]\n[train]\nseed = 1\n");
  const toml::table relabelled = toml::parse(
      "name = 'b'\ndescription = 'x'\n[model]\ninput = [1, 8, 8]\n[train]\nseed = 1\nthreads = 3\n"
      "checkpoint_dir = '/elsewhere'\n");
  const toml::table other_seed = toml::parse("name = 'a'\n[model]\ninput = [1, 8, 8]\n[train]\nseed = 2\n");
  const toml::table other_lr = toml::parse("name = 'a'\n[model]\ninput = [1, 8, 8]\n[train]\nseed = 1\nlr = 0.3\n");
  CHECK(experiment_hash(base) == experiment_hash(relabelled));
  CHECK(experiment_hash(base) != experiment_hash(other_seed));
  CHECK(experiment_hash(base, SeedPolicy::ignore) == experiment_hash(other_seed, SeedPolicy::ignore));
  CHECK(experiment_hash(base) != experiment_hash(other_lr));
  CHECK(experiment_hash(base, SeedPolicy::ignore) != experiment_hash(other_lr, SeedPolicy::ignore));
  for (const char* path : {"name", "description", "extends", "train.threads", "train.checkpoint_dir"})
    CHECK(is_execution_setting(path));
  CHECK_FALSE(is_execution_setting("train.seed"));
  CHECK_FALSE(is_execution_setting("train.lr"));
}

TEST_CASE("a variant's errors name it and point at the sweep file") {
  TempDir tmp;
  std::string f = (tmp.path() / "sweep.toml").string();
  // A layer name that does not exist breaks every variant the same way: one error, at the list.
  CHECK_THAT(sweep_errors(tmp, "base = \"tiny.toml\"\nseeds = [0, 1]\n[grid]\n\"model.mixx.out\" = [4, 8]\n", true),
             Catch::Contains(f + ":4:20: error: variant 'mixx.out=4' (and 1 more): unknown key 'mixx' in [model]; "
                                 "did you mean 'mix'?"));

  std::string err = sweep_errors(tmp, R"(base = "tiny.toml"
seeds = [0, 1]
[variants.typo]
"model.mix.ratoi" = 0.5
[variants.words]
"model.stem.out" = "wide"
[variants.huge_kernel]
"model.stem.kernel" = 11
"model.stem.padding" = 0
[variants.scalar]
"train.epochs.count" = 2
)",
                                 true);
  CHECK_THAT(err, Catch::Contains(f + ":4:21: error: variant 'typo': unknown key 'ratoi' for block "
                                      "'inception_reduced' in layer 'mix'; did you mean 'ratio'?"));
  CHECK_THAT(err, Catch::Contains(f + ":6:20: error: variant 'words': layer 'stem': out: expected an integer, got "
                                      "a string"));
  // A shape error is found at the base's layer: reported at the variant, with the base's position after it.
  CHECK_THAT(err, Catch::Contains(f + ":7:11: error: variant 'huge_kernel': layer 'stem'"));
  CHECK_THAT(err, Catch::Contains("(at " + (tmp.path() / "tiny.toml").string() + ":"));
  CHECK_THAT(err, Catch::Contains(f + ":11:24: error: variant 'scalar': 'train.epochs' is an integer, not a table, "
                                      "so 'train.epochs.count' cannot be set"));
}

TEST_CASE("two variants that are the same experiment are an error") {
  TempDir tmp;
  std::string f = (tmp.path() / "sweep.toml").string();
  std::string err = sweep_errors(tmp, R"(base = "tiny.toml"
seeds = [0, 1]
[variants.plain]
[variants.same]
"train.lr" = 0.1
)",
                                 true);
  CHECK_THAT(err, Catch::Contains(f + ":4:11: error: variant 'same': the same experiment as variant 'plain'"));
}

TEST_CASE("a base broken by [set] is reported once, where the problem is") {
  TempDir tmp;
  std::string f = (tmp.path() / "sweep.toml").string();
  std::string err = sweep_errors(tmp, "base = \"tiny.toml\"\nseeds = [0, 1]\n[set]\n\"train.epochs\" = 0\n", true);
  CHECK_THAT(err, Catch::Contains(f + ":4:18: error: train.epochs: 0 is out of range"));
  CHECK_THAT(err, !Catch::Contains("variant"));
}

TEST_CASE("the ready-made sweeps load and cost what their configs cost") {
  struct Expected {
    std::string file;
    std::size_t runs;
    std::vector<std::string> names;  // distinct, in order
    std::vector<std::int64_t> params;
    std::int64_t seeds = 3;  // seeds 0 .. seeds-1
  };
  std::vector<Expected> expected = {
      {"configs/sweeps/naive_vs_reduced.toml", 12,
       {"reduced,init=normal", "reduced,init=xavier", "naive,init=normal", "naive,init=xavier"},
       {37'922, 37'922, 111'250, 111'250}},
      {"configs/sweeps/reduction_ratio.toml", 9, {"ratio=0.5", "ratio=0.25", "ratio=0.125"}, {37'922, 0, 0}},
      {"configs/sweeps/batch_norm.toml", 6, {"bn=false", "bn=true"}, {37'922, 0}},
      {"configs/sweeps/v1_vs_v3_fashion.toml", 6, {"v1", "v3_a"}, {39'994, 38'650}},
      {"configs/sweeps/seed004_reproduction.toml", 24, {"epochs=2", "epochs=4"}, {37'922, 37'922}, 12},
      // Projected residuals add a 32x32 1x1 conv with bias to each of the five blocks; identity ones cost nothing.
      {"configs/sweeps/residual_vs_plain.toml", 15,
       {"plain", "residual_proj", "residual_proj_scale_0_1", "residual", "residual_scale_0_1"},
       {15'002, 15'002 + 5 * (32 * 32 + 32), 20'282, 15'002, 15'002}},
  };
  for (const Expected& e : expected) {
    INFO(e.file);
    Sweep s = load_sweep(incept::testing::source_path(e.file));
    std::vector<ResolvedVariant> resolved = resolve_variants(s, s.variants);
    REQUIRE(resolved.size() == e.runs);
    std::vector<std::int64_t> seeds(static_cast<std::size_t>(e.seeds));
    std::iota(seeds.begin(), seeds.end(), 0);
    CHECK(s.seeds == seeds);
    CHECK(s.baseline == e.names[0]);
    const auto per_variant = static_cast<std::size_t>(e.seeds);
    for (std::size_t i = 0; i < e.names.size(); ++i) {
      const ResolvedVariant& r = resolved[i * per_variant];
      CHECK(r.variant.name == e.names[i]);
      if (e.params[i] != 0) CHECK(r.params == e.params[i]);
      for (std::int64_t seed = 0; seed < e.seeds; ++seed)
        CHECK(resolved[i * per_variant + static_cast<std::size_t>(seed)].variant.seed == seed);
    }
    if (e.file.find("residual_vs_plain") != std::string::npos) {
      // The projections' MACs: 32*32 per pixel on 3 blocks at 13x13 and 2 at 6x6.
      CHECK(resolved[3].macs == resolved[0].macs + 32 * 32 * (3 * 13 * 13 + 2 * 6 * 6));
      CHECK(resolved[9].macs == resolved[0].macs);
      CHECK(resolved[12].macs == resolved[0].macs);
      CHECK(resolved[3].config_toml.find("residual = true") != std::string::npos);
      CHECK(resolved[0].config_toml.find("residual = true") == std::string::npos);
    }
  }
  // Naive vs reduced is exactly the two seed-004 configs.
  Sweep nvr = load_sweep(incept::testing::source_path("configs/sweeps/naive_vs_reduced.toml"));
  std::vector<ResolvedVariant> r = resolve_variants(nvr, nvr.variants);
  ExperimentConfig naive = load_experiment(incept::testing::source_path("configs/mnist/naive.toml"));
  CHECK(r[6].macs == naive.model.cost().macs);
  // Smaller reductions shrink the reduced block.
  Sweep ratio = load_sweep(incept::testing::source_path("configs/sweeps/reduction_ratio.toml"));
  std::vector<ResolvedVariant> rr = resolve_variants(ratio, ratio.variants);
  CHECK(rr[0].params > rr[3].params);
  CHECK(rr[3].params > rr[6].params);
  // Batch norm adds its scale and shift and drops the conv biases.
  Sweep bn = load_sweep(incept::testing::source_path("configs/sweeps/batch_norm.toml"));
  CHECK(resolve_variants(bn, bn.variants)[3].params != 37'922);
}
