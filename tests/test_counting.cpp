// Params, MACs and shapes: the numbers users compare designs by must be exact, and must agree with the module that
// actually trains.
#include <catch2/catch.hpp>

#include <filesystem>

#include "cli/summary.h"
#include "experiments/config/experiment_config.h"
#include "framework/torch_model.h"
#include "tests/support/temp_files.h"

using namespace incept;
using incept::testing::source_path;

namespace {

ExperimentConfig load(const std::string& relative, std::vector<std::string> sets = {}) {
  return load_experiment(source_path(relative), sets);
}

std::int64_t total_params(const ModelSpec& s) { return s.cost().params + s.aux_cost().params; }

// Builds the LibTorch module and checks it against the IR: same parameter count; same output shape for a batch.
void check_module_matches(const ModelSpec& spec, bool run_forward) {
  Network net(spec);
  CHECK(count_parameters(*net) == total_params(spec));
  if (!run_forward) return;
  torch::NoGradGuard no_grad;
  std::vector<std::int64_t> dims = {2};
  dims.insert(dims.end(), spec.input.dims.begin(), spec.input.dims.end());
  net->train();  // aux heads run in training mode: check their shapes too
  ForwardResult r = net->forward_train(torch::randn(dims));
  std::vector<std::int64_t> expected = {2};
  const Shape out = spec.output();
  expected.insert(expected.end(), out.dims.begin(), out.dims.end());
  CHECK(r.logits.sizes().vec() == expected);
  REQUIRE(r.aux.size() == spec.aux.size());
  for (std::size_t i = 0; i < spec.aux.size(); ++i)
    CHECK(r.aux[i].size(1) == spec.aux[i].head.report.output.dims[0]);
}

Shape shape_of(const ModelSpec& s, const std::string& layer) {
  for (const auto& l : s.layers)
    if (l.name == layer) return l.report.output;
  FAIL("no layer " << layer);
  return {};
}

}  // namespace

TEST_CASE("seed 000 InceptionV1 block: 172,960 params, 256x256x256 output", "[counting][seed]") {
  auto cfg = load("configs/seed/inception_v1_block.toml");
  CHECK(total_params(cfg.model) == 172960);
  CHECK(cfg.model.output() == Shape::chw(256, 256, 256));
  check_module_matches(cfg.model, false);
}

TEST_CASE("seed 000 GoogLeNet: 6,951,502 params and the seed's shapes", "[counting][seed]") {
  auto cfg = load("configs/seed/googlenet.toml");
  const ModelSpec& m = cfg.model;
  CHECK(total_params(m) == 6951502);
  CHECK(shape_of(m, "conv1") == Shape::chw(64, 128, 128));
  CHECK(shape_of(m, "pool1") == Shape::chw(64, 63, 63));
  CHECK(shape_of(m, "conv2") == Shape::chw(192, 63, 63));
  CHECK(shape_of(m, "pool2") == Shape::chw(192, 31, 31));
  CHECK(shape_of(m, "inception3a") == Shape::chw(256, 31, 31));
  CHECK(shape_of(m, "inception3b") == Shape::chw(480, 31, 31));
  CHECK(shape_of(m, "pool3") == Shape::chw(480, 15, 15));
  CHECK(shape_of(m, "inception4d") == Shape::chw(528, 15, 15));
  CHECK(shape_of(m, "inception4e") == Shape::chw(832, 15, 15));
  CHECK(shape_of(m, "pool4") == Shape::chw(832, 7, 7));
  CHECK(shape_of(m, "inception5b") == Shape::chw(1024, 7, 7));
  CHECK(shape_of(m, "avgpool") == Shape::chw(1024, 1, 1));
  CHECK(m.output() == Shape::flat(1000));
  // Individual rows of the seed's torchsummary table.
  CHECK(m.layers[0].report.cost.params == 9472);
  CHECK(m.layers[2].report.cost.params == 110784);
  check_module_matches(m, false);
}

TEST_CASE("seed 000 InceptionV3_1 block: 168,288 params, 320 channels", "[counting][seed]") {
  auto cfg = load("configs/seed/inception_v3_1_block.toml");
  CHECK(total_params(cfg.model) == 168288);
  CHECK(cfg.model.output() == Shape::chw(320, 256, 256));
  check_module_matches(cfg.model, false);
}

TEST_CASE("seed 004 MNIST networks: reduced has 37,922 params, naive costs more", "[counting][seed]") {
  auto reduced = load("configs/mnist/reduced.toml");
  auto naive = load("configs/mnist/naive.toml");
  CHECK(total_params(reduced.model) == 37922);
  CHECK(reduced.model.output() == Shape::flat(10));
  CHECK(shape_of(reduced.model, "inception1") == Shape::chw(32, 28, 28));
  CHECK(shape_of(reduced.model, "inception3") == Shape::chw(64, 6, 6));
  // naive block: 3*out + in channels
  CHECK(shape_of(naive.model, "inception1") == Shape::chw(3 * 8 + 8, 28, 28));
  CHECK(shape_of(naive.model, "inception2") == Shape::chw(3 * 16 + 32, 13, 13));
  CHECK(total_params(naive.model) == 111250);
  CHECK(naive.model.cost().macs > 2 * reduced.model.cost().macs);
  check_module_matches(reduced.model, true);
  check_module_matches(naive.model, true);
}

TEST_CASE("torchvision GoogLeNet and Inception V3 counts", "[counting][torchvision]") {
  auto g = load("configs/imagenet/googlenet.toml");
  CHECK(g.model.cost().params == 6624904);  // torchvision's published count (aux heads dropped)
  CHECK(total_params(g.model) == 13004888); // aux_logits=True
  CHECK(std::llround(g.model.cost().macs / 1e6) == 1498);  // torchvision: 1.498 GFLOPS (MAC convention)
  CHECK(g.model.aux_cost().macs > 0);
  auto v3 = load("configs/imagenet/inception_v3.toml");
  CHECK(total_params(v3.model) == 27161264);
  CHECK(v3.model.cost().params == 23834568);
  CHECK(std::llround(v3.model.cost().macs / 1e6) == 5713);  // torchvision: 5.713
  check_module_matches(g.model, false);
  check_module_matches(v3.model, false);
}

TEST_CASE("every config in configs/ builds a module whose numel equals the counted params", "[counting]") {
  namespace fs = std::filesystem;
  int checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(source_path("configs"))) {
    if (entry.path().extension() != ".toml" || entry.path().string().find("/sweeps/") != std::string::npos) continue;
    INFO(entry.path().string());
    ExperimentConfig cfg = load_experiment(entry.path().string());
    // Forward passes only for the small networks; the large ones are covered by their count.
    check_module_matches(cfg.model, cfg.model.cost().macs < 50'000'000);
    ++checked;
  }
  CHECK(checked >= 18);
}

TEST_CASE("conv and linear MACs follow the fvcore convention", "[counting]") {
  incept::testing::TempDir tmp;
  std::string path = tmp.write("m.toml", R"(
[model]
input = [3, 10, 10]
[[model.layers]]
name = "c"
block = "conv"
out = 8
kernel = 3
padding = 1
groups = 1
[[model.layers]]
name = "g"
block = "conv"
out = 8
kernel = 3
stride = 2
groups = 4
[[model.layers]]
name = "fc"
block = "linear"
out = 5
)");
  auto m = load_experiment(path).model;
  CHECK(m.layers[0].report.cost.macs == 8 * 10 * 10 * 3 * 9);  // Cout*Hout*Wout*Cin*kh*kw
  CHECK(m.layers[0].report.cost.params == 8 * 3 * 9 + 8);
  CHECK(m.layers[1].report.output == Shape::chw(8, 4, 4));
  CHECK(m.layers[1].report.cost.macs == 8 * 4 * 4 * (8 / 4) * 9);  // grouped: Cin/groups
  CHECK(m.layers[2].report.cost.macs == 8 * 4 * 4 * 5);            // in*out
  check_module_matches(m, true);
}

TEST_CASE("other_ops and the memory estimate of a small network match a count by hand", "[counting]") {
  incept::testing::TempDir tmp;
  const ModelSpec m = load_experiment(tmp.write("m.toml", R"(
[model]
input = [3, 8, 8]
[[model.layers]]
name = "conv"
block = "conv"
out = 4
kernel = 3
padding = 1
bn = true
[[model.layers]]
name = "pool"
block = "maxpool"
kernel = 2
[[model.layers]]
name = "proj"
block = "conv"
out = 6
kernel = 1
activation = "none"
[[model.layers]]
name = "gap"
block = "global_avgpool"
[[model.layers]]
name = "fc"
block = "linear"
out = 5
)")).model;
  REQUIRE(m.layers.size() == 5);
  // README "Counting conventions": other_ops counts one op per element touched by bias adds, batch norm
  // (scale + shift: 2), ReLU, pooling windows (kh*kw reads per output element) and global pooling (one add per
  // input element). The memory estimate counts float32 elements of the input, of every intermediate output
  // (conv, batch norm and ReLU each once) doubled for backward, and of the parameters.
  //
  // conv  3x8x8 -> 4x8x8 (256 elements), batch norm, so no bias; ReLU.
  //       params 4*3*3*3 = 108 + BN scale and shift 2*4 = 8 -> 116; MACs 4*8*8 * 3*3*3 = 6,912
  //       other_ops 256 * (2 BN + 1 ReLU) = 768; kept outputs conv + BN + ReLU = 3 * 256 = 768
  // pool  2x2 max, stride 2: 4x8x8 -> 4x4x4 (64); other_ops 64 * 2*2 = 256; kept outputs 64
  // proj  1x1 conv with bias, no activation: 4x4x4 -> 6x4x4 (96); params 6*4 + 6 = 30; MACs 6*4*4 * 4 = 384
  //       other_ops 96 bias adds; kept outputs 96
  // gap   6x4x4 -> 6x1x1 (6); other_ops 96 (one add per input element); kept outputs 6
  // fc    6 -> 5 with bias; params 6*5 + 5 = 35; MACs 30; other_ops 5 bias adds; kept outputs 5
  const std::int64_t ops[] = {768, 256, 96, 96, 5}, kept[] = {768, 64, 96, 6, 5};
  for (std::size_t i = 0; i < 5; ++i) {
    INFO("layer " << m.layers[i].name);
    CHECK(m.layers[i].report.cost.other_ops == ops[i]);
    CHECK(m.layers[i].report.activation_elems == kept[i]);
  }
  CHECK(m.cost().params == 116 + 30 + 35);               // 181
  CHECK(m.cost().macs == 6912 + 384 + 30);               // 7,326
  CHECK(m.cost().other_ops == 768 + 256 + 96 + 96 + 5);  // 1,221
  CHECK(m.activation_elems() == 768 + 64 + 96 + 6 + 5);  // 939

  // In MiB (2^20 bytes), 4 bytes per element: input 3*8*8 = 192 elements = 768 bytes; forward/backward
  // 2 * 939 * 4 = 7,512 bytes; params 181 * 4 = 724 bytes; total 9,004 bytes. Exact in binary floating point.
  const double MiB = 1024.0 * 1024.0;
  const MemoryEstimate mem = estimate_memory(m);
  CHECK(mem.input_mb == 768 / MiB);
  CHECK(mem.forward_backward_mb == 7512 / MiB);
  CHECK(mem.params_mb == 724 / MiB);
  CHECK(mem.total_mb == 9004 / MiB);
  // The same figures in `incept summary --json`.
  const std::string json = summary_json(m, "m", 1);
  CHECK(json.find("\"other_ops\":1221") != std::string::npos);
  CHECK(json.find("\"total\":0.008586883544921875}") != std::string::npos);  // 9004 / 2^20, exactly
  check_module_matches(m, true);
}

TEST_CASE("the residual switch wraps a layer in x + scale * proj(block(x)), counted by hand", "[counting][residual]") {
  incept::testing::TempDir tmp;
  const ModelSpec m = load_experiment(tmp.write("m.toml", R"(
[model]
input = [4, 6, 6]
[[model.layers]]
name = "c"
block = "conv"
out = 8
kernel = 3
padding = 1
residual = true
residual_scale = 0.5
)")).model;
  // block: 3x3 conv 4 -> 8 with bias and ReLU: params 8*4*9 + 8 = 296; MACs 8*36 * 36 = 10,368;
  //        other_ops 288 bias + 288 ReLU.
  // proj:  1x1 conv 8 -> 4 with bias, no BN, no activation: params 4*8 + 4 = 36; MACs 4*36 * 8 = 1,152;
  //        other_ops 144 bias.
  // x + 0.5 * proj -> ReLU on 4x6x6 = 144 elements: 144 adds + 144 multiplies + 144 ReLU.
  const NodeReport& r = m.layers.at(0).report;
  CHECK(r.output == Shape::chw(4, 6, 6));
  CHECK(r.cost.params == 296 + 36);
  CHECK(r.cost.macs == 10368 + 1152);
  CHECK(r.cost.other_ops == 576 + 144 + 3 * 144);
  // Kept for backward: conv 288 + ReLU 288, proj 144, the sum 144 and its ReLU 144.
  CHECK(r.activation_elems == 576 + 144 + 288);
  check_module_matches(m, true);
  // Named like the IR: the block's conv and the projection live under the layer's body.
  Network net(m);
  std::vector<std::string> names;
  for (const auto& p : net->named_parameters()) names.push_back(p.key());
  CHECK(names == std::vector<std::string>{"c.body.conv.conv.weight", "c.body.conv.conv.bias", "c.body.proj.conv.weight",
                                          "c.body.proj.conv.bias"});

  // residual_activation = none and residual_scale = 1: the add alone.
  const ModelSpec plain = load_experiment(tmp.write("p.toml", R"(
[model]
input = [4, 6, 6]
[[model.layers]]
name = "c"
block = "conv"
out = 8
kernel = 3
padding = 1
residual = true
residual_activation = "none"
)")).model;
  CHECK(plain.layers.at(0).report.cost.other_ops == 576 + 144 + 144);
}

TEST_CASE("Inception-v4, Inception-ResNet-v2 and Xception: timm's published counts, Inception-ResNet-v1's own",
          "[counting][timm]") {
  // Published: timm's inception_v4, inception_resnet_v2 and legacy_xception with 1000 classes (parameters only; BN
  // running statistics are buffers). The module built from each config must hold exactly as many.
  auto v4 = load("configs/imagenet/inception_v4.toml");
  CHECK(v4.model.cost().params == 42679816);
  CHECK(std::llround(v4.model.cost().macs / 1e6) == 12254);
  CHECK(shape_of(v4.model, "stem") == Shape::chw(384, 35, 35));
  CHECK(shape_of(v4.model, "inception_a4") == Shape::chw(384, 35, 35));
  CHECK(shape_of(v4.model, "reduction_a") == Shape::chw(1024, 17, 17));
  CHECK(shape_of(v4.model, "inception_b7") == Shape::chw(1024, 17, 17));
  CHECK(shape_of(v4.model, "reduction_b") == Shape::chw(1536, 8, 8));
  CHECK(shape_of(v4.model, "inception_c3") == Shape::chw(1536, 8, 8));
  check_module_matches(v4.model, false);

  auto irv2 = load("configs/imagenet/inception_resnet_v2.toml");
  CHECK(irv2.model.cost().params == 55843464);
  CHECK(std::llround(irv2.model.cost().macs / 1e6) == 13156);
  CHECK(shape_of(irv2.model, "stem") == Shape::chw(320, 35, 35));
  CHECK(shape_of(irv2.model, "mixed_6a") == Shape::chw(1088, 17, 17));
  CHECK(shape_of(irv2.model, "mixed_7a") == Shape::chw(2080, 8, 8));
  CHECK(shape_of(irv2.model, "conv2d_7b") == Shape::chw(1536, 8, 8));
  check_module_matches(irv2.model, false);

  auto xception = load("configs/imagenet/xception.toml");
  CHECK(xception.model.cost().params == 22855952);
  CHECK(std::llround(xception.model.cost().macs / 1e6) == 8357);
  CHECK(shape_of(xception.model, "conv2") == Shape::chw(64, 147, 147));
  CHECK(shape_of(xception.model, "block1") == Shape::chw(128, 74, 74));
  CHECK(shape_of(xception.model, "block3") == Shape::chw(728, 19, 19));
  CHECK(shape_of(xception.model, "block11") == Shape::chw(728, 19, 19));
  CHECK(shape_of(xception.model, "block12") == Shape::chw(1024, 10, 10));
  CHECK(shape_of(xception.model, "conv4") == Shape::chw(2048, 10, 10));
  check_module_matches(xception.model, false);

  // No published figure: what this config counts, pinned so that a change to it is seen.
  auto irv1 = load("configs/imagenet/inception_resnet_v1.toml");
  CHECK(irv1.model.cost().params == 24357096);
  CHECK(std::llround(irv1.model.cost().macs / 1e6) == 6309);
  CHECK(shape_of(irv1.model, "stem") == Shape::chw(256, 35, 35));
  CHECK(shape_of(irv1.model, "mixed_6a") == Shape::chw(896, 17, 17));
  CHECK(shape_of(irv1.model, "mixed_7a") == Shape::chw(1792, 8, 8));
  check_module_matches(irv1.model, false);
}

TEST_CASE("an Inception-ResNet block counts its branches, its linear projection and the sum", "[counting][residual]") {
  // inception_resnet_a on 16x8x8 (1,024 elements) with every width 4 and plain convs (bias, no BN):
  //   branch1x1 16->4: 68; branch3x3 16->4 (68), 4->4 3x3 (148); branch3x3dbl 68 + 148 + 148
  //   proj 12 -> 16 with bias: 12*16 + 16 = 208. Params 68 + 216 + 364 + 208 = 856.
  //   MACs per pixel: 64 + (64 + 144) + (64 + 144 + 144) + 192 = 816, times 64 pixels = 52,224.
  //   other_ops: bias + ReLU on each of the 6 branch convs' 256 elements = 3,072; proj bias 1,024;
  //   the sum x + 0.17 * proj: 1,024 adds + 1,024 multiplies; ReLU 1,024.
  incept::testing::TempDir tmp;
  const ModelSpec m = load_experiment(tmp.write("m.toml", R"(
[model]
input = [16, 8, 8]
[model.defaults.inception_resnet_a]
ch1x1 = 4
ch3x3red = 4
ch3x3 = 4
ch3x3dbl_red = 4
ch3x3dbl_1 = 4
ch3x3dbl_2 = 4
[[model.layers]]
name = "block35"
block = "inception_resnet_a"
)")).model;
  const NodeReport& r = m.layers.at(0).report;
  CHECK(r.output == Shape::chw(16, 8, 8));
  CHECK(r.cost.params == 856);
  CHECK(r.cost.macs == 52224);
  CHECK(r.cost.other_ops == 3072 + 1024 + 3 * 1024);
  check_module_matches(m, true);
}
