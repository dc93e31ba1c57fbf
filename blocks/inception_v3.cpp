// Inception V3 blocks ("Rethinking the Inception Architecture", Szegedy et al. 2015), named after the paper's
// figures: A (5x5 factorized into two 3x3, fig. 5), B (nxn factorized into 1xn and nx1, fig. 6), C (expanded filter
// bank with 1x3 and 3x1 side by side, fig. 7) and the two grid-size reductions (fig. 10). Default channels are
// torchvision's, so a config only states what differs.
#include <fmt/format.h>

#include "blocks/block_helpers.h"

namespace incept::blocks {

namespace {

Node conv_stride2(const std::string& name, const ConvStyle& s, std::int64_t out) {
  return conv_unit(name, s, out, {3, 3}, {2, 2});
}
Node avg_pool_same(const std::string& name, bool count_include_pad) {
  return avg_pool(name, {3, 3}, {1, 1}, {1, 1}, false, count_include_pad);
}

void register_a(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "inception_v3_a", "Inception V3 block A: the 5x5 replaced by two stacked 3x3 (seed 000's InceptionV3_1)",
      "Branches: 1x1; 1x1 -> kxk (k = mid_kernel); 1x1 -> 3x3 -> 3x3; 3x3/1 avg pool -> 1x1. Output ch1x1 + ch3x3 + "
      "ch3x3dbl_2 + pool_proj. Seed 000's block: defaults (mid_kernel 3, count_include_pad false). torchvision's "
      "InceptionA: mid_kernel 5, pool_count_include_pad true, ch3x3red 48, ch3x3 64.",
      {channels("ch1x1", "1x1 branch output channels", "64"),
       channels("ch3x3red", "1x1 reduction of the single-conv branch", "48"),
       channels("ch3x3", "output channels of the single-conv branch", "64"),
       integer("mid_kernel", "3", "kernel of the single-conv branch (seed 000: 3; torchvision: 5)", 1, 31),
       channels("ch3x3dbl_red", "1x1 reduction of the double-3x3 branch", "64"),
       channels("ch3x3dbl_1", "first 3x3 of the double branch", "96"),
       channels("ch3x3dbl_2", "second 3x3 of the double branch (its output)", "96"),
       channels("pool_proj", "1x1 projection after the pool", "64"),
       boolean("pool_count_include_pad", "false", "average over padded zeros (seed 000: false)")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        const std::int64_t k = a.integer("mid_kernel");
        return concat("block", {
            conv_same("branch1x1", c.conv, a.integer("ch1x1"), 1),
            sequence(fmt::format("branch{}x{}", k, k), {conv_same("reduce", c.conv, a.integer("ch3x3red"), 1),
                                                        conv_same("conv", c.conv, a.integer("ch3x3"), k)}),
            sequence("branch3x3dbl", {conv_same("reduce", c.conv, a.integer("ch3x3dbl_red"), 1),
                                      conv_same("conv_1", c.conv, a.integer("ch3x3dbl_1"), 3),
                                      conv_same("conv_2", c.conv, a.integer("ch3x3dbl_2"), 3)}),
            sequence("branch_pool", {avg_pool_same("pool", a.flag("pool_count_include_pad")),
                                     conv_same("proj", c.conv, a.integer("pool_proj"), 1)}),
        });
      }}));
}

void register_b(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "inception_v3_b", "Inception V3 block B: nxn factorized into 1xn and nx1 (n = 7 on the 17x17 grid)",
      "Branches: 1x1; 1x1 -> 1xn -> nx1; 1x1 -> nx1 -> 1xn -> nx1 -> 1xn; 3x3/1 avg pool -> 1x1. Output ch1x1 + "
      "ch7x7 + ch7x7dbl + pool_proj. torchvision's InceptionC(in, c7) is this block with c7 set.",
      {channels("c7", "channels inside the factorized branches"),
       channels("ch1x1", "1x1 branch output channels", "192"),
       channels("ch7x7", "output of the 1xn/nx1 branch", "192"),
       channels("ch7x7dbl", "output of the double 1xn/nx1 branch", "192"),
       channels("pool_proj", "1x1 projection after the pool", "192"),
       integer("n", "7", "factorized kernel length (odd)", 1, 31),
       boolean("pool_count_include_pad", "true", "average over padded zeros")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        const std::int64_t n = a.integer("n"), c7 = a.integer("c7");
        return concat("block", {
            conv_same("branch1x1", c.conv, a.integer("ch1x1"), 1),
            sequence("branch7x7", {conv_same("reduce", c.conv, c7, 1), conv_1xn("conv_1xn", c.conv, c7, n),
                                   conv_nx1("conv_nx1", c.conv, a.integer("ch7x7"), n)}),
            sequence("branch7x7dbl", {conv_same("reduce", c.conv, c7, 1), conv_nx1("conv_nx1_1", c.conv, c7, n),
                                      conv_1xn("conv_1xn_1", c.conv, c7, n), conv_nx1("conv_nx1_2", c.conv, c7, n),
                                      conv_1xn("conv_1xn_2", c.conv, a.integer("ch7x7dbl"), n)}),
            sequence("branch_pool", {avg_pool_same("pool", a.flag("pool_count_include_pad")),
                                     conv_same("proj", c.conv, a.integer("pool_proj"), 1)}),
        });
      }}));
}

void register_c(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "inception_v3_c", "Inception V3 block C: expanded filter bank, 1x3 and 3x1 side by side (8x8 grid)",
      "Branches: 1x1; 1x1 -> [1x3 | 3x1]; 1x1 -> 3x3 -> [1x3 | 3x1]; 3x3/1 avg pool -> 1x1. Output ch1x1 + "
      "2*ch3x3 + 2*ch3x3dbl + pool_proj (2048 with the defaults, torchvision's InceptionE).",
      {channels("ch1x1", "1x1 branch output channels", "320"),
       channels("ch3x3", "reduction and each split output of the 3x3 branch", "384"),
       channels("ch3x3dbl_red", "1x1 reduction of the double branch", "448"),
       channels("ch3x3dbl", "3x3 and each split output of the double branch", "384"),
       channels("pool_proj", "1x1 projection after the pool", "192"),
       boolean("pool_count_include_pad", "true", "average over padded zeros")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        const std::int64_t c3 = a.integer("ch3x3"), cd = a.integer("ch3x3dbl");
        auto split = [&](std::int64_t out) {
          return concat("split", {conv_1xn("conv_1x3", c.conv, out, 3), conv_nx1("conv_3x1", c.conv, out, 3)});
        };
        return concat("block", {
            conv_same("branch1x1", c.conv, a.integer("ch1x1"), 1),
            sequence("branch3x3", {conv_same("reduce", c.conv, c3, 1), split(c3)}),
            sequence("branch3x3dbl", {conv_same("reduce", c.conv, a.integer("ch3x3dbl_red"), 1),
                                      conv_same("conv", c.conv, cd, 3), split(cd)}),
            sequence("branch_pool", {avg_pool_same("pool", a.flag("pool_count_include_pad")),
                                     conv_same("proj", c.conv, a.integer("pool_proj"), 1)}),
        });
      }}));
}

void register_reductions(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "inception_v3_reduction_a", "Inception V3 grid reduction 35x35 -> 17x17 (fig. 10)",
      "Branches: 3x3/2; 1x1 -> 3x3 -> 3x3/2; 3x3/2 max pool. Output ch3x3 + ch3x3dbl_2 + in (torchvision's "
      "InceptionB).",
      {channels("ch3x3", "stride-2 3x3 branch output", "384"),
       channels("ch3x3dbl_red", "1x1 reduction of the double branch", "64"),
       channels("ch3x3dbl_1", "first 3x3 of the double branch", "96"),
       channels("ch3x3dbl_2", "stride-2 3x3 output of the double branch", "96")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        return concat("block", {
            conv_stride2("branch3x3", c.conv, a.integer("ch3x3")),
            sequence("branch3x3dbl", {conv_same("reduce", c.conv, a.integer("ch3x3dbl_red"), 1),
                                      conv_same("conv_1", c.conv, a.integer("ch3x3dbl_1"), 3),
                                      conv_stride2("conv_2", c.conv, a.integer("ch3x3dbl_2"))}),
            max_pool("branch_pool", {3, 3}, {2, 2}),
        });
      }}));

  INCEPT_REGISTER(r, (BlockDef{
      "inception_v3_reduction_b", "Inception V3 grid reduction 17x17 -> 8x8 (fig. 10)",
      "Branches: 1x1 -> 3x3/2; 1x1 -> 1xn -> nx1 -> 3x3/2; 3x3/2 max pool. Output ch3x3 + ch7x7x3 + in "
      "(torchvision's InceptionD).",
      {channels("ch3x3red", "1x1 reduction of the 3x3 branch", "192"),
       channels("ch3x3", "stride-2 3x3 branch output", "320"),
       channels("ch7x7x3", "channels of every conv in the 1xn/nx1/3x3 branch", "192"),
       integer("n", "7", "factorized kernel length (odd)", 1, 31)},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        const std::int64_t n = a.integer("n"), c7 = a.integer("ch7x7x3");
        return concat("block", {
            sequence("branch3x3", {conv_same("reduce", c.conv, a.integer("ch3x3red"), 1),
                                   conv_stride2("conv", c.conv, a.integer("ch3x3"))}),
            sequence("branch7x7x3", {conv_same("reduce", c.conv, c7, 1), conv_1xn("conv_1xn", c.conv, c7, n),
                                     conv_nx1("conv_nx1", c.conv, c7, n), conv_stride2("conv", c.conv, c7)}),
            max_pool("branch_pool", {3, 3}, {2, 2}),
        });
      }}));
}

}  // namespace

void register_inception_v3(BlockRegistry& r) {
  register_a(r);
  register_b(r);
  register_c(r);
  register_reductions(r);
}

}  // namespace incept::blocks
