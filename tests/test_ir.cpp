// The IR's operations one by one: the residual connection and the depthwise-separable convolution, counted by hand
// and checked against the LibTorch module built from the same nodes (parameters and the function it computes).
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "framework/analysis.h"
#include "framework/torch_model.h"

using namespace incept;

namespace {

ConvStyle plain() { return ConvStyle{false, 1e-3, true}; }
ConvStyle with_bn() { return ConvStyle{true, 1e-3, false}; }

// The submodule of `m` registered as `name`, as the OpModule it is.
std::shared_ptr<OpModule> child(const std::shared_ptr<OpModule>& m, const std::string& name) {
  for (const auto& item : m->named_children())
    if (item.key() == name) return std::dynamic_pointer_cast<OpModule>(item.value());
  FAIL("no submodule " << name);
  return nullptr;
}

}  // namespace

TEST_CASE("a residual connection adds its input to the scaled body and counts the add", "[ir][residual]") {
  // x: 8x6x6 (288 elements). body: 3x3 conv 8 -> 8 with bias, no activation.
  //   params 8*8*9 + 8 = 584; MACs 288 * 8*9 = 20,736; other_ops 288 bias adds.
  // x + 0.17 * body(x) -> ReLU: 288 adds, 288 multiplies (scale != 1), 288 ReLU = 864 more other_ops.
  const Node n = residual("block", conv_same("conv", plain(), 8, 3, /*relu=*/false), 0.17, /*relu=*/true);
  const NodeReport r = analyze(n, Shape::chw(8, 6, 6));
  CHECK(r.output == Shape::chw(8, 6, 6));
  CHECK(r.cost.params == 584);
  CHECK(r.cost.macs == 20736);
  CHECK(r.cost.other_ops == 288 + 3 * 288);
  // Kept for backward: the conv's output, the sum and the ReLU's output.
  CHECK(r.activation_elems == 3 * 288);
  REQUIRE(r.children.size() == 1);
  CHECK(r.children[0].name == "conv");
  CHECK(r.what == "x + 0.17*(3x3) -> relu");

  // Scale 1 and no activation: the add alone.
  const NodeReport plain_sum = analyze(residual("block", conv_same("conv", plain(), 8, 3, false)), Shape::chw(8, 6, 6));
  CHECK(plain_sum.cost.other_ops == 288 + 288);
  CHECK(plain_sum.what == "x + (3x3)");

  // The module computes relu(x + 0.17 * body(x)) and holds exactly the counted parameters.
  torch::manual_seed(0);
  auto m = build_module(n, r);
  CHECK(count_parameters(*m) == 584);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({2, 8, 6, 6});
  const torch::Tensor expected = torch::relu(x + 0.17 * child(m, "conv")->forward(x));
  CHECK(torch::allclose(m->forward(x), expected, 1e-5, 1e-6));
}

TEST_CASE("a residual connection with a projection shortcut adds the two paths", "[ir][residual]") {
  // x: 4x8x8. body: 3x3/2 conv 4 -> 6 (pad 1) -> 6x4x4; shortcut: 1x1/2 conv 4 -> 6 with BN, no activation.
  //   body params 6*4*9 + 6 = 222, MACs 96 * 36 = 3,456; shortcut params 6*4 + 2*6 = 36 (bias-free with BN),
  //   MACs 96 * 4 = 384. Sum of 96 elements, scale 1, no ReLU: 96 other_ops.
  const Node n = residual("block", conv_unit("body", plain(), 6, {3, 3}, {2, 2}, {1, 1}, false),
                          conv_unit("skip", with_bn(), 6, {1, 1}, {2, 2}, {0, 0}, false));
  const NodeReport r = analyze(n, Shape::chw(4, 8, 8));
  CHECK(r.output == Shape::chw(6, 4, 4));
  CHECK(r.cost.params == 222 + 36);
  CHECK(r.cost.macs == 3456 + 384);
  CHECK(r.cost.other_ops == 96 /*body bias*/ + 2 * 96 /*shortcut BN*/ + 96 /*add*/);
  CHECK(r.what == "(1x1/2) + (3x3/2)");

  torch::manual_seed(0);
  auto m = build_module(n, r);
  CHECK(count_parameters(*m) == r.cost.params);
  torch::NoGradGuard no_grad;
  m->eval();
  const torch::Tensor x = torch::randn({2, 4, 8, 8});
  const torch::Tensor expected = child(m, "skip")->forward(x) + child(m, "body")->forward(x);
  CHECK(torch::allclose(m->forward(x), expected, 1e-5, 1e-6));
}

TEST_CASE("a residual body whose shape differs from its input is an error naming both shapes", "[ir][residual]") {
  // 8 -> 16 channels: x + body(x) cannot be formed.
  try {
    analyze(sequence("net", {residual("block", conv_same("conv", plain(), 16, 3))}), Shape::chw(8, 6, 6));
    FAIL("mismatched residual accepted");
  } catch (const ShapeError& e) {
    CHECK(e.where() == "block");
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("16x6x6") != std::string::npos);
    CHECK(msg.find("8x6x6") != std::string::npos);
  }
  // A stride-2 body keeps the channels but not the grid.
  CHECK_THROWS_AS(analyze(residual("block", conv_unit("conv", plain(), 8, {3, 3}, {2, 2}, {1, 1})),
                          Shape::chw(8, 6, 6)),
                  ShapeError);
  // The projection shortcut must match the body too.
  try {
    analyze(residual("block", conv_same("body", plain(), 8, 3), conv_same("skip", plain(), 4, 1)),
            Shape::chw(8, 6, 6));
    FAIL("mismatched shortcut accepted");
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("8x6x6") != std::string::npos);
    CHECK(msg.find("4x6x6") != std::string::npos);
    CHECK(msg.find("shortcut 'skip'") != std::string::npos);
  }
}

TEST_CASE("a depthwise-separable convolution counts its depthwise and pointwise halves", "[ir][separable]") {
  // x: 8x10x10. 3x3 depthwise (8 filters, stride 1, pad 1, no bias) -> 8x10x10; pointwise 1x1 8 -> 16 with bias.
  //   params 8*9 + 16*8 + 16 = 216; MACs 800*9 + 1600*8 = 7,200 + 12,800 = 20,000
  //   other_ops 1600 bias adds + 1600 ReLU; kept: depthwise 800 + pointwise 1600 + ReLU 1600.
  const Node n = separable_conv("sep", plain(), 16, {3, 3});
  const NodeReport r = analyze(n, Shape::chw(8, 10, 10));
  CHECK(r.output == Shape::chw(16, 10, 10));
  CHECK(r.cost.params == 216);
  CHECK(r.cost.macs == 20000);
  CHECK(r.cost.other_ops == 3200);
  CHECK(r.activation_elems == 800 + 1600 + 1600);
  CHECK(r.what == "sepconv 3x3/1 +relu");

  // With BN (bias-free) and stride 2: 8x10x10 -> 8x5x5 -> 16x5x5; params 72 + 128 + 32 = 232.
  const NodeReport bn = analyze(separable_conv("sep", with_bn(), 16, {3, 3}, {2, 2}, {1, 1}, false),
                                Shape::chw(8, 10, 10));
  CHECK(bn.output == Shape::chw(16, 5, 5));
  CHECK(bn.cost.params == 232);
  CHECK(bn.cost.macs == 200 * 9 + 400 * 8);
  CHECK(bn.cost.other_ops == 400 * 2);

  // The module: depthwise conv with groups = channels, then the pointwise conv, then ReLU.
  torch::manual_seed(0);
  auto m = build_module(n, r);
  CHECK(count_parameters(*m) == 216);
  std::map<std::string, torch::Tensor> p;
  for (const auto& item : m->named_parameters()) p[item.key()] = item.value();
  REQUIRE(p.count("depthwise.weight") == 1);
  CHECK(p.count("depthwise.bias") == 0);
  CHECK(p["depthwise.weight"].sizes().vec() == std::vector<std::int64_t>{8, 1, 3, 3});
  CHECK(p["pointwise.weight"].sizes().vec() == std::vector<std::int64_t>{16, 8, 1, 1});
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({2, 8, 10, 10});
  const torch::Tensor dw = torch::conv2d(x, p["depthwise.weight"], {}, 1, 1, 1, 8);
  const torch::Tensor expected = torch::relu(torch::conv2d(dw, p["pointwise.weight"], p["pointwise.bias"]));
  CHECK(torch::allclose(m->forward(x), expected, 1e-5, 1e-6));
}

TEST_CASE("separable conv shape errors name the problem", "[ir][separable]") {
  CHECK_THROWS_AS(analyze(separable_conv("sep", plain(), 0, {3, 3}), Shape::chw(8, 10, 10)), ShapeError);
  CHECK_THROWS_AS(analyze(separable_conv("sep", plain(), 4, {5, 5}, {1, 1}, {0, 0}), Shape::chw(8, 3, 3)),
                  ShapeError);
  CHECK_THROWS_AS(analyze(separable_conv("sep", plain(), 4, {3, 3}), Shape::flat(10)), ShapeError);
}

TEST_CASE("contains_op and op_name see every operation of a tree", "[ir]") {
  const Node n = sequence("s", {concat("c", {max_pool("p", {3, 3}, {1, 1}, {1, 1}), relu("r")}),
                                residual("res", separable_conv("sep", plain(), 4, {3, 3}))});
  CHECK(contains_op<ResidualAttrs>(n));
  CHECK(contains_op<SeparableConvAttrs>(n));
  CHECK(contains_conv(n));
  CHECK_FALSE(contains_op<ConvAttrs>(n));
  CHECK_FALSE(contains_op<LinearAttrs>(n));
  CHECK(std::string(op_name(n.children[1])) == "residual");
  CHECK(std::string(op_name(n.children[1].children[0])) == "separable_conv");
}
