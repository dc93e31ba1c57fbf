// Inception-ResNet blocks (Szegedy et al. 2016, "Inception-v4, Inception-ResNet and the Impact of Residual
// Connections on Learning"): the residual blocks A/B/C on the 35x35, 17x17 and 8x8 grids (timm's Block35, Block17,
// Block8), the -v1 and -v2 stems and the 17x17 -> 8x8 reduction. Reduction-A is inception_v4_reduction_a with the
// paper's k, l, m, n.
//
// Each residual block is x + scale * proj(concat(branches)) [-> ReLU]: proj is the paper's linear 1x1 back to the
// input's channels (bias, no BN, no activation), so a block keeps whatever width its input has. Defaults are
// Inception-ResNet-v2's widths as timm builds them; the -v1 widths are in the paper's figs. 10-13 (and in
// configs/imagenet/inception_resnet_v1.toml).
#include "blocks/block_helpers.h"

namespace incept::blocks {

namespace {

ParamDoc scale_param(const std::string& def) {
  return real("scale", def, "scale of the residual branch before the sum (the paper: 0.1-0.3 keeps training stable)",
              0.0, 1000.0);
}
ParamDoc activation_param() {
  return activation("activation", "\"relu\"",
                    "relu or none after the sum (none for the last block8 of Inception-ResNet-v2)");
}

// x + scale * proj(branches(x)) [-> ReLU]
Node residual_block(std::vector<Node> branches, const BlockArgs& a, const BlockContext& c) {
  return residual("block",
                  sequence("body", {concat("branches", std::move(branches)),
                                    residual_projection("proj", c.conv, c.input.channels())}),
                  a.number("scale"), a.text("activation") == "relu");
}

void register_stems(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "inception_resnet_v1_stem", "Inception-ResNet-v1 stem (fig. 14): 299x299x3 -> 35x35x256",
      "conv1a 3x3/2 V -> conv2a 3x3 V -> conv2b 3x3 -> 3x3/2 max pool -> conv3b 1x1 -> conv4a 3x3 V -> conv4b "
      "3x3/2 V. Output conv4b channels. A plain stack, no branches (FaceNet's inception_resnet_v1 uses it too).",
      {channels("conv1a", "3x3/2 valid", "32"), channels("conv2a", "3x3 valid", "32"),
       channels("conv2b", "3x3 same", "64"), channels("conv3b", "1x1 after the max pool", "80"),
       channels("conv4a", "3x3 valid", "192"), channels("conv4b", "3x3/2 valid (the stem's output)", "256")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        return sequence("stem", {
            conv_valid("conv1a_3x3", c.conv, a.integer("conv1a"), 3, 2),  // 299 -> 149
            conv_valid("conv2a_3x3", c.conv, a.integer("conv2a"), 3),     // 147
            conv_same("conv2b_3x3", c.conv, a.integer("conv2b"), 3),      // 147
            max_pool("maxpool3a", {3, 3}, {2, 2}),                        // 73
            conv_same("conv3b_1x1", c.conv, a.integer("conv3b"), 1),      // 73
            conv_valid("conv4a_3x3", c.conv, a.integer("conv4a"), 3),     // 71
            conv_valid("conv4b_3x3", c.conv, a.integer("conv4b"), 3, 2),  // 35
        });
      }}));

  INCEPT_REGISTER(r, (BlockDef{
      "inception_resnet_v2_stem",
      "Inception-ResNet-v2 stem as timm and TF-slim build it: 299x299x3 -> 35x35x320 (Mixed_5b last)",
      "conv1a 3x3/2 V -> conv2a 3x3 V -> conv2b 3x3 -> 3x3/2 max pool -> conv3b 1x1 -> conv4a 3x3 V -> 3x3/2 max "
      "pool -> Mixed_5b [1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | 3x3/1 avg pool (real inputs only) -> 1x1]. Output "
      "mixed5b_1x1 + mixed5b_5x5 + mixed5b_3x3dbl + mixed5b_pool_proj (320). The paper gives Inception-ResNet-v2 "
      "the Inception-v4 stem (inception_v4_stem, 384 channels); Google's released checkpoint, and timm with it, "
      "uses this one, and the published 55,843,464 parameters count it.",
      {channels("conv1a", "3x3/2 valid", "32"), channels("conv2a", "3x3 valid", "32"),
       channels("conv2b", "3x3 same", "64"), channels("conv3b", "1x1 after the first max pool", "80"),
       channels("conv4a", "3x3 valid", "192"), channels("mixed5b_1x1", "Mixed_5b 1x1 branch", "96"),
       channels("mixed5b_5x5red", "Mixed_5b 1x1 reduction before the 5x5", "48"),
       channels("mixed5b_5x5", "Mixed_5b 5x5 branch output", "64"),
       channels("mixed5b_3x3dbl_red", "Mixed_5b 1x1 reduction of the double-3x3 branch", "64"),
       channels("mixed5b_3x3dbl", "Mixed_5b each 3x3 of the double branch", "96"),
       channels("mixed5b_pool_proj", "Mixed_5b 1x1 projection after the pool", "64")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        const std::int64_t dbl = a.integer("mixed5b_3x3dbl");
        return sequence("stem", {
            conv_valid("conv1a_3x3", c.conv, a.integer("conv1a"), 3, 2),  // 299 -> 149
            conv_valid("conv2a_3x3", c.conv, a.integer("conv2a"), 3),     // 147
            conv_same("conv2b_3x3", c.conv, a.integer("conv2b"), 3),      // 147
            max_pool("maxpool3a", {3, 3}, {2, 2}),                        // 73
            conv_same("conv3b_1x1", c.conv, a.integer("conv3b"), 1),      // 73
            conv_valid("conv4a_3x3", c.conv, a.integer("conv4a"), 3),     // 71
            max_pool("maxpool5a", {3, 3}, {2, 2}),                        // 35
            concat("mixed5b", {
                conv_same("branch1x1", c.conv, a.integer("mixed5b_1x1"), 1),
                sequence("branch5x5", {conv_same("reduce", c.conv, a.integer("mixed5b_5x5red"), 1),
                                       conv_same("conv", c.conv, a.integer("mixed5b_5x5"), 5)}),
                sequence("branch3x3dbl", {conv_same("reduce", c.conv, a.integer("mixed5b_3x3dbl_red"), 1),
                                          conv_same("conv_1", c.conv, dbl, 3), conv_same("conv_2", c.conv, dbl, 3)}),
                sequence("branch_pool", {avg_pool("pool", {3, 3}, {1, 1}, {1, 1}, false, false),
                                         conv_same("proj", c.conv, a.integer("mixed5b_pool_proj"), 1)}),
            }),
        });
      }}));
}

void register_residual_blocks(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "inception_resnet_a", "Inception-ResNet-A (block35, 35x35 grid): residual 1x1 / 3x3 / double-3x3 branches",
      "x + scale * proj([1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 -> 3x3]) -> ReLU, proj a linear 1x1 (with bias) back to the "
      "input's channels, so the output has the input's shape. Defaults: Inception-ResNet-v2 (fig. 16, timm's "
      "Block35, scale 0.17); -v1 (fig. 10): ch3x3dbl_1 = ch3x3dbl_2 = 32.",
      {channels("ch1x1", "1x1 branch output channels", "32"),
       channels("ch3x3red", "1x1 reduction of the 3x3 branch", "32"),
       channels("ch3x3", "3x3 branch output channels", "32"),
       channels("ch3x3dbl_red", "1x1 reduction of the double-3x3 branch", "32"),
       channels("ch3x3dbl_1", "first 3x3 of the double branch", "48"),
       channels("ch3x3dbl_2", "second 3x3 of the double branch (its output)", "64"), scale_param("0.17"),
       activation_param()},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        return residual_block(
            {conv_same("branch1x1", c.conv, a.integer("ch1x1"), 1),
             sequence("branch3x3", {conv_same("reduce", c.conv, a.integer("ch3x3red"), 1),
                                    conv_same("conv", c.conv, a.integer("ch3x3"), 3)}),
             sequence("branch3x3dbl", {conv_same("reduce", c.conv, a.integer("ch3x3dbl_red"), 1),
                                       conv_same("conv_1", c.conv, a.integer("ch3x3dbl_1"), 3),
                                       conv_same("conv_2", c.conv, a.integer("ch3x3dbl_2"), 3)})},
            a, c);
      }}));

  INCEPT_REGISTER(r, (BlockDef{
      "inception_resnet_b", "Inception-ResNet-B (block17, 17x17 grid): residual 1x1 and 1x7/7x1 branches",
      "x + scale * proj([1x1 | 1x1 -> 1xn -> nx1]) -> ReLU, proj a linear 1x1 (with bias) back to the input's "
      "channels. Defaults: Inception-ResNet-v2 (fig. 17, timm's Block17, scale 0.10); -v1 (fig. 11): ch1x1 = "
      "ch7x7red = ch7x7_1 = ch7x7_2 = 128.",
      {channels("ch1x1", "1x1 branch output channels", "192"),
       channels("ch7x7red", "1x1 reduction of the factorized branch", "128"),
       channels("ch7x7_1", "its 1xn conv", "160"), channels("ch7x7_2", "its nx1 conv (the branch's output)", "192"),
       integer("n", "7", "factorized kernel length (odd)", 1, 31), scale_param("0.10"), activation_param()},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        const std::int64_t n = a.integer("n");
        return residual_block({conv_same("branch1x1", c.conv, a.integer("ch1x1"), 1),
                               sequence("branch7x7", {conv_same("reduce", c.conv, a.integer("ch7x7red"), 1),
                                                      conv_1xn("conv_1xn", c.conv, a.integer("ch7x7_1"), n),
                                                      conv_nx1("conv_nx1", c.conv, a.integer("ch7x7_2"), n)})},
                              a, c);
      }}));

  INCEPT_REGISTER(r, (BlockDef{
      "inception_resnet_c", "Inception-ResNet-C (block8, 8x8 grid): residual 1x1 and 1x3/3x1 branches",
      "x + scale * proj([1x1 | 1x1 -> 1x3 -> 3x1]) [-> ReLU], proj a linear 1x1 (with bias) back to the input's "
      "channels. Defaults: Inception-ResNet-v2 (fig. 19, timm's Block8, scale 0.20); its last block8 has scale 1.0 "
      "and activation none. -v1 (fig. 13): every width 192.",
      {channels("ch1x1", "1x1 branch output channels", "192"),
       channels("ch3x3red", "1x1 reduction of the factorized branch", "192"),
       channels("ch3x3_1", "its 1x3 conv", "224"), channels("ch3x3_2", "its 3x1 conv (the branch's output)", "256"),
       scale_param("0.20"), activation_param()},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        return residual_block({conv_same("branch1x1", c.conv, a.integer("ch1x1"), 1),
                               sequence("branch3x3", {conv_same("reduce", c.conv, a.integer("ch3x3red"), 1),
                                                      conv_1xn("conv_1x3", c.conv, a.integer("ch3x3_1"), 3),
                                                      conv_nx1("conv_3x1", c.conv, a.integer("ch3x3_2"), 3)})},
                              a, c);
      }}));
}

void register_reduction_b(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "inception_resnet_reduction_b", "Inception-ResNet Reduction-B (figs. 12 and 18): 17x17 -> 8x8",
      "Branches: 1x1 -> 3x3/2 V; 1x1 -> 3x3/2 V; 1x1 -> 3x3 -> 3x3/2 V; 3x3/2 max pool. Output ch3x3 + ch3x3b + "
      "ch3x3dbl_2 + in. Defaults: Inception-ResNet-v2 (timm's Mixed_7a: 384, 288, 320; 2080 channels from 1088); -v1: "
      "ch3x3b = 256, ch3x3dbl_1 = ch3x3dbl_2 = 256 (1792 channels from 896).",
      {channels("ch3x3red", "1x1 reduction of the first 3x3/2 branch", "256"),
       channels("ch3x3", "first 3x3/2 branch output", "384"),
       channels("ch3x3b_red", "1x1 reduction of the second 3x3/2 branch", "256"),
       channels("ch3x3b", "second 3x3/2 branch output", "288"),
       channels("ch3x3dbl_red", "1x1 reduction of the double branch", "256"),
       channels("ch3x3dbl_1", "3x3 of the double branch", "288"),
       channels("ch3x3dbl_2", "3x3/2 output of the double branch", "320")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        return concat("block", {
            sequence("branch3x3", {conv_same("reduce", c.conv, a.integer("ch3x3red"), 1),
                                   conv_valid("conv", c.conv, a.integer("ch3x3"), 3, 2)}),
            sequence("branch3x3b", {conv_same("reduce", c.conv, a.integer("ch3x3b_red"), 1),
                                    conv_valid("conv", c.conv, a.integer("ch3x3b"), 3, 2)}),
            sequence("branch3x3dbl", {conv_same("reduce", c.conv, a.integer("ch3x3dbl_red"), 1),
                                      conv_same("conv_1", c.conv, a.integer("ch3x3dbl_1"), 3),
                                      conv_valid("conv_2", c.conv, a.integer("ch3x3dbl_2"), 3, 2)}),
            max_pool("branch_pool", {3, 3}, {2, 2}),
        });
      }}));
}

}  // namespace

void register_inception_resnet(BlockRegistry& r) {
  register_stems(r);
  register_residual_blocks(r);
  register_reduction_b(r);
}

}  // namespace incept::blocks
