// Single-operation blocks: the glue between Inception blocks (stems, pooling, classifiers).
#include "blocks/block_helpers.h"

namespace incept::blocks {

namespace {

// Pooling stride 0 means "same as the kernel", PyTorch's default.
Pair stride_or_kernel(const BlockArgs& a) {
  Pair s = a.pair("stride");
  Pair k = a.pair("kernel");
  return Pair{s.h == 0 ? k.h : s.h, s.w == 0 ? k.w : s.w};
}

std::vector<ParamDoc> pool_params() {
  return {
      window("kernel", "", "window size (k or [kh, kw])", 1),
      window("stride", "0", "step; 0 means the kernel size", 0),
      window("padding", "0", "implicit padding on each side (at most half the kernel)", 0),
      boolean("ceil_mode", "false", "round the output size up instead of down"),
  };
}

}  // namespace

void register_basic_blocks(BlockRegistry& r) {
  INCEPT_REGISTER(r, (BlockDef{
      "conv", "a convolution unit: Conv2d [+ BatchNorm2d] [+ ReLU]",
      "Output channels `out`; cost Cout*Hout*Wout*(Cin/groups)*kh*kw MACs. With bn, the conv loses its bias "
      "unless bias = true.",
      {channels("out", "output channels"), window("kernel", "", "kernel size (k or [kh, kw])", 1),
       window("stride", "1", "stride (s or [sh, sw])", 1), window("padding", "0", "zero padding (p or [ph, pw])", 0),
       integer("groups", "1", "grouped convolution: input and output channels split into this many groups", 1),
       activation("activation", "\"relu\"", "relu or none after the convolution (and batch norm)")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        Node n = conv_unit("conv", c.conv, a.integer("out"), a.pair("kernel"), a.pair("stride"), a.pair("padding"),
                           a.text("activation") == "relu");
        n.as<ConvAttrs>().groups = a.integer("groups");
        return n;
      }}));

  INCEPT_REGISTER(r, (BlockDef{
      "separable_conv", "a depthwise-separable convolution: depthwise kxk, pointwise 1x1 [+ BatchNorm2d] [+ ReLU]",
      "Xception's and MobileNet's convolution: a kxk conv with one filter per input channel (groups = Cin, no bias), "
      "then a 1x1 conv to `out` channels. Cost Cin*Hout*Wout*kh*kw + Cout*Hout*Wout*Cin MACs, against "
      "Cout*Hout*Wout*Cin*kh*kw for a full conv. `bias` is the pointwise conv's (a depthwise bias would only add a "
      "constant that the pointwise bias already is).",
      {channels("out", "output channels (of the pointwise conv)"),
       window("kernel", "3", "depthwise kernel size (k or [kh, kw])", 1),
       window("stride", "1", "depthwise stride (s or [sh, sw])", 1),
       window("padding", "1", "depthwise zero padding (p or [ph, pw])", 0),
       activation("activation", "\"relu\"", "relu or none after the pointwise conv (and batch norm)")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext& c) {
        return separable_conv("sepconv", c.conv, a.integer("out"), a.pair("kernel"), a.pair("stride"),
                              a.pair("padding"), a.text("activation") == "relu");
      }}));

  INCEPT_REGISTER(r, (BlockDef{
      "maxpool", "max pooling", "Keeps the channels. Counts kh*kw comparisons per output element as other_ops.",
      pool_params(), BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext&) {
        return max_pool("pool", a.pair("kernel"), stride_or_kernel(a), a.pair("padding"), a.flag("ceil_mode"));
      }}));

  std::vector<ParamDoc> avg = pool_params();
  avg.push_back(boolean("count_include_pad", "true", "average over padded zeros too (false: only real inputs)"));
  INCEPT_REGISTER(r, (BlockDef{
      "avgpool", "average pooling", "Keeps the channels. Counts kh*kw adds per output element as other_ops.", avg,
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext&) {
        return avg_pool("pool", a.pair("kernel"), stride_or_kernel(a), a.pair("padding"), a.flag("ceil_mode"),
                        a.flag("count_include_pad"));
      }}));

  INCEPT_REGISTER(r, (BlockDef{
      "global_avgpool", "average over the whole feature map (to Cx1x1)",
      "NiN/GoogLeNet's replacement for fully connected layers. Counts one add per input element as other_ops.",
      {}, BlockRole::Layer,
      [](const BlockArgs&, const BlockContext&) { return adaptive_avg_pool("pool", {1, 1}); }}));

  INCEPT_REGISTER(r, (BlockDef{
      "dropout", "dropout (training only)",
      "Identity at inference, so it costs nothing in macs or other_ops; it is listed so the cost is zero by "
      "definition, not by omission.",
      {real("p", "0.5", "probability of zeroing an element during training", 0.0, 0.999999)}, BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext&) { return dropout("dropout", a.number("p")); }}));

  INCEPT_REGISTER(r, (BlockDef{
      "flatten", "reshape CxHxW to a vector", "A view: no arithmetic, zero cost by definition.", {}, BlockRole::Layer,
      [](const BlockArgs&, const BlockContext&) { return flatten("flatten"); }}));

  INCEPT_REGISTER(r, (BlockDef{
      "linear", "fully connected layer (flattens a feature map first, like Gluon's Dense)",
      "Cost in*out MACs; the bias add is other_ops.",
      {channels("out", "output features"), boolean("bias", "true", "add a bias term"),
       activation("activation", "\"none\"", "relu or none after the layer")},
      BlockRole::Layer,
      [](const BlockArgs& a, const BlockContext&) {
        Node fc = linear("fc", a.integer("out"), a.flag("bias"));
        if (a.text("activation") == "none") return fc;
        return sequence("fc", {fc, relu("relu")});
      }}));
}

}  // namespace incept::blocks
