#include "framework/ir_view.h"

#include <fmt/format.h>

namespace incept {

NodeView view_of(const Node& n) {
  NodeView v;
  v.op = op_name(n.kind);
  switch (n.kind) {
    case OpKind::Conv:
      v.kernel = n.conv.kernel;
      v.stride = n.conv.stride;
      v.padding = n.conv.padding;
      v.groups = n.conv.groups;
      if (n.conv.bn) v.flags.push_back("bn");
      if (n.conv.relu) v.flags.push_back("relu");
      if (!n.conv.bias) v.flags.push_back("no bias");
      return v;
    case OpKind::MaxPool:
    case OpKind::AvgPool:
      v.kernel = n.pool.kernel;
      v.stride = n.pool.stride;
      v.padding = n.pool.padding;
      if (n.pool.ceil_mode) v.flags.push_back("ceil");
      if (n.kind == OpKind::AvgPool && !n.pool.count_include_pad) v.flags.push_back("excl. pad");
      return v;
    case OpKind::AdaptiveAvgPool:
      v.flags.push_back(fmt::format("to {}x{}", n.adaptive_out.h, n.adaptive_out.w));
      return v;
    case OpKind::Dropout:
      v.flags.push_back(fmt::format("p={}", n.dropout_p));
      return v;
    case OpKind::Linear:
      if (!n.linear_bias) v.flags.push_back("no bias");
      return v;
    case OpKind::Flatten:
    case OpKind::ReLU:
      return v;
    case OpKind::Sequence:
      v.arrangement = Arrangement::Chain;
      return v;
    case OpKind::Concat:
      v.arrangement = Arrangement::Branches;
      return v;
  }
  return v;  // unreachable: every kind is handled above (-Werror=switch)
}

const std::vector<Node>& children_of(const Node& n) { return n.children; }

std::vector<Primitive> primitives_of(const Node& n, const NodeReport& r) {
  const std::int64_t params = r.cost.params;
  switch (n.kind) {
    case OpKind::Conv: {
      const ConvAttrs& c = n.conv;
      // Batch norm has a scale and a shift per channel; everything else is the convolution's (weights, bias).
      const std::int64_t bn_params = c.bn ? 2 * c.out : 0;
      std::string detail = window_text(view_of(n));
      if (c.padding.h || c.padding.w)
        detail += c.padding.h == c.padding.w ? fmt::format(" pad {}", c.padding.h)
                                             : fmt::format(" pad {},{}", c.padding.h, c.padding.w);
      if (c.groups != 1) detail += fmt::format(" groups {}", c.groups);
      std::vector<Primitive> out{{"conv2d", detail, params - bn_params}};
      if (c.bn) out.push_back({"batchnorm", fmt::format("eps {}", c.bn_eps), bn_params});
      if (c.relu) out.push_back({"relu", "", 0});
      return out;
    }
    case OpKind::MaxPool:
    case OpKind::AvgPool:
      return {{op_name(n.kind), window_text(view_of(n)), params}};
    case OpKind::AdaptiveAvgPool:
      return {{"adaptive_avgpool", fmt::format("to {}x{}", n.adaptive_out.h, n.adaptive_out.w), params}};
    case OpKind::Dropout:
      return {{"dropout", fmt::format("p={}", n.dropout_p), params}};
    case OpKind::Linear:
      // The module flattens a feature map first (Gluon's Dense); the view costs nothing and has no module.
      return {{"linear", r.input.is_feature_map() ? "flattens " + r.input.str() : "", params}};
    case OpKind::Flatten:
    case OpKind::ReLU:
      return {{op_name(n.kind), "", params}};
    case OpKind::Sequence:
    case OpKind::Concat:
      return {};
  }
  return {};  // unreachable: every kind is handled above (-Werror=switch)
}

std::string window_text(const NodeView& v) {
  if (!v.kernel) return "";
  const Pair k = *v.kernel, s = v.stride.value_or(Pair{1, 1});
  return fmt::format("{}x{}/{}", k.h, k.w, s.h == s.w ? std::to_string(s.h) : fmt::format("{},{}", s.h, s.w));
}

std::string op_text(const Node& n, bool with_window) {
  const NodeView v = view_of(n);
  if (v.arrangement != Arrangement::Op) return describe(n);
  std::string text = v.op;
  if (with_window && v.kernel) text += " " + window_text(v);
  for (const std::string& f : v.flags) text += (f == "bn" || f == "relu" ? " +" : " ") + f;
  return text;
}

}  // namespace incept
