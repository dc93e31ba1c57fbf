// Seed 004's improved Inception block: 1x1 reductions before the 3x3 and 5x5 convolutions and a 1x1 projection
// after the pool, so every branch outputs `out` channels.
#include <cmath>

#include "blocks/block_helpers.h"

namespace incept::blocks {

void register_inception_reduced(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "inception_reduced", "Inception block with 1x1 reductions (seed 004's improved block)",
      "Output channels 4*out. The reductions have floor(out*ratio) channels; seed 004 uses out//2 and no "
      "activation after them.",
      {channels("out", "output channels of each branch"),
       real("ratio", "0.5", "reduction channels as a fraction of out (floor(out*ratio))", 1e-6, 1.0),
       activation("reduce_activation", "\"none\"", "activation after the 1x1 reductions (seed 004: none)")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        const std::int64_t out = a.integer("out");
        const auto red = static_cast<std::int64_t>(std::floor(static_cast<double>(out) * a.number("ratio")));
        const bool reduce_relu = a.text("reduce_activation") == "relu";
        return concat("block", {
            conv_same("branch1x1", c.conv, out, 1),
            sequence("branch3x3", {conv_same("reduce", c.conv, red, 1, reduce_relu),
                                   conv_same("conv", c.conv, out, 3)}),
            sequence("branch5x5", {conv_same("reduce", c.conv, red, 1, reduce_relu),
                                   conv_same("conv", c.conv, out, 5)}),
            sequence("branch_pool", {max_pool("pool", {3, 3}, {1, 1}, {1, 1}),
                                     conv_same("proj", c.conv, out, 1)}),
        });
      }}));
}

}  // namespace incept::blocks
