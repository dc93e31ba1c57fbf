#pragma once
// Shape inference and cost accounting over the IR.
//
// Conventions (those of fvcore and torchvision's published figures):
//   conv MACs   = Cout * Hout * Wout * (Cin / groups) * kh * kw
//   separable   = the depthwise conv's (groups = Cin) plus the pointwise 1x1's, each by the conv rule
//   linear MACs = in * out
//   FLOPs       = 2 * MACs
// Everything else (bias adds, batch norm scale+shift, ReLU, pooling window reads, the residual add and its scale
// multiply) is counted apart as `other_ops`, one op per element touched, so users can choose their own convention.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "framework/ir.h"
#include "framework/shape.h"

namespace incept {

struct Cost {
  std::int64_t params = 0;
  std::int64_t macs = 0;
  std::int64_t other_ops = 0;
  Cost& operator+=(const Cost& o) {
    params += o.params;
    macs += o.macs;
    other_ops += o.other_ops;
    return *this;
  }
};

struct NodeReport {
  std::string name;
  std::string what;  // describe(node)
  Shape input;
  Shape output;
  Cost cost;
  // Elements of every intermediate output a framework keeps for backward (conv, bn and relu each count), for the
  // torchsummary-style memory estimate.
  std::int64_t activation_elems = 0;
  std::vector<NodeReport> children;
};

// Raised when a node cannot be applied to its input (kernel larger than the padded input, 0 channels, ...).
// `where` is the dotted path of the node inside its layer ("branch3x3.conv").
class ShapeError : public std::runtime_error {
 public:
  ShapeError(std::string where, const std::string& message)
      : std::runtime_error(message), where_(std::move(where)) {}
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

// Every count (elements of a shape, params, MACs, other ops, activation elements) stays at or below this,
// 2^53: exactly representable as a double (JSON, ratios) and far enough from INT64_MAX that totals, 2 x MACs
// and byte sizes cannot overflow. Only absurd sizes exceed it; analyze() reports them as ShapeErrors.
constexpr std::int64_t kMaxCount = std::int64_t(1) << 53;

// a + b and a * b of non-negative counts, or ShapeError(where, "<what> ... is too large") beyond kMaxCount.
std::int64_t checked_add(std::int64_t a, std::int64_t b, const std::string& where, const std::string& what);
std::int64_t checked_mul(std::int64_t a, std::int64_t b, const std::string& where, const std::string& what);

NodeReport analyze(const Node& node, const Shape& input);

// Output size of a pooling/conv window along one axis, following PyTorch's rules (ceil_mode included).
std::int64_t window_output(std::int64_t in, std::int64_t kernel, std::int64_t stride, std::int64_t pad,
                           bool ceil_mode);

}  // namespace incept
