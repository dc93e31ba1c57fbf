// Xception's residual modules (Chollet 2017, "Xception: Deep Learning with Depthwise Separable Convolutions",
// fig. 5): stacks of ReLU -> separable 3x3 conv -> BN with a residual connection, in the entry, middle and exit flows.
// timm's legacy xception (the Keras model's port) builds each as Block(in, out, reps, stride, start_with_relu,
// grow_first); the three blocks here are that Block with each flow's defaults.
//
// The skip is the identity when channels and grid are kept (middle flow), else a 1x1 conv with the block's stride
// [+ BN]. The separable convs and the skip follow the layer's conv style (bn, bn_eps, bias), as every conv unit does;
// configs/imagenet/xception.toml sets bn with timm's eps.
#include <fmt/format.h>

#include "blocks/block_helpers.h"

namespace incept::blocks {

namespace {

struct ModuleShape {
  std::int64_t in = 0, out = 0, reps = 2, stride = 1;
  bool start_with_relu = true;
  bool grow_first = true;  // widen in the first separable conv (entry flow), else in the last (exit flow)
};

// ReLU -> sepconv -> BN, reps times, then a 3x3 max pool with the stride; plus the skip.
Node xception_module(const ModuleShape& m, const ConvStyle& style) {
  std::vector<Node> rep;
  for (std::int64_t i = 0; i < m.reps; ++i) {
    const bool last = i == m.reps - 1;
    const std::int64_t out = m.grow_first ? m.out : (last ? m.out : m.in);
    if (i > 0 || m.start_with_relu) rep.push_back(relu(fmt::format("relu_{}", i + 1)));
    rep.push_back(separable_conv(fmt::format("sepconv_{}", i + 1), style, out, {3, 3}, {1, 1}, {1, 1},
                                 /*relu=*/false));
  }
  if (m.stride != 1) rep.push_back(max_pool("pool", {3, 3}, {m.stride, m.stride}, {1, 1}));
  Node body = sequence("rep", std::move(rep));
  if (m.out == m.in && m.stride == 1) return residual("block", std::move(body));
  return residual("block", std::move(body),
                  conv_unit("skip", style, m.out, {1, 1}, {m.stride, m.stride}, {0, 0}, /*relu=*/false));
}

}  // namespace

void register_xception(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "xception_entry", "Xception entry-flow module: separable convs that widen, 3x3/2 max pool, 1x1/2 conv skip",
      "([ReLU] -> sepconv 3x3 -> BN -> ReLU -> sepconv 3x3 -> BN -> 3x3/2 max pool) + (1x1/2 conv -> BN). Output "
      "`out` channels at half the grid. The network's first module starts without ReLU (start_with_relu = false): "
      "the stem's conv already ends in one. timm: Block(in, out, 2, 2) for block1-3.",
      {channels("out", "output channels (every separable conv widens to it at once)"),
       integer("reps", "2", "separable convs in the module", 1, 64),
       integer("stride", "2", "stride of the max pool and the skip (1: no pool)", 1, 8),
       boolean("start_with_relu", "true", "begin with a ReLU (false for the first module after the stem)")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        return xception_module({c.input.channels(), a.integer("out"), a.integer("reps"), a.integer("stride"),
                                a.flag("start_with_relu"), true},
                               c.conv);
      }}));

  INCEPT_REGISTER(r, (BlockDef{
      "xception_middle", "Xception middle-flow module: three ReLU -> sepconv -> BN on an identity skip",
      "x + (ReLU -> sepconv 3x3 -> BN) x reps. Keeps the input's channels and grid (728x19x19 in Xception, repeated "
      "8 times). timm: Block(728, 728, 3, 1).",
      {integer("reps", "3", "separable convs in the module", 1, 64)},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        const std::int64_t ch = c.input.channels();
        return xception_module({ch, ch, a.integer("reps"), 1, true, true}, c.conv);
      }}));

  INCEPT_REGISTER(r, (BlockDef{
      "xception_exit", "Xception exit-flow module: separable convs that widen last, 3x3/2 max pool, 1x1/2 conv skip",
      "(ReLU -> sepconv 3x3 (in) -> BN -> ReLU -> sepconv 3x3 (out) -> BN -> 3x3/2 max pool) + (1x1/2 conv -> BN). "
      "Output `out` channels (1024 in Xception) at half the grid. The exit flow's two separable convs after it "
      "(1536, 2048, each with BN and ReLU) are separable_conv layers. timm: Block(728, 1024, 2, 2, "
      "grow_first=False).",
      {channels("out", "output channels (the last separable conv widens to it)", "1024"),
       integer("reps", "2", "separable convs in the module", 1, 64),
       integer("stride", "2", "stride of the max pool and the skip (1: no pool)", 1, 8)},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        return xception_module(
            {c.input.channels(), a.integer("out"), a.integer("reps"), a.integer("stride"), true, false}, c.conv);
      }}));
}

}  // namespace incept::blocks
