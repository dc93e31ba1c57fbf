// The block registry: every block is documented, builds, counts exactly, and mistakes in using it are explained.
#include <catch2/catch.hpp>

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "blocks/block_helpers.h"
#include "blocks/builtin.h"
#include "experiments/config/experiment_config.h"
#include "framework/torch_model.h"
#include "tests/support/temp_files.h"

using namespace incept;

namespace {

// The input every block is tried on: 35x35 is the smallest grid the stems reduce without running out of pixels
// (Inception-v4's ends at 2x2), and the grid of the Inception-A and block35 stages.
constexpr std::int64_t kSide = 35;
const Shape kBlockInput = Shape::chw(8, kSide, kSide);

// A one-layer config exercising `def` with its required parameters filled in (aux heads hang off a 1x1 trunk).
std::string single_block_config(const BlockDef& def, bool bn, const std::string& extra = "") {
  std::string params = extra;
  for (const auto& p : def.params) {
    if (!p.required()) continue;
    params += fmt::format("{} = {}\n", p.name, p.type == ParamType::IntPair ? "3" : "4");
  }
  std::string model = fmt::format("[model]\ninput = [8, {}, {}]\nbn = {}\n", kSide, kSide, bn ? "true" : "false");
  if (def.role == BlockRole::AuxHead)
    return model + "[[model.layers]]\nname = \"trunk\"\nblock = \"conv\"\nout = 8\nkernel = 1\n" +
           fmt::format("[[model.aux]]\nname = \"head\"\nblock = \"{}\"\nat = \"trunk\"\n{}", def.name, params);
  return model + fmt::format("[[model.layers]]\nname = \"layer\"\nblock = \"{}\"\n{}", def.name, params);
}

}  // namespace

TEST_CASE("every registered block is documented", "[registry]") {
  const BlockRegistry& r = builtin_registry();
  CHECK(r.names().size() >= 33);
  for (const auto& [name, def] : r.all()) {
    INFO(name);
    CHECK(!def.summary.empty());
    CHECK(!def.details.empty());
    for (const auto& p : def.params) {
      INFO(p.name);
      CHECK(!p.meaning.empty());
    }
  }
  for (const char* required : {"conv", "maxpool", "avgpool", "global_avgpool", "dropout", "flatten", "linear",
                               "inception_naive", "inception_reduced", "inception_v1", "inception_v3_a",
                               "inception_v3_b", "inception_v3_c", "inception_v3_reduction_a",
                               "inception_v3_reduction_b", "aux_googlenet", "aux_v3", "separable_conv",
                               "inception_v4_stem", "inception_v4_a", "inception_v4_b", "inception_v4_c",
                               "inception_v4_reduction_a", "inception_v4_reduction_b", "inception_resnet_v1_stem",
                               "inception_resnet_v2_stem", "inception_resnet_a", "inception_resnet_b",
                               "inception_resnet_c", "inception_resnet_reduction_b", "xception_entry",
                               "xception_middle", "xception_exit"})
    CHECK(r.find(required) != nullptr);
}

TEST_CASE("every block builds a module whose parameters match its count, plain and batch-norm", "[registry]") {
  incept::testing::TempDir tmp;
  for (const auto& [name, def] : builtin_registry().all()) {
    for (bool bn : {false, true}) {
      INFO(name << (bn ? " (bn)" : ""));
      std::string path = tmp.write(name + ".toml", single_block_config(def, bn));
      ModelSpec spec = load_experiment(path).model;
      const LayerSpec& layer = def.role == BlockRole::AuxHead ? spec.aux.at(0).head : spec.layers.at(0);
      const NodeReport& rep = layer.report;
      // Read from the expansion, not from def.has_convs, so a block that has a conv cannot skip the BN checks.
      const bool has_conv = contains_conv(layer.ir);
      CHECK(def.has_convs == has_conv);
      Network net(spec);
      CHECK(count_parameters(*net) == spec.cost().params + spec.aux_cost().params);
      // Arithmetic blocks must count their work: no block silently counts zero.
      if (has_conv || name == "linear") CHECK(rep.cost.macs > 0);
      if (name == "maxpool" || name == "avgpool" || name == "global_avgpool") CHECK(rep.cost.other_ops > 0);
      // model.bn reaches every conv of the block (and only blocks with a conv have BN layers).
      int bn_layers = 0;
      for (const auto& p : net->named_parameters())
        if (p.key().rfind(layer.name + ".", 0) == 0 && p.key().find(".bn.") != std::string::npos) ++bn_layers;
      CHECK((bn_layers > 0) == (bn && has_conv));
      torch::NoGradGuard no_grad;
      net->train();
      ForwardResult out = net->forward_train(torch::randn({2, 8, kSide, kSide}));
      torch::Tensor y = def.role == BlockRole::AuxHead ? out.aux.at(0) : out.logits;
      std::vector<std::int64_t> expected = {2};
      expected.insert(expected.end(), rep.output.dims.begin(), rep.output.dims.end());
      CHECK(y.sizes().vec() == expected);
    }
  }
}

TEST_CASE("every block that takes the residual switch builds it, or refuses it naming both shapes", "[registry]") {
  incept::testing::TempDir tmp;
  int built = 0, refused = 0;
  for (const auto& [name, def] : builtin_registry().all()) {
    INFO(name);
    // Main-path blocks with a convolution that are not residual already take the switch; no other block does.
    const std::vector<ParamDoc> params = all_params(def);
    const bool listed =
        std::any_of(params.begin(), params.end(), [](const ParamDoc& p) { return p.name == "residual"; });
    CHECK(listed == def.takes_residual);
    if (!def.takes_residual) continue;
    const ModelSpec plain = load_experiment(tmp.write(name + ".toml", single_block_config(def, false))).model;
    const Shape in = kBlockInput, out = plain.layers.at(0).report.output;
    const std::string path =
        tmp.write(name + "_res.toml", single_block_config(def, false, "residual = true\nresidual_scale = 0.2\n"));
    if (out.height() != in.height() || out.width() != in.width()) {
      // A block that changes the grid cannot be added to its input: the error names the layer and both shapes.
      try {
        load_experiment(path);
        FAIL("a residual connection around a grid change was accepted");
      } catch (const ConfigError& e) {
        const std::string msg = e.what();
        INFO(msg);
        CHECK(msg.find("layer 'layer' (" + name + ")") != std::string::npos);
        CHECK(msg.find("residual connection") != std::string::npos);
        CHECK(msg.find(fmt::format("outputs 8x{}x{}", out.height(), out.width())) != std::string::npos);
        CHECK(msg.find("its input is " + in.str()) != std::string::npos);
      }
      ++refused;
      continue;
    }
    const ModelSpec spec = load_experiment(path).model;
    const NodeReport& rep = spec.layers.at(0).report;
    CHECK(rep.output == in);  // projected back to the input's channels
    // The projection is a 1x1 conv with bias from the block's channels to the input's.
    CHECK(rep.cost.params == plain.cost().params + out.channels() * 8 + 8);
    // The add, the scale multiply and the ReLU after the sum, one op per element each, on top of the projection's
    // bias adds.
    CHECK(rep.cost.other_ops == plain.cost().other_ops + 4 * in.numel());
    Network net(spec);
    CHECK(count_parameters(*net) == spec.cost().params);
    torch::NoGradGuard no_grad;
    CHECK(net->forward(torch::randn({2, 8, kSide, kSide})).sizes().vec() ==
          std::vector<std::int64_t>{2, 8, kSide, kSide});
    ++built;
  }
  CHECK(built >= 5);
  CHECK(refused >= 2);
}

TEST_CASE("batch-norm variants drop the conv bias unless asked to keep it", "[registry]") {
  incept::testing::TempDir tmp;
  auto params_with = [&](const std::string& extra) {
    std::string path = tmp.write("m.toml", "[model]\ninput = [4, 8, 8]\n" + extra +
                                               "[[model.layers]]\nname = \"c\"\nblock = \"conv\"\nout = 6\nkernel = 3\n");
    return load_experiment(path).model.cost().params;
  };
  CHECK(params_with("") == 6 * 4 * 9 + 6);
  CHECK(params_with("bn = true\n") == 6 * 4 * 9 + 2 * 6);              // weight + BN gamma/beta
  CHECK(params_with("bn = true\n[model.defaults.conv]\nbias = true\n") == 6 * 4 * 9 + 6 + 2 * 6);
}

TEST_CASE("registering a block twice names both definitions", "[registry]") {
  BlockRegistry r;
  BlockDef def{"twice", "s", "d", {}, BlockRole::Layer,
               [](const BlockArgs&, const BlockContext&) { return relu("r"); }};
  r.add(def, "first.cpp", 10);
  try {
    r.add(def, "second.cpp", 20);
    FAIL("duplicate accepted");
  } catch (const std::logic_error& e) {
    std::string msg = e.what();
    CHECK(msg.find("first.cpp:10") != std::string::npos);
    CHECK(msg.find("second.cpp:20") != std::string::npos);
  }
}

TEST_CASE("a block takes the conv and residual switches exactly when its expansion calls for them", "[registry]") {
  BlockRegistry r;
  auto add = [&](const std::string& name, Node node) {
    r.add(BlockDef{name, "s", "d", {blocks::channels("out", "channels")}, BlockRole::Layer,
                   [node](const BlockArgs&, const BlockContext&) { return node; }},
          "test.cpp", 1);
  };
  add("pool", max_pool("p", {3, 3}, {1, 1}));
  add("nested", concat("c", {max_pool("p", {3, 3}, {1, 1}), sequence("s", {relu("r"), conv_same("k", {}, 4, 3)})}));
  add("separable", sequence("s", {separable_conv("k", {}, 4, {3, 3})}));
  add("residual", residual("r", conv_same("k", {}, 8, 3)));
  CHECK_FALSE(r.find("pool")->has_convs);
  CHECK(r.find("nested")->has_convs);
  CHECK(r.find("separable")->has_convs);
  // The residual switch goes to conv-bearing blocks that are not residual already.
  CHECK_FALSE(r.find("pool")->takes_residual);
  CHECK(r.find("nested")->takes_residual);
  CHECK(r.find("separable")->takes_residual);
  CHECK(r.find("residual")->has_convs);
  CHECK_FALSE(r.find("residual")->takes_residual);
  // Hand-setting the flag has no effect: the registry derives it.
  BlockDef claimed{"claimed", "s", "d", {}, BlockRole::Layer,
                   [](const BlockArgs&, const BlockContext&) { return relu("r"); }};
  claimed.has_convs = true;
  r.add(claimed, "test.cpp", 2);
  CHECK_FALSE(r.find("claimed")->has_convs);
}

TEST_CASE("an unknown block name suggests the nearest and lists the known ones", "[registry]") {
  try {
    builtin_registry().get("inception_v2", SourcePos{"x.toml", 3, 9});
    FAIL("unknown block accepted");
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    CHECK(msg.find("x.toml:3:9: error: unknown block 'inception_v2'") != std::string::npos);
    CHECK(msg.find("did you mean 'inception_v1'") != std::string::npos);
    CHECK(msg.find("inception_reduced") != std::string::npos);
  }
}

namespace {
// The descriptions of every node of a report tree, depth first.
void collect_what(const incept::NodeReport& r, std::vector<std::string>& out) {
  out.push_back(r.what);
  for (const auto& c : r.children) collect_what(c, out);
}
}  // namespace

TEST_CASE("aux_googlenet pools like the paper (5x5/3) or like torchvision (adaptive 4x4)", "[registry]") {
  using namespace incept;
  const std::string config = testing::source_path("configs/imagenet/googlenet.toml");
  for (const auto& [sets, expected] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{}, "avgpool ->4x4"}, {{"model.aux1.pool_out=0"}, "avgpool 5x5/3"}}) {
    const ExperimentConfig cfg = load_experiment(config, sets);
    std::vector<std::string> what;
    collect_what(cfg.model.aux.at(0).head.report, what);
    INFO(fmt::format("{}", fmt::join(what, " | ")));
    CHECK(std::find(what.begin(), what.end(), expected) != what.end());
    CHECK(cfg.model.aux.at(0).head.report.output.str() == "1000");  // same shape either way: 4x4x128 into fc1
    CHECK(cfg.model.aux_cost().params == 6379984);
  }
}
