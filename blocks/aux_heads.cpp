// Auxiliary classifiers, attached to a named layer with [[model.aux]]. Their loss is added with `weight` during
// training and they are skipped at evaluation, so their cost is reported apart as aux_macs.
#include "blocks/block_helpers.h"

namespace incept::blocks {

void register_aux_heads(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "aux_googlenet", "GoogLeNet auxiliary classifier: avg pool 5/3 (or adaptive), 1x1 conv, FC, dropout, FC",
      "As in the GoogLeNet paper: a 5x5/3 average pool. torchvision's InceptionAux pools adaptively to 4x4 instead "
      "(pool_out = 4): on 14x14 both give 4x4, but from different windows (4 wide at 0, 3, 7, 10 against 5 wide at "
      "0, 3, 6, 9), so only pool_out = 4 trains like torchvision.",
      {channels("classes", "number of classes"), channels("conv_out", "1x1 conv channels", "128"),
       channels("hidden", "first FC layer width", "1024"),
       real("dropout", "0.7", "dropout before the last FC layer", 0.0, 0.999999),
       window("pool_kernel", "5", "average pool window", 1), window("pool_stride", "3", "average pool stride", 1),
       integer("pool_out", "0",
               "0: the fixed pool_kernel/pool_stride window; N: adaptive average pool to NxN (torchvision: 4)", 0,
               4096)},
      BlockRole::AuxHead,
      [](const BlockArgs& a, const BlockContext& c) {
        const std::int64_t pool_out = a.integer("pool_out");
        return sequence("head", {
            pool_out > 0 ? adaptive_avg_pool("pool", {pool_out, pool_out})
                         : avg_pool("pool", a.pair("pool_kernel"), a.pair("pool_stride")),
            conv_same("conv", c.conv, a.integer("conv_out"), 1),
            linear("fc1", a.integer("hidden")),
            relu("relu"),
            dropout("dropout", a.number("dropout")),
            linear("fc2", a.integer("classes")),
        });
      }}));

  INCEPT_REGISTER(r, (BlockDef{
      "aux_v3", "Inception V3 auxiliary classifier: avg pool 5/3, 1x1 conv, 5x5 conv, global pool, FC",
      "As torchvision's Inception3 AuxLogits (on the 17x17 grid).",
      {channels("classes", "number of classes"), channels("conv0", "1x1 conv channels", "128"),
       channels("conv1", "5x5 conv channels", "768")},
      BlockRole::AuxHead,
      [](const BlockArgs& a, const BlockContext& c) {
        return sequence("head", {
            avg_pool("pool", {5, 5}, {3, 3}),
            conv_same("conv0", c.conv, a.integer("conv0"), 1),
            conv_unit("conv1", c.conv, a.integer("conv1"), {5, 5}),
            adaptive_avg_pool("global_pool", {1, 1}),
            linear("fc", a.integer("classes")),
        });
      }}));
}

}  // namespace incept::blocks
