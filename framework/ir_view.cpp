#include "framework/ir_view.h"

#include <fmt/format.h>

namespace incept {

namespace {

std::string stride_text(Pair s) { return s.h == s.w ? std::to_string(s.h) : fmt::format("{},{}", s.h, s.w); }

std::string padding_text(Pair p) {
  if (!p.h && !p.w) return "";
  return p.h == p.w ? fmt::format(" pad {}", p.h) : fmt::format(" pad {},{}", p.h, p.w);
}

// The flags a conv of either kind shares.
void conv_flags(NodeView& v, bool bn, bool relu, bool bias) {
  if (bn) v.flags.push_back("bn");
  if (relu) v.flags.push_back("relu");
  if (!bias) v.flags.push_back("no bias");
}

void window(NodeView& v, Pair kernel, Pair stride, Pair padding) {
  v.kernel = kernel;
  v.stride = stride;
  v.padding = padding;
}

}  // namespace

NodeView view_of(const Node& n) {
  NodeView v;
  v.op = op_name(n);
  std::visit(Overloaded{
                 [&](const ConvAttrs& c) {
                   window(v, c.kernel, c.stride, c.padding);
                   v.groups = c.groups;
                   conv_flags(v, c.bn, c.relu, c.bias);
                 },
                 [&](const SeparableConvAttrs& s) {
                   window(v, s.kernel, s.stride, s.padding);
                   conv_flags(v, s.bn, s.relu, s.bias);
                 },
                 [&](const MaxPoolAttrs& p) {
                   window(v, p.window.kernel, p.window.stride, p.window.padding);
                   if (p.window.ceil_mode) v.flags.push_back("ceil");
                 },
                 [&](const AvgPoolAttrs& p) {
                   window(v, p.window.kernel, p.window.stride, p.window.padding);
                   if (p.window.ceil_mode) v.flags.push_back("ceil");
                   if (!p.count_include_pad) v.flags.push_back("excl. pad");
                 },
                 [&](const AdaptiveAvgPoolAttrs& a) { v.flags.push_back(fmt::format("to {}x{}", a.out.h, a.out.w)); },
                 [&](const DropoutAttrs& d) { v.flags.push_back(fmt::format("p={}", d.p)); },
                 [&](const FlattenAttrs&) {},
                 [&](const LinearAttrs& l) {
                   if (!l.bias) v.flags.push_back("no bias");
                 },
                 [&](const ReLUAttrs&) {},
                 [&](const SequenceAttrs&) { v.arrangement = Arrangement::Chain; },
                 [&](const ConcatAttrs&) { v.arrangement = Arrangement::Branches; },
                 [&](const ResidualAttrs& r) {
                   v.arrangement = Arrangement::Residual;
                   v.residual_scale = r.scale;
                   v.residual_relu = r.relu;
                 },
             },
             n.op);
  return v;
}

const std::vector<Node>& children_of(const Node& n) { return n.children; }

std::vector<Primitive> primitives_of(const Node& n, const NodeReport& r) {
  const std::int64_t params = r.cost.params, macs = r.cost.macs;
  const auto single = [&](std::string detail) {
    return std::vector<Primitive>{{op_name(n), std::move(detail), params, macs, true}};
  };
  return std::visit(
      Overloaded{
          [&](const ConvAttrs& c) {
            // Batch norm has a scale and a shift per channel; everything else is the convolution's (weights, bias).
            const std::int64_t bn_params = c.bn ? 2 * c.out : 0;
            std::string detail = window_text(view_of(n)) + padding_text(c.padding);
            if (c.groups != 1) detail += fmt::format(" groups {}", c.groups);
            std::vector<Primitive> out{{"conv2d", detail, params - bn_params, macs, true}};
            if (c.bn) out.push_back({"batchnorm", fmt::format("eps {}", c.bn_eps), bn_params, 0, false});
            if (c.relu) out.push_back({"relu", "", 0, 0, false});
            return out;
          },
          [&](const SeparableConvAttrs& s) {
            // The depthwise half: one kxk filter per input channel, no bias, at the output's resolution.
            const std::int64_t cin = r.input.channels(), window = s.kernel.h * s.kernel.w;
            const std::int64_t dw_params = cin * window;
            const std::int64_t dw_macs = r.output.height() * r.output.width() * cin * window;
            const std::int64_t bn_params = s.bn ? 2 * s.out : 0;
            std::vector<Primitive> out{
                {"depthwise_conv2d", fmt::format("{}x{}/{}{} groups {}", s.kernel.h, s.kernel.w,
                                                 stride_text(s.stride), padding_text(s.padding), cin),
                 dw_params, dw_macs, false},
                {"pointwise_conv2d", "1x1/1", params - dw_params - bn_params, macs - dw_macs, true}};
            if (s.bn) out.push_back({"batchnorm", fmt::format("eps {}", s.bn_eps), bn_params, 0, false});
            if (s.relu) out.push_back({"relu", "", 0, 0, false});
            return out;
          },
          [&](const MaxPoolAttrs&) { return single(window_text(view_of(n))); },
          [&](const AvgPoolAttrs&) { return single(window_text(view_of(n))); },
          [&](const AdaptiveAvgPoolAttrs& a) { return single(fmt::format("to {}x{}", a.out.h, a.out.w)); },
          [&](const DropoutAttrs& d) { return single(fmt::format("p={}", d.p)); },
          [&](const FlattenAttrs&) { return single(""); },
          // The module flattens a feature map first (Gluon's Dense); the view costs nothing and has no module.
          [&](const LinearAttrs&) { return single(r.input.is_feature_map() ? "flattens " + r.input.str() : ""); },
          [&](const ReLUAttrs&) { return single(""); },
          [&](const SequenceAttrs&) { return std::vector<Primitive>{}; },
          [&](const ConcatAttrs&) { return std::vector<Primitive>{}; },
          [&](const ResidualAttrs&) { return std::vector<Primitive>{}; },
      },
      n.op);
}

std::string window_text(const NodeView& v) {
  if (!v.kernel) return "";
  return fmt::format("{}x{}/{}", v.kernel->h, v.kernel->w, stride_text(v.stride.value_or(Pair{1, 1})));
}

std::string op_text(const Node& n, bool with_window) {
  const NodeView v = view_of(n);
  if (v.arrangement != Arrangement::Op) return describe(n);
  std::string text = v.op;
  if (with_window && v.kernel) text += " " + window_text(v);
  for (const std::string& f : v.flags) text += (f == "bn" || f == "relu" ? " +" : " ") + f;
  return text;
}

std::string residual_sum_text(const NodeView& v, bool has_shortcut) {
  std::string text = has_shortcut ? "shortcut + " : "x + ";
  text += v.residual_scale == 1.0 ? "body" : fmt::format("{} × body", v.residual_scale);
  return v.residual_relu ? text + ", relu" : text;
}

}  // namespace incept
