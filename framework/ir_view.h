#pragma once
// What summaries and diagrams read of an IR node, in one place: the op's name, its window, how it arranges its
// children, and the primitives (LibTorch modules) a leaf op is built from. Tables and pictures go through this
// file, never through a Node's attributes, so a change of the IR's representation is a change here only.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "framework/analysis.h"
#include "framework/ir.h"

namespace incept {

enum class Arrangement {
  Op,        // a leaf: one operation (a conv unit counts as one: conv [+ bn] [+ relu])
  Chain,     // children applied in order
  Branches,  // children applied to the same input, their outputs concatenated along channels
  Residual,  // children: a body, and a shortcut if any (else the identity); shortcut(x) + scale * body(x)
};

// One module of a leaf op as the module builder makes it: a conv unit is conv2d, then batchnorm, then relu; a
// separable conv is a depthwise then a pointwise conv2d, then batchnorm and relu.
struct Primitive {
  std::string op;      // "conv2d", "depthwise_conv2d", "pointwise_conv2d", "batchnorm", "relu", "maxpool", ...
  std::string detail;  // "3x3/1 pad 1", "eps 0.001", "" when there is nothing to say
  std::int64_t params = 0;
  std::int64_t macs = 0;
  bool makes_output = false;  // the module that turns the op's input channels into its output's (a conv2d, a
                              // pointwise conv2d, a linear layer, a pool), not a depthwise half nor a batchnorm
};

struct NodeView {
  std::string op;  // "conv", "maxpool", "concat", ... (op_name)
  Arrangement arrangement = Arrangement::Op;
  std::optional<Pair> kernel, stride, padding;  // convolution and pooling windows
  std::int64_t groups = 1;
  std::vector<std::string> flags;  // what else the op does: "bn", "relu", "no bias", "ceil", "p=0.5"
  double residual_scale = 1.0;     // Residual: the body's factor in the sum
  bool residual_relu = false;      // Residual: a ReLU after the sum
};

NodeView view_of(const Node& n);
// The children in the order the node applies them; their NodeReports are `report.children` in the same order.
const std::vector<Node>& children_of(const Node& n);

// The modules of a leaf op, each with its share of the op's parameters and MACs (`r` is the op's analysis; the
// shares add up to r.cost.params and r.cost.macs). Empty for a node with children.
std::vector<Primitive> primitives_of(const Node& n, const NodeReport& r);

// "3x3/2" (kernel/stride; "1x7/1"); "" when the node has no window.
std::string window_text(const NodeView& v);

// The op in a few words: "conv +bn +relu", "maxpool ceil", "dropout p=0.5"; with its window when asked ("conv
// 3x3/1 +relu"). A node with children by its structure ("1x1 -> 3x3", "[1x1 | 3x3]", "x + 0.17*(...)").
std::string op_text(const Node& n, bool with_window);

// The sum of a Residual node in a few words: "x + body", "shortcut + 0.17 × body, relu".
std::string residual_sum_text(const NodeView& v, bool has_shortcut);

}  // namespace incept
