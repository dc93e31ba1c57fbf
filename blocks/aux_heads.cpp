// Auxiliary classifiers, attached to a named layer with [[model.aux]]. Their loss is added with `weight` during
// training and they are skipped at evaluation, so their cost is reported apart as aux_macs.
#include "blocks/block_helpers.h"

namespace incept::blocks {

void register_aux_heads(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "aux_googlenet", "GoogLeNet auxiliary classifier: avg pool 5/3, 1x1 conv, FC, dropout, FC",
      "As in the GoogLeNet paper (and torchvision's InceptionAux, whose adaptive 4x4 pool equals 5/3 on 14x14).",
      {channels("classes", "number of classes"), channels("conv_out", "1x1 conv channels", "128"),
       channels("hidden", "first FC layer width", "1024"),
       real("dropout", "0.7", "dropout before the last FC layer", 0.0, 0.999999),
       window("pool_kernel", "5", "average pool window", 1), window("pool_stride", "3", "average pool stride", 1)},
      BlockRole::AuxHead,
      [](const BlockArgs& a, const BlockContext& c) {
        return sequence("head", {
            avg_pool("pool", a.pair("pool_kernel"), a.pair("pool_stride")),
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
