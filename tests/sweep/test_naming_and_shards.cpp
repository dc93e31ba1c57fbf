// Variant names and shards: short unambiguous names, and shards that split a sweep into disjoint slices.
#include <catch2/catch.hpp>

#include <set>

#include "experiments/sweep/shard.h"
#include "experiments/sweep/value_text.h"

using namespace incept;

TEST_CASE("axis paths are named by their shortest unambiguous tail") {
  CHECK(short_path_names({"model.defaults.inception_reduced.ratio"}) == std::vector<std::string>{"ratio"});
  CHECK(short_path_names({"model.inception2.out", "model.inception3.out"}) ==
        std::vector<std::string>{"inception2.out", "inception3.out"});
  CHECK(short_path_names({"model.bn", "model.defaults.conv.bn", "train.lr"}) ==
        std::vector<std::string>{"model.bn", "conv.bn", "lr"});
  CHECK(short_path_names({"model.inception2.out", "train.epochs"}) ==
        std::vector<std::string>{"inception2.out", "epochs"});
  // One path the tail of another: the shorter one is named in full.
  CHECK(short_path_names({"x.bn", "y.x.bn"}) == std::vector<std::string>{"x.bn", "y.x.bn"});
}

TEST_CASE("values read compactly in names and exactly as --set text") {
  toml::table t = toml::parse("a = 'inception_naive'\nb = [1, 7]\nc = 0.125\nd = true\ne = 1.0\nf = [\"x\", 2]\n");
  CHECK(display_value(*t.get("a")) == "inception_naive");
  CHECK(display_value(*t.get("b")) == "[1,7]");
  CHECK(display_value(*t.get("c")) == "0.125");
  CHECK(display_value(*t.get("d")) == "true");
  CHECK(display_value(*t.get("e")) == "1.0");
  CHECK(display_value(*t.get("f")) == "[x,2]");
  CHECK(toml_value_text(*t.get("b")) == "[1, 7]");
  CHECK(toml_value_text(*toml::parse("v = 0.05").get("v")) == "0.05");
  CHECK(toml_value_text(*toml::parse("v = 1e10").get("v")) == "10000000000.0");
  CHECK(toml_value_text(*toml::parse("v = -inf").get("v")) == "-inf");
  for (const char* key : {"a", "b", "c", "d", "e", "f"}) {
    toml::table back = toml::parse("v = " + toml_value_text(*t.get(key)));
    CHECK(toml_value_text(*back.get("v")) == toml_value_text(*t.get(key)));
  }
}

TEST_CASE("shard K/N is parsed strictly") {
  Shard s = parse_shard("2/4");
  CHECK(s.index == 2);
  CHECK(s.count == 4);
  CHECK(parse_shard("1/1").whole());
  for (const char* bad : {"0/2", "3/2", "2", "a/b", "1/", "/2", "-1/2", "1/2/3", ""}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_shard(bad), ConfigError);
  }
  CHECK_THROWS_WITH(parse_shard("5/4"), Catch::Contains("--shard 5/4: error: expected K/N with 1 <= K <= N"));
}

TEST_CASE("the shards of a sweep are disjoint and together cover it") {
  std::vector<SweepVariant> all(11);
  for (std::size_t i = 0; i < all.size(); ++i) all[i].index = i;
  for (int n = 1; n <= 5; ++n) {
    std::multiset<std::size_t> seen;
    for (int k = 1; k <= n; ++k)
      for (const SweepVariant& v : variants_of_shard(all, Shard{k, n})) {
        seen.insert(v.index);
        CHECK(static_cast<int>(v.index % static_cast<std::size_t>(n)) + 1 == k);
      }
    CHECK(seen.size() == all.size());
    CHECK(std::set<std::size_t>(seen.begin(), seen.end()).size() == all.size());
  }
}

TEST_CASE("each shard writes its own database") {
  CHECK(shard_database("runs.db", Shard{}) == "runs.db");
  CHECK(shard_database("runs.db", Shard{2, 4}) == "runs.shard-2-of-4.db");
  CHECK(shard_database("out/logs/ablation.sqlite", Shard{1, 3}) == "out/logs/ablation.shard-1-of-3.sqlite");
}
