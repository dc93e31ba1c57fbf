#pragma once
// The network IR: every block expands into a small tree of primitive operations. Costs, shapes and the LibTorch
// module are all derived from this one tree, so the parameter count printed by `incept summary` and the numel()
// of the trained module cannot disagree.
#include <cstdint>
#include <string>
#include <vector>

namespace incept {

enum class OpKind {
  Conv,             // conv unit: Conv2d [+ BatchNorm2d] [+ ReLU]
  MaxPool,
  AvgPool,
  AdaptiveAvgPool,  // to a fixed output size (global average pooling is 1x1)
  Dropout,
  Flatten,
  Linear,           // flattens a feature map first, like Gluon's Dense
  ReLU,
  Sequence,         // children applied in order
  Concat,           // children applied to the same input, outputs concatenated along channels
};

struct Pair {
  std::int64_t h = 0, w = 0;
};

struct ConvAttrs {
  std::int64_t out = 0;
  Pair kernel{1, 1}, stride{1, 1}, padding{0, 0};
  std::int64_t groups = 1;
  bool bias = true;
  bool bn = false;
  double bn_eps = 1e-3;
  bool relu = true;
};

struct PoolAttrs {
  Pair kernel{1, 1}, stride{1, 1}, padding{0, 0};
  bool ceil_mode = false;
  bool count_include_pad = true;  // average pooling only
};

struct Node {
  OpKind kind = OpKind::Sequence;
  std::string name;  // module name inside its parent; also the row name in summaries
  ConvAttrs conv;
  PoolAttrs pool;
  Pair adaptive_out{1, 1};
  double dropout_p = 0.5;
  std::int64_t linear_out = 0;
  bool linear_bias = true;
  std::vector<Node> children;
};

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

// Whether `node` or any node below it is of `kind`.
bool contains_op(const Node& node, OpKind kind);

const char* op_name(OpKind k);
// A short description for tables: "conv 3x3/1 +bn", "maxpool 3x3/2", "concat(4)".
std::string describe(const Node& n);

}  // namespace incept
