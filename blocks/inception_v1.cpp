// GoogLeNet's Inception (V1) block, with channel arguments in the order of the paper's table.
#include "blocks/block_helpers.h"

namespace incept::blocks {

void register_inception_v1(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "inception_v1", "GoogLeNet Inception block (seed 000's InceptionV1)",
      "Output channels ch1x1 + ch3x3 + ch5x5 + pool_proj. torchvision's GoogLeNet uses a 3x3 kernel in the third "
      "branch (a known quirk it keeps for its weights): set ch5x5_kernel = 3 to match it.",
      {channels("ch1x1", "1x1 branch output channels"), channels("ch3x3red", "1x1 reduction before the 3x3"),
       channels("ch3x3", "3x3 branch output channels"), channels("ch5x5red", "1x1 reduction before the 5x5"),
       channels("ch5x5", "5x5 branch output channels"), channels("pool_proj", "1x1 projection after the 3x3 pool"),
       integer("ch5x5_kernel", "5", "kernel size of the third branch (odd)", 1, 31),
       boolean("pool_ceil_mode", "false", "ceil_mode of the 3x3/1 pool (torchvision: true; same shapes)")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        const std::int64_t k = a.integer("ch5x5_kernel");
        return concat("block", {
            conv_same("branch1x1", c.conv, a.integer("ch1x1"), 1),
            sequence("branch3x3", {conv_same("reduce", c.conv, a.integer("ch3x3red"), 1),
                                   conv_same("conv", c.conv, a.integer("ch3x3"), 3)}),
            sequence("branch5x5", {conv_same("reduce", c.conv, a.integer("ch5x5red"), 1),
                                   conv_same("conv", c.conv, a.integer("ch5x5"), k)}),
            sequence("branch_pool", {max_pool("pool", {3, 3}, {1, 1}, {1, 1}, a.flag("pool_ceil_mode")),
                                     conv_same("proj", c.conv, a.integer("pool_proj"), 1)}),
        });
      }}));
}

}  // namespace incept::blocks
