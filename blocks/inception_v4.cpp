// Inception-v4 blocks ("Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning",
// Szegedy et al. 2016): the stem (fig. 3), Inception-A/B/C (figs. 4-6) and Reduction-A/B (figs. 7-8). Defaults are
// the paper's widths, which timm's inception_v4 (from Google's TF-slim checkpoint) builds; branch and channel names
// follow incept's V3 blocks and torchvision. "V" in the figures is a conv without padding: conv_valid here.
#include "blocks/block_helpers.h"

namespace incept::blocks {

namespace {

// A 3x3/1 average pool over real inputs only (count_include_pad = false), as every Inception-v4 pool branch.
Node avg_pool_3x3(const std::string& name) { return avg_pool(name, {3, 3}, {1, 1}, {1, 1}, false, false); }
Node max_pool_3x3_s2(const std::string& name) { return max_pool(name, {3, 3}, {2, 2}); }

void register_stem(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "inception_v4_stem",
      "Inception-v4 stem (fig. 3): 299x299x3 -> 35x35x384, also Inception-ResNet-v2's in the paper",
      "conv1a 3x3/2 V -> conv2a 3x3 V -> conv2b 3x3 -> mixed3a [3x3/2 max pool | 3x3/2 V conv] -> mixed4a "
      "[1x1 -> 3x3 V | 1x1 -> 1x7 -> 7x1 -> 3x3 V] -> mixed5a [3x3/2 V conv | 3x3/2 max pool]. Output channels "
      "mixed5a + 2*mixed4a (384 with the defaults). timm builds it as features.0-5 of inception_v4 (Mixed3a, Mixed4a, "
      "Mixed5a, concatenated in the order listed here).",
      {channels("conv1a", "first conv, 3x3/2 valid", "32"), channels("conv2a", "second conv, 3x3 valid", "32"),
       channels("conv2b", "third conv, 3x3 same", "64"),
       channels("mixed3a", "3x3/2 conv beside the first max pool", "96"),
       channels("mixed4a_red", "1x1 reductions and the 1x7/7x1 convs of mixed4a", "64"),
       channels("mixed4a", "3x3 valid output of each mixed4a branch", "96"),
       channels("mixed5a", "3x3/2 conv beside the last max pool", "192")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        const std::int64_t red = a.integer("mixed4a_red"), m4 = a.integer("mixed4a");
        return sequence("stem", {
            conv_valid("conv1a_3x3", c.conv, a.integer("conv1a"), 3, 2),  // 299 -> 149
            conv_valid("conv2a_3x3", c.conv, a.integer("conv2a"), 3),     // 149 -> 147
            conv_same("conv2b_3x3", c.conv, a.integer("conv2b"), 3),      // 147
            concat("mixed3a", {max_pool_3x3_s2("branch_pool"),              // 147 -> 73
                               conv_valid("branch3x3", c.conv, a.integer("mixed3a"), 3, 2)}),
            concat("mixed4a", {sequence("branch3x3", {conv_same("reduce", c.conv, red, 1),   // 73 -> 71
                                                      conv_valid("conv", c.conv, m4, 3)}),
                               sequence("branch7x7", {conv_same("reduce", c.conv, red, 1),
                                                      conv_1xn("conv_1x7", c.conv, red, 7),
                                                      conv_nx1("conv_7x1", c.conv, red, 7),
                                                      conv_valid("conv", c.conv, m4, 3)})}),
            concat("mixed5a", {conv_valid("branch3x3", c.conv, a.integer("mixed5a"), 3, 2),  // 71 -> 35
                               max_pool_3x3_s2("branch_pool")}),
        });
      }}));
}

void register_a(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "inception_v4_a", "Inception-v4 block A (fig. 4, 35x35 grid): 1x1, 3x3, two stacked 3x3, avg pool",
      "Branches: 1x1; 1x1 -> 3x3; 1x1 -> 3x3 -> 3x3; 3x3/1 avg pool (real inputs only) -> 1x1. Output ch1x1 + "
      "ch3x3 + ch3x3dbl_2 + pool_proj (384 with the defaults, timm's InceptionA).",
      {channels("ch1x1", "1x1 branch output channels", "96"),
       channels("ch3x3red", "1x1 reduction of the 3x3 branch", "64"),
       channels("ch3x3", "3x3 branch output channels", "96"),
       channels("ch3x3dbl_red", "1x1 reduction of the double-3x3 branch", "64"),
       channels("ch3x3dbl_1", "first 3x3 of the double branch", "96"),
       channels("ch3x3dbl_2", "second 3x3 of the double branch (its output)", "96"),
       channels("pool_proj", "1x1 projection after the pool", "96")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        return concat("block", {
            conv_same("branch1x1", c.conv, a.integer("ch1x1"), 1),
            sequence("branch3x3", {conv_same("reduce", c.conv, a.integer("ch3x3red"), 1),
                                   conv_same("conv", c.conv, a.integer("ch3x3"), 3)}),
            sequence("branch3x3dbl", {conv_same("reduce", c.conv, a.integer("ch3x3dbl_red"), 1),
                                      conv_same("conv_1", c.conv, a.integer("ch3x3dbl_1"), 3),
                                      conv_same("conv_2", c.conv, a.integer("ch3x3dbl_2"), 3)}),
            sequence("branch_pool", {avg_pool_3x3("pool"), conv_same("proj", c.conv, a.integer("pool_proj"), 1)}),
        });
      }}));
}

void register_b(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "inception_v4_b", "Inception-v4 block B (fig. 5, 17x17 grid): 1x7/7x1 factorized branches",
      "Branches: 1x1; 1x1 -> 1xn -> nx1; 1x1 -> nx1 -> 1xn -> nx1 -> 1xn; 3x3/1 avg pool (real inputs only) -> 1x1. "
      "Output ch1x1 + ch7x7_2 + ch7x7dbl_4 + pool_proj (1024 with the defaults, timm's InceptionB).",
      {channels("ch1x1", "1x1 branch output channels", "384"),
       channels("ch7x7red", "1x1 reduction of the 1xn/nx1 branch", "192"),
       channels("ch7x7_1", "its 1xn conv", "224"), channels("ch7x7_2", "its nx1 conv (the branch's output)", "256"),
       channels("ch7x7dbl_red", "1x1 reduction of the double branch", "192"),
       channels("ch7x7dbl_1", "double branch: first nx1", "192"),
       channels("ch7x7dbl_2", "double branch: first 1xn", "224"),
       channels("ch7x7dbl_3", "double branch: second nx1", "224"),
       channels("ch7x7dbl_4", "double branch: second 1xn (its output)", "256"),
       channels("pool_proj", "1x1 projection after the pool", "128"),
       integer("n", "7", "factorized kernel length (odd)", 1, 31)},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        const std::int64_t n = a.integer("n");
        return concat("block", {
            conv_same("branch1x1", c.conv, a.integer("ch1x1"), 1),
            sequence("branch7x7", {conv_same("reduce", c.conv, a.integer("ch7x7red"), 1),
                                   conv_1xn("conv_1xn", c.conv, a.integer("ch7x7_1"), n),
                                   conv_nx1("conv_nx1", c.conv, a.integer("ch7x7_2"), n)}),
            sequence("branch7x7dbl", {conv_same("reduce", c.conv, a.integer("ch7x7dbl_red"), 1),
                                      conv_nx1("conv_nx1_1", c.conv, a.integer("ch7x7dbl_1"), n),
                                      conv_1xn("conv_1xn_1", c.conv, a.integer("ch7x7dbl_2"), n),
                                      conv_nx1("conv_nx1_2", c.conv, a.integer("ch7x7dbl_3"), n),
                                      conv_1xn("conv_1xn_2", c.conv, a.integer("ch7x7dbl_4"), n)}),
            sequence("branch_pool", {avg_pool_3x3("pool"), conv_same("proj", c.conv, a.integer("pool_proj"), 1)}),
        });
      }}));
}

void register_c(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "inception_v4_c", "Inception-v4 block C (fig. 6, 8x8 grid): 1x3 and 3x1 side by side",
      "Branches: 1x1; 1x1 -> [1x3 | 3x1]; 1x1 -> 3x1 -> 1x3 -> [1x3 | 3x1]; 3x3/1 avg pool (real inputs only) -> 1x1. "
      "Output ch1x1 + 2*ch3x3 + 2*ch3x3dbl + pool_proj (1536 with the defaults, timm's InceptionC).",
      {channels("ch1x1", "1x1 branch output channels", "256"),
       channels("ch3x3red", "1x1 reduction of the split branch", "384"),
       channels("ch3x3", "each split output (1x3 and 3x1) of that branch", "256"),
       channels("ch3x3dbl_red", "1x1 reduction of the double branch", "384"),
       channels("ch3x3dbl_1", "double branch: its 3x1 conv", "448"),
       channels("ch3x3dbl_2", "double branch: its 1x3 conv", "512"),
       channels("ch3x3dbl", "each split output (1x3 and 3x1) of the double branch", "256"),
       channels("pool_proj", "1x1 projection after the pool", "256")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        auto split = [&](std::int64_t out) {
          return concat("split", {conv_1xn("conv_1x3", c.conv, out, 3), conv_nx1("conv_3x1", c.conv, out, 3)});
        };
        return concat("block", {
            conv_same("branch1x1", c.conv, a.integer("ch1x1"), 1),
            sequence("branch3x3", {conv_same("reduce", c.conv, a.integer("ch3x3red"), 1), split(a.integer("ch3x3"))}),
            sequence("branch3x3dbl", {conv_same("reduce", c.conv, a.integer("ch3x3dbl_red"), 1),
                                      conv_nx1("conv_3x1", c.conv, a.integer("ch3x3dbl_1"), 3),
                                      conv_1xn("conv_1x3", c.conv, a.integer("ch3x3dbl_2"), 3),
                                      split(a.integer("ch3x3dbl"))}),
            sequence("branch_pool", {avg_pool_3x3("pool"), conv_same("proj", c.conv, a.integer("pool_proj"), 1)}),
        });
      }}));
}

void register_reductions(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "inception_v4_reduction_a", "Reduction-A (fig. 7): 35x35 -> 17x17, sized by the paper's k, l, m, n",
      "Branches: 3x3/2 V conv (n); 1x1 (k) -> 3x3 (l) -> 3x3/2 V (m); 3x3/2 max pool. Output n + m + in. The "
      "paper's table 1 sizes it per network: Inception-v4 k=192 l=224 m=256 n=384 (the defaults, timm's "
      "ReductionA), Inception-ResNet-v1 192/192/256/384, Inception-ResNet-v2 256/256/384/384 (timm's Mixed_6a).",
      {channels("k", "1x1 reduction of the double branch", "192"),
       channels("l", "3x3 of the double branch", "224"),
       channels("m", "3x3/2 output of the double branch", "256"),
       channels("n", "3x3/2 conv branch output", "384")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        return concat("block", {
            conv_valid("branch3x3", c.conv, a.integer("n"), 3, 2),
            sequence("branch3x3dbl", {conv_same("reduce", c.conv, a.integer("k"), 1),
                                      conv_same("conv_1", c.conv, a.integer("l"), 3),
                                      conv_valid("conv_2", c.conv, a.integer("m"), 3, 2)}),
            max_pool_3x3_s2("branch_pool"),
        });
      }}));

  INCEPT_REGISTER(r, (BlockDef{
      "inception_v4_reduction_b", "Inception-v4 Reduction-B (fig. 8): 17x17 -> 8x8",
      "Branches: 1x1 -> 3x3/2 V; 1x1 -> 1x7 -> 7x1 -> 3x3/2 V; 3x3/2 max pool. Output ch3x3 + ch7x7x3_3 + in "
      "(1536 with the defaults on 1024 channels, timm's ReductionB).",
      {channels("ch3x3red", "1x1 reduction of the 3x3 branch", "192"),
       channels("ch3x3", "3x3/2 output of that branch", "192"),
       channels("ch7x7x3_red", "1x1 reduction of the 1x7/7x1/3x3 branch", "256"),
       channels("ch7x7x3_1", "its 1x7 conv", "256"), channels("ch7x7x3_2", "its 7x1 conv", "320"),
       channels("ch7x7x3_3", "its 3x3/2 conv (the branch's output)", "320")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        return concat("block", {
            sequence("branch3x3", {conv_same("reduce", c.conv, a.integer("ch3x3red"), 1),
                                   conv_valid("conv", c.conv, a.integer("ch3x3"), 3, 2)}),
            sequence("branch7x7x3", {conv_same("reduce", c.conv, a.integer("ch7x7x3_red"), 1),
                                     conv_1xn("conv_1x7", c.conv, a.integer("ch7x7x3_1"), 7),
                                     conv_nx1("conv_7x1", c.conv, a.integer("ch7x7x3_2"), 7),
                                     conv_valid("conv", c.conv, a.integer("ch7x7x3_3"), 3, 2)}),
            max_pool_3x3_s2("branch_pool"),
        });
      }}));
}

}  // namespace

void register_inception_v4(BlockRegistry& r) {
  register_stem(r);
  register_a(r);
  register_b(r);
  register_c(r);
  register_reductions(r);
}

}  // namespace incept::blocks
