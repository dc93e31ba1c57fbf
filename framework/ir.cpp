#include "framework/ir.h"

#include <fmt/format.h>

namespace incept {

Node conv_unit(const std::string& name, const ConvStyle& style, std::int64_t out, Pair kernel, Pair stride,
               Pair padding, bool relu) {
  ConvAttrs c;
  c.out = out;
  c.kernel = kernel;
  c.stride = stride;
  c.padding = padding;
  c.bias = style.bias;
  c.bn = style.bn;
  c.bn_eps = style.bn_eps;
  c.relu = relu;
  return Node{name, c, {}};
}

Node conv_same(const std::string& name, const ConvStyle& style, std::int64_t out, std::int64_t k, bool relu) {
  return conv_unit(name, style, out, {k, k}, {1, 1}, {k / 2, k / 2}, relu);
}

Node separable_conv(const std::string& name, const ConvStyle& style, std::int64_t out, Pair kernel, Pair stride,
                    Pair padding, bool relu) {
  SeparableConvAttrs s;
  s.out = out;
  s.kernel = kernel;
  s.stride = stride;
  s.padding = padding;
  s.bias = style.bias;
  s.bn = style.bn;
  s.bn_eps = style.bn_eps;
  s.relu = relu;
  return Node{name, s, {}};
}

Node max_pool(const std::string& name, Pair kernel, Pair stride, Pair padding, bool ceil_mode) {
  return Node{name, MaxPoolAttrs{PoolWindow{kernel, stride, padding, ceil_mode}}, {}};
}

Node avg_pool(const std::string& name, Pair kernel, Pair stride, Pair padding, bool ceil_mode,
              bool count_include_pad) {
  return Node{name, AvgPoolAttrs{PoolWindow{kernel, stride, padding, ceil_mode}, count_include_pad}, {}};
}

Node adaptive_avg_pool(const std::string& name, Pair out) { return Node{name, AdaptiveAvgPoolAttrs{out}, {}}; }

Node dropout(const std::string& name, double p) { return Node{name, DropoutAttrs{p}, {}}; }

Node flatten(const std::string& name) { return Node{name, FlattenAttrs{}, {}}; }

Node linear(const std::string& name, std::int64_t out, bool bias) { return Node{name, LinearAttrs{out, bias}, {}}; }

Node relu(const std::string& name) { return Node{name, ReLUAttrs{}, {}}; }

Node sequence(const std::string& name, std::vector<Node> children) {
  return Node{name, SequenceAttrs{}, std::move(children)};
}

Node concat(const std::string& name, std::vector<Node> branches) {
  return Node{name, ConcatAttrs{}, std::move(branches)};
}

Node residual(const std::string& name, Node body, double scale, bool relu) {
  std::vector<Node> children;
  children.push_back(std::move(body));
  return Node{name, ResidualAttrs{scale, relu}, std::move(children)};
}

Node residual(const std::string& name, Node body, Node shortcut, double scale, bool relu) {
  std::vector<Node> children;
  children.push_back(std::move(body));
  children.push_back(std::move(shortcut));
  return Node{name, ResidualAttrs{scale, relu}, std::move(children)};
}

bool contains_conv(const Node& node) { return contains_op<ConvAttrs>(node) || contains_op<SeparableConvAttrs>(node); }

const char* op_name(const Node& n) {
  return std::visit(Overloaded{
                        [](const ConvAttrs&) { return "conv"; },
                        [](const SeparableConvAttrs&) { return "separable_conv"; },
                        [](const MaxPoolAttrs&) { return "maxpool"; },
                        [](const AvgPoolAttrs&) { return "avgpool"; },
                        [](const AdaptiveAvgPoolAttrs&) { return "adaptive_avgpool"; },
                        [](const DropoutAttrs&) { return "dropout"; },
                        [](const FlattenAttrs&) { return "flatten"; },
                        [](const LinearAttrs&) { return "linear"; },
                        [](const ReLUAttrs&) { return "relu"; },
                        [](const SequenceAttrs&) { return "sequence"; },
                        [](const ConcatAttrs&) { return "concat"; },
                        [](const ResidualAttrs&) { return "residual"; },
                    },
                    n.op);
}

namespace {

std::string kernel_text(Pair k, Pair s) {
  std::string ss = s.h == s.w ? std::to_string(s.h) : fmt::format("{},{}", s.h, s.w);
  return fmt::format("{}x{}/{}", k.h, k.w, ss);
}

// "3x3", "3x3/2" or "3x3/2,1": the window, with its stride when it is not 1.
std::string window_text(Pair k, Pair s) {
  std::string t = fmt::format("{}x{}", k.h, k.w);
  if (s.h != 1 || s.w != 1) t += s.h == s.w ? fmt::format("/{}", s.h) : fmt::format("/{},{}", s.h, s.w);
  return t;
}

std::string brief(const Node& n);

std::string joined(const std::vector<Node>& nodes, const char* sep) {
  std::string out;
  for (const auto& c : nodes) out += (out.empty() ? "" : sep) + brief(c);
  return out;
}

// "x + 0.17*(...) -> relu", "shortcut + (...)": the residual's sum, its scale when not 1, its activation.
std::string residual_text(const Node& n, const ResidualAttrs& r) {
  const std::string body = n.children.empty() ? "" : brief(n.children[0]);
  const std::string shortcut = n.children.size() > 1 ? "(" + brief(n.children[1]) + ")" : "x";
  const std::string scale = r.scale == 1.0 ? "" : fmt::format("{}*", r.scale);
  return fmt::format("{} + {}({}){}", shortcut, scale, body, r.relu ? " -> relu" : "");
}

// A compact form for composite rows: "1x1 -> 3x3", "avgpool3x3 -> 1x1", "1x1 -> [1x3 | 3x1]".
std::string brief(const Node& n) {
  return std::visit(Overloaded{
                        [](const ConvAttrs& c) { return window_text(c.kernel, c.stride); },
                        [](const SeparableConvAttrs& s) { return "sep" + window_text(s.kernel, s.stride); },
                        [](const MaxPoolAttrs& p) { return "maxpool" + window_text(p.window.kernel, p.window.stride); },
                        [](const AvgPoolAttrs& p) { return "avgpool" + window_text(p.window.kernel, p.window.stride); },
                        [&](const AdaptiveAvgPoolAttrs&) { return std::string(op_name(n)); },
                        [&](const DropoutAttrs&) { return std::string(op_name(n)); },
                        [&](const FlattenAttrs&) { return std::string(op_name(n)); },
                        [&](const LinearAttrs&) { return std::string(op_name(n)); },
                        [&](const ReLUAttrs&) { return std::string(op_name(n)); },
                        [&](const SequenceAttrs&) { return joined(n.children, " -> "); },
                        [&](const ConcatAttrs&) { return "[" + joined(n.children, " | ") + "]"; },
                        [&](const ResidualAttrs& r) { return residual_text(n, r); },
                    },
                    n.op);
}

}  // namespace

std::string describe(const Node& n) {
  return std::visit(
      Overloaded{
          [](const ConvAttrs& c) {
            return fmt::format("conv {}{}{}", kernel_text(c.kernel, c.stride), c.bn ? " +bn" : "",
                               c.relu ? " +relu" : "");
          },
          [](const SeparableConvAttrs& s) {
            return fmt::format("sepconv {}{}{}", kernel_text(s.kernel, s.stride), s.bn ? " +bn" : "",
                               s.relu ? " +relu" : "");
          },
          [](const MaxPoolAttrs& p) {
            return fmt::format("maxpool {}", kernel_text(p.window.kernel, p.window.stride));
          },
          [](const AvgPoolAttrs& p) {
            return fmt::format("avgpool {}", kernel_text(p.window.kernel, p.window.stride));
          },
          [](const AdaptiveAvgPoolAttrs& a) { return fmt::format("avgpool ->{}x{}", a.out.h, a.out.w); },
          [](const DropoutAttrs& d) { return fmt::format("dropout {}", d.p); },
          [](const FlattenAttrs&) { return std::string("flatten"); },
          [](const LinearAttrs& l) { return fmt::format("linear {}", l.out); },
          [](const ReLUAttrs&) { return std::string("relu"); },
          [&](const SequenceAttrs&) { return brief(n); },
          [&](const ConcatAttrs&) { return brief(n); },
          [&](const ResidualAttrs&) { return brief(n); },
      },
      n.op);
}

}  // namespace incept
