#include "framework/ir.h"

#include <fmt/format.h>

namespace incept {

Node conv_unit(const std::string& name, const ConvStyle& style, std::int64_t out, Pair kernel, Pair stride,
               Pair padding, bool relu) {
  Node n;
  n.kind = OpKind::Conv;
  n.name = name;
  n.conv.out = out;
  n.conv.kernel = kernel;
  n.conv.stride = stride;
  n.conv.padding = padding;
  n.conv.bias = style.bias;
  n.conv.bn = style.bn;
  n.conv.bn_eps = style.bn_eps;
  n.conv.relu = relu;
  return n;
}

Node conv_same(const std::string& name, const ConvStyle& style, std::int64_t out, std::int64_t k, bool relu) {
  return conv_unit(name, style, out, {k, k}, {1, 1}, {k / 2, k / 2}, relu);
}

static Node pool_node(OpKind kind, const std::string& name, Pair kernel, Pair stride, Pair padding, bool ceil_mode,
                      bool count_include_pad) {
  Node n;
  n.kind = kind;
  n.name = name;
  n.pool.kernel = kernel;
  n.pool.stride = stride;
  n.pool.padding = padding;
  n.pool.ceil_mode = ceil_mode;
  n.pool.count_include_pad = count_include_pad;
  return n;
}

Node max_pool(const std::string& name, Pair kernel, Pair stride, Pair padding, bool ceil_mode) {
  return pool_node(OpKind::MaxPool, name, kernel, stride, padding, ceil_mode, true);
}

Node avg_pool(const std::string& name, Pair kernel, Pair stride, Pair padding, bool ceil_mode,
              bool count_include_pad) {
  return pool_node(OpKind::AvgPool, name, kernel, stride, padding, ceil_mode, count_include_pad);
}

Node adaptive_avg_pool(const std::string& name, Pair out) {
  Node n;
  n.kind = OpKind::AdaptiveAvgPool;
  n.name = name;
  n.adaptive_out = out;
  return n;
}

Node dropout(const std::string& name, double p) {
  Node n;
  n.kind = OpKind::Dropout;
  n.name = name;
  n.dropout_p = p;
  return n;
}

Node flatten(const std::string& name) {
  Node n;
  n.kind = OpKind::Flatten;
  n.name = name;
  return n;
}

Node linear(const std::string& name, std::int64_t out, bool bias) {
  Node n;
  n.kind = OpKind::Linear;
  n.name = name;
  n.linear_out = out;
  n.linear_bias = bias;
  return n;
}

Node relu(const std::string& name) {
  Node n;
  n.kind = OpKind::ReLU;
  n.name = name;
  return n;
}

Node sequence(const std::string& name, std::vector<Node> children) {
  Node n;
  n.kind = OpKind::Sequence;
  n.name = name;
  n.children = std::move(children);
  return n;
}

Node concat(const std::string& name, std::vector<Node> branches) {
  Node n;
  n.kind = OpKind::Concat;
  n.name = name;
  n.children = std::move(branches);
  return n;
}

bool contains_op(const Node& node, OpKind kind) {
  if (node.kind == kind) return true;
  for (const auto& c : node.children)
    if (contains_op(c, kind)) return true;
  return false;
}

const char* op_name(OpKind k) {
  switch (k) {
    case OpKind::Conv: return "conv";
    case OpKind::MaxPool: return "maxpool";
    case OpKind::AvgPool: return "avgpool";
    case OpKind::AdaptiveAvgPool: return "adaptive_avgpool";
    case OpKind::Dropout: return "dropout";
    case OpKind::Flatten: return "flatten";
    case OpKind::Linear: return "linear";
    case OpKind::ReLU: return "relu";
    case OpKind::Sequence: return "sequence";
    case OpKind::Concat: return "concat";
  }
  return "?";
}

static std::string kernel_text(Pair k, Pair s) {
  std::string ks = k.h == k.w ? fmt::format("{}x{}", k.h, k.w) : fmt::format("{}x{}", k.h, k.w);
  std::string ss = s.h == s.w ? std::to_string(s.h) : fmt::format("{},{}", s.h, s.w);
  return ks + "/" + ss;
}

// A compact form for composite rows: "1x1 -> 3x3", "avgpool3x3 -> 1x1", "1x1 -> [1x3 | 3x1]".
static std::string brief(const Node& n) {
  auto window = [](Pair k, Pair s) {
    std::string t = fmt::format("{}x{}", k.h, k.w);
    if (s.h != 1 || s.w != 1) t += s.h == s.w ? fmt::format("/{}", s.h) : fmt::format("/{},{}", s.h, s.w);
    return t;
  };
  switch (n.kind) {
    case OpKind::Conv: return window(n.conv.kernel, n.conv.stride);
    case OpKind::MaxPool: return "maxpool" + window(n.pool.kernel, n.pool.stride);
    case OpKind::AvgPool: return "avgpool" + window(n.pool.kernel, n.pool.stride);
    case OpKind::Sequence:
    case OpKind::Concat: {
      std::string out;
      const char* sep = n.kind == OpKind::Sequence ? " -> " : " | ";
      for (const auto& c : n.children) out += (out.empty() ? "" : sep) + brief(c);
      return n.kind == OpKind::Concat ? "[" + out + "]" : out;
    }
    case OpKind::AdaptiveAvgPool:
    case OpKind::Dropout:
    case OpKind::Flatten:
    case OpKind::Linear:
    case OpKind::ReLU:
      return op_name(n.kind);
  }
  return op_name(n.kind);  // unreachable: every kind is handled above (-Werror=switch)
}

std::string describe(const Node& n) {
  switch (n.kind) {
    case OpKind::Conv:
      return fmt::format("conv {}{}{}", kernel_text(n.conv.kernel, n.conv.stride), n.conv.bn ? " +bn" : "",
                         n.conv.relu ? " +relu" : "");
    case OpKind::MaxPool:
    case OpKind::AvgPool:
      return fmt::format("{} {}", op_name(n.kind), kernel_text(n.pool.kernel, n.pool.stride));
    case OpKind::AdaptiveAvgPool:
      return fmt::format("avgpool ->{}x{}", n.adaptive_out.h, n.adaptive_out.w);
    case OpKind::Dropout:
      return fmt::format("dropout {}", n.dropout_p);
    case OpKind::Linear:
      return fmt::format("linear {}", n.linear_out);
    case OpKind::Sequence:
    case OpKind::Concat:
      return brief(n);
    case OpKind::Flatten:
    case OpKind::ReLU:
      return op_name(n.kind);
  }
  return op_name(n.kind);  // unreachable: every kind is handled above (-Werror=switch)
}

}  // namespace incept
