// Seed 004's naive Inception block: 1x1, 3x3 and 5x5 convolutions of `out` channels each, side by side with a
// 3x3/1 max pool that passes the input channels through unchanged.
#include "blocks/block_helpers.h"

namespace incept::blocks {

void register_inception_naive(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "inception_naive", "naive Inception block: 1x1, 3x3, 5x5 convs + 3x3 max pool (seed 004)",
      "Output channels 3*out + in (the pool branch keeps the input channels). Per input pixel it costs "
      "(1+9+25)*in*out MACs: the block seed 004 compares against the 1x1-reduced version.",
      {channels("out", "output channels of each convolution branch")}, BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        const std::int64_t out = a.integer("out");
        return concat("block", {
                                   conv_same("branch1x1", c.conv, out, 1),
                                   conv_same("branch3x3", c.conv, out, 3),
                                   conv_same("branch5x5", c.conv, out, 5),
                                   max_pool("branch_pool", {3, 3}, {1, 1}, {1, 1}),
                               });
      }}));
}

}  // namespace incept::blocks
