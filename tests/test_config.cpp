// The config language: extends, overrides, defaults per kind, and errors that point at file:line:col.
#include <catch2/catch.hpp>

#include "experiments/config/experiment_config.h"
#include "tests/support/temp_files.h"

using namespace incept;
using incept::testing::TempDir;

namespace {

const char* kSmall = R"(name = "small"
[model]
input = [1, 12, 12]

[[model.layers]]
name = "stem"
block = "conv"
out = 4
kernel = 3
padding = 1

[[model.layers]]
name = "mix"
block = "inception_reduced"
out = 8

[[model.layers]]
name = "head"
block = "linear"
out = 10
)";

// Loads `text` expecting failure; returns the formatted diagnostics.
std::string errors_of(const TempDir& tmp, const std::string& text, std::vector<std::string> sets = {}) {
  std::string path = tmp.write("bad.toml", text);
  try {
    load_experiment(path, sets);
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("config was accepted:\n" << text);
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a valid config resolves layers in order with defaults filled", "[config]") {
  TempDir tmp;
  auto cfg = load_experiment(tmp.write("ok.toml", kSmall));
  REQUIRE(cfg.model.layers.size() == 3);
  CHECK(cfg.name == "small");
  CHECK(cfg.model.layers[1].args.number("ratio") == 0.5);
  CHECK(cfg.model.layers[1].report.output == Shape::chw(32, 12, 12));
  CHECK(cfg.hash.size() == 16);
}

TEST_CASE("overrides (--set) reach any dotted path, addressing layers by name", "[config]") {
  TempDir tmp;
  std::string path = tmp.write("ok.toml", kSmall);
  auto base = load_experiment(path);
  auto wider = load_experiment(path, {"model.mix.out=16", "train.epochs=1", "data.dataset=synthetic"});
  CHECK(wider.model.layers[1].report.output.channels() == 64);
  CHECK(wider.train.epochs == 1);
  CHECK(wider.data.dataset == "synthetic");
  CHECK(wider.hash != base.hash);
  auto swapped = load_experiment(path, {"model.mix.block=inception_naive"});
  CHECK(swapped.model.layers[1].block == "inception_naive");
  CHECK(swapped.model.layers[1].report.output.channels() == 3 * 8 + 4);
}

TEST_CASE("extends merges tables deeply and the extending file wins", "[config]") {
  TempDir tmp;
  tmp.write("base.toml", kSmall);
  auto child = load_experiment(tmp.write("child.toml", R"(extends = "base.toml"
name = "child"
[model.mix]
ratio = 0.25
[model.defaults.conv]
bn = true
[train]
epochs = 5
)"));
  CHECK(child.name == "child");
  CHECK(child.train.epochs == 5);
  CHECK(child.model.layers.size() == 3);
  CHECK(child.model.layers[1].args.number("ratio") == 0.25);
  CHECK(child.model.layers[0].args.flag("bn"));
  CHECK_FALSE(child.model.layers[0].args.flag("bias"));
}

TEST_CASE("cyclic and missing extends are errors at the extends line", "[config]") {
  TempDir tmp;
  tmp.write("a.toml", "extends = \"b.toml\"\n");
  std::string b = tmp.write("b.toml", "\nextends = \"a.toml\"\n");
  try {
    load_experiment(b);
    FAIL("cycle accepted");
  } catch (const ConfigError& e) {
    CHECK(contains(e.what(), "extends cycle"));
    CHECK(contains(e.what(), ":1:11: error:"));
  }
  std::string msg = errors_of(tmp, "name = \"x\"\nextends = \"nope.toml\"\n");
  CHECK(contains(msg, "bad.toml:2:11: error: extends"));
  CHECK(contains(msg, "does not exist"));
}

TEST_CASE("syntax errors carry line and column", "[config]") {
  TempDir tmp;
  const std::string path = (tmp.path() / "bad.toml").string();
  // Line 3: `input = [1, 28 28]` lacks a comma; column 16 is the second "28", where the parser stopped.
  CHECK(errors_of(tmp, "name = \"x\"\n[model]\ninput = [1, 28 28]\n") ==
        path + ":3:16: error: Error while parsing array: expected comma or closing ']', saw '2'");
  // Line 8 of kSmall: `out = 4` made `out = = 4`; column 7 is the second '='.
  std::string text = kSmall;
  text.replace(text.find("out = 4"), 7, "out = = 4");
  CHECK(errors_of(tmp, text) == path + ":8:7: error: Error while parsing value: could not determine value type");
}

TEST_CASE("unknown keys get a 'did you mean', and every error of a file is reported at once", "[config]") {
  TempDir tmp;
  std::string text = kSmall;
  text += "\n[train]\nepohcs = 3\nlr = \"fast\"\n";
  text.replace(text.find("out = 8"), 7, "ou = 8");
  std::string msg = errors_of(tmp, text);
  CHECK(contains(msg, "unknown key 'epohcs' in [train]; did you mean 'epochs'?"));
  CHECK(contains(msg, "train.lr: expected a number, got a string"));
  CHECK(contains(msg, "unknown key 'ou' for block 'inception_reduced' in layer 'mix'; did you mean 'out'?"));
  CHECK(contains(msg, "block 'inception_reduced' needs 'out'"));
  // each message points at a line of the file
  CHECK(contains(msg, "bad.toml:23:1: error: unknown key 'epohcs'"));
  CHECK(contains(msg, "bad.toml:24:6: error: train.lr"));
}

TEST_CASE("out-of-range values and unknown blocks are rejected with their position", "[config]") {
  TempDir tmp;
  std::string text = kSmall;
  text.replace(text.find("out = 4"), 7, "out = -4");
  text.replace(text.find("\"inception_reduced\""), 19, "\"inception_reducd\"");
  std::string msg = errors_of(tmp, text);
  CHECK(contains(msg, "bad.toml:8:7: error: layer 'stem': out: -4 is out of range; it must be at least 1"));
  CHECK(contains(msg, "unknown block 'inception_reducd'; did you mean 'inception_reduced'?"));
}

TEST_CASE("shape errors name the layer and the shapes involved", "[config]") {
  TempDir tmp;
  std::string msg = errors_of(tmp, kSmall, {"model.input=[1, 2, 2]", "model.stem.padding=0"});
  CHECK(contains(msg, "layer 'stem' (conv)"));
  CHECK(contains(msg, "kernel 3x3"));
  CHECK(contains(msg, "1x2x2"));
  // a reduction ratio that leaves zero channels
  msg = errors_of(tmp, kSmall, {"model.mix.ratio=0.01"});
  CHECK(contains(msg, "layer 'mix' (inception_reduced) at branch3x3.reduce"));
  CHECK(contains(msg, "0 output channels"));
}

TEST_CASE("duplicate layer names and bad overrides are errors", "[config]") {
  TempDir tmp;
  std::string text = kSmall;
  text.replace(text.find("name = \"mix\""), 12, "name = \"stem\"");
  CHECK(contains(errors_of(tmp, text), "duplicate layer name 'stem' (first defined at "));
  CHECK(contains(errors_of(tmp, kSmall, {"model.mixx.out=3"}), "unknown key 'mixx' in [model]; did you mean 'mix'?"));
  CHECK(contains(errors_of(tmp, kSmall, {"train.epochs"}), "--set train.epochs: error: expected KEY=VALUE"));
  CHECK(contains(errors_of(tmp, kSmall, {"train.epochs=0"}), "--set train.epochs=0: error: train.epochs: 0 is out of range"));
}

TEST_CASE("aux heads attach to a named layer and keep their loss weight", "[config]") {
  TempDir tmp;
  std::string text = std::string(kSmall) +
                     "\n[[model.aux]]\nname = \"aux\"\nblock = \"aux_googlenet\"\nat = \"mix\"\nclasses = 10\n"
                     "pool_kernel = 3\npool_stride = 3\n";
  auto cfg = load_experiment(tmp.write("aux.toml", text));
  REQUIRE(cfg.model.aux.size() == 1);
  CHECK(cfg.model.aux[0].weight == 0.3);
  CHECK(cfg.model.aux[0].at_index == 1);
  CHECK(cfg.model.aux_cost().macs > 0);
  std::string bad = std::string(kSmall) + "\n[[model.aux]]\nblock = \"aux_googlenet\"\nat = \"mx\"\nclasses = 10\n";
  CHECK(contains(errors_of(tmp, bad), "'at' must name a layer; did you mean 'mix'?"));
}

TEST_CASE("an aux head's keys take effect from every place a user can write them, or are errors there", "[config]") {
  TempDir tmp;
  const std::string base = std::string(kSmall) +
                           "\n[[model.aux]]\nname = \"aux1\"\nblock = \"aux_googlenet\"\nat = \"mix\"\nclasses = 10\n"
                           "pool_kernel = 3\npool_stride = 3\nhidden = 32\n";
  const std::string path = tmp.write("aux.toml", base);
  CHECK(load_experiment(path).model.aux.at(0).weight == 0.3);
  CHECK(load_experiment(path, {"model.aux1.weight=1.0"}).model.aux.at(0).weight == 1.0);
  CHECK(load_experiment(tmp.write("by_name.toml", base + "\n[model.aux1]\nweight = 0.7\n")).model.aux.at(0).weight ==
        0.7);
  const std::string no_own_weight = tmp.write(
      "by_block.toml", std::string(kSmall) +
                           "\n[model.defaults.aux_googlenet]\nweight = 0.5\n[[model.aux]]\nname = \"aux1\"\n"
                           "block = \"aux_googlenet\"\nat = \"mix\"\nclasses = 10\npool_kernel = 3\npool_stride = 3\n"
                           "hidden = 32\n");
  CHECK(load_experiment(no_own_weight).model.aux.at(0).weight == 0.5);
  // Each place checks its value, the lower-priority ones too.
  CHECK(contains(errors_of(tmp, base, {"model.aux1.weight=abc"}),
                 "--set model.aux1.weight=abc: error: model.aux1.weight: expected a number, got a string"));
  CHECK(contains(errors_of(tmp, base, {"model.defaults.aux_googlenet.weight=abc"}),
                 "model.defaults.aux_googlenet.weight: expected a number"));
  CHECK(contains(errors_of(tmp, base, {"model.aux1.weight=-1"}), "model.aux1.weight"));
}

TEST_CASE("override tables cannot rename, and a layer's name under [model] must hold a table", "[config]") {
  TempDir tmp;
  CHECK(contains(errors_of(tmp, std::string(kSmall) + "\n[model.mix]\nname = \"renamed\"\n"),
                 "error: [model.mix] cannot set 'name'"));
  CHECK(contains(errors_of(tmp, kSmall, {"model.mix=5"}),
                 "--set model.mix=5: error: model.mix must be a table of overrides for 'mix', not an integer"));
  CHECK(contains(errors_of(tmp, kSmall, {"model.defaults.conv.name=x"}), "[model.defaults.conv] cannot set 'name'"));
  // A stray dot is a typo, never a shorter path that silently sets something else.
  CHECK(contains(errors_of(tmp, kSmall, {"model.mix.=5"}), "--set model.mix.=5: error: 'model.mix.' has an empty path component"));
  CHECK(contains(errors_of(tmp, kSmall, {"model..mix=5"}), "'model..mix' has an empty path component"));
}
