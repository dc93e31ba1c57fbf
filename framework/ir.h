#pragma once
// The network IR: every block expands into a small tree of primitive operations. Costs, shapes and the LibTorch
// module are all derived from this one tree, so the parameter count printed by `incept summary` and the numel()
// of the trained module cannot disagree.
//
// A node's operation is one of a closed set of attribute structs (`Op`, a std::variant). Everything that
// interprets nodes — shape and cost analysis (analysis.cpp), the module builder (torch_model.cpp), descriptions
// (ir.cpp) — visits that variant with one overload per struct and no catch-all, so adding a struct to `Op` fails
// to compile until every interpreter handles it.
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace incept {

struct Pair {
  std::int64_t h = 0, w = 0;
};

// Conv unit: Conv2d [+ BatchNorm2d] [+ ReLU].
struct ConvAttrs {
  std::int64_t out = 0;
  Pair kernel{1, 1}, stride{1, 1}, padding{0, 0};
  std::int64_t groups = 1;
  bool bias = true;
  bool bn = false;
  double bn_eps = 1e-3;
  bool relu = true;
};

// Depthwise-separable convolution (Xception, MobileNet): a kxk depthwise conv (groups = input channels, one filter
// per channel, no bias), then a 1x1 pointwise conv to `out` channels [+ BatchNorm2d] [+ ReLU]. `bias` is the
// pointwise conv's: a depthwise bias would pass through the pointwise conv as a constant per output channel, which
// the pointwise bias already is, so no framework gives the depthwise half one by default (timm, Keras).
struct SeparableConvAttrs {
  std::int64_t out = 0;
  Pair kernel{3, 3}, stride{1, 1}, padding{1, 1};
  bool bias = true;
  bool bn = false;
  double bn_eps = 1e-3;
  bool relu = true;
};

// A pooling window (PyTorch's rules for the output size).
struct PoolWindow {
  Pair kernel{1, 1}, stride{1, 1}, padding{0, 0};
  bool ceil_mode = false;
};

struct MaxPoolAttrs {
  PoolWindow window;
};

struct AvgPoolAttrs {
  PoolWindow window;
  bool count_include_pad = true;
};

// Average pooling to a fixed output size (global average pooling is 1x1).
struct AdaptiveAvgPoolAttrs {
  Pair out{1, 1};
};

struct DropoutAttrs {
  double p = 0.5;
};

struct FlattenAttrs {};

// Fully connected; flattens a feature map first, like Gluon's Dense.
struct LinearAttrs {
  std::int64_t out = 0;
  bool bias = true;
};

struct ReLUAttrs {};

// Children applied in order.
struct SequenceAttrs {};

// Children (the branches) applied to the same input, outputs concatenated along channels.
struct ConcatAttrs {};

// shortcut(x) + scale * body(x) [-> ReLU]: children are the body and, optionally, a shortcut (a projection, as in
// Xception's entry flow); without one the shortcut is the identity. The body's output must have the shortcut's
// shape (the input's, for the identity): analysis reports a mismatch with both shapes.
struct ResidualAttrs {
  double scale = 1.0;
  bool relu = false;
};

using Op = std::variant<ConvAttrs, SeparableConvAttrs, MaxPoolAttrs, AvgPoolAttrs, AdaptiveAvgPoolAttrs, DropoutAttrs,
                        FlattenAttrs, LinearAttrs, ReLUAttrs, SequenceAttrs, ConcatAttrs, ResidualAttrs>;

struct Node {
  std::string name;  // module name inside its parent; also the row name in summaries
  Op op = SequenceAttrs{};
  // Sequence: the steps, in order; Concat: the branches; Residual: the body, then the shortcut if there is one.
  // Leaf operations have none (analysis checks this).
  std::vector<Node> children;

  template <class T>
  bool is() const {
    return std::holds_alternative<T>(op);
  }
  template <class T>
  const T& as() const {
    return std::get<T>(op);
  }
  template <class T>
  T& as() {
    return std::get<T>(op);
  }
};

// std::visit with one lambda per attribute struct: `std::visit(Overloaded{[](const ConvAttrs&) {...}, ...}, n.op)`.
// Write one overload per struct, never a generic one (`auto`), so a new struct is a compile error.
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// How a block builds its conv units: plain conv-ReLU or conv-BN-ReLU is chosen once, not copied into every block.
struct ConvStyle {
  bool bn = false;
  double bn_eps = 1e-3;
  bool bias = true;  // resolved by the registry: defaults to !bn
};

Node conv_unit(const std::string& name, const ConvStyle& style, std::int64_t out, Pair kernel, Pair stride = {1, 1},
               Pair padding = {0, 0}, bool relu = true);
// Square kernel with "same" padding for stride 1 (k/2), the common case in Inception branches.
Node conv_same(const std::string& name, const ConvStyle& style, std::int64_t out, std::int64_t k, bool relu = true);
Node separable_conv(const std::string& name, const ConvStyle& style, std::int64_t out, Pair kernel,
                    Pair stride = {1, 1}, Pair padding = {1, 1}, bool relu = true);
Node max_pool(const std::string& name, Pair kernel, Pair stride, Pair padding = {0, 0}, bool ceil_mode = false);
Node avg_pool(const std::string& name, Pair kernel, Pair stride, Pair padding = {0, 0}, bool ceil_mode = false,
              bool count_include_pad = true);
Node adaptive_avg_pool(const std::string& name, Pair out);
Node dropout(const std::string& name, double p);
Node flatten(const std::string& name);
Node linear(const std::string& name, std::int64_t out, bool bias = true);
Node relu(const std::string& name);
Node sequence(const std::string& name, std::vector<Node> children);
Node concat(const std::string& name, std::vector<Node> branches);
// x + scale * body(x) [-> ReLU].
Node residual(const std::string& name, Node body, double scale = 1.0, bool relu = false);
// shortcut(x) + scale * body(x) [-> ReLU].
Node residual(const std::string& name, Node body, Node shortcut, double scale = 1.0, bool relu = false);

// Whether `node` or any node below it holds an operation of type T (ConvAttrs, ResidualAttrs, ...).
template <class T>
bool contains_op(const Node& node) {
  if (node.is<T>()) return true;
  for (const auto& c : node.children)
    if (contains_op<T>(c)) return true;
  return false;
}
// Whether the expansion has a convolution of any kind (conv unit or separable): such blocks take the conv
// switches (bn, bn_eps, bias).
bool contains_conv(const Node& node);

// "conv", "separable_conv", "maxpool", ..., "residual".
const char* op_name(const Node& n);
// A short description for tables: "conv 3x3/1 +bn", "maxpool 3x3/2", "[1x1 | 1x1 -> 3x3]", "x + 0.17 * (...)".
std::string describe(const Node& n);

}  // namespace incept
