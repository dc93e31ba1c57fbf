#pragma once
// Networks drawn from their IR: what `incept graph` draws, and the pictures of `incept compare --graph` and the
// HTML report.
//
//   depth 1: the chain of layers, each one node with its block, channels, output shape and cost;
//   depth 2: every Inception block a cluster of its branches (1x1, reduce -> 3x3, pool -> proj, ...) joined at the
//            concatenation, one node per op (a conv unit: conv [+ bn] [+ relu]) with its kernel/stride, channels,
//            output shape and cost;
//   depth 3: every primitive (conv2d, batchnorm, relu, ...), a conv unit a cluster of its modules.
//
// Aux heads hang off the layer they read, dashed (they run in training only). Every op is filled by its MACs
// against the costliest op drawn (dot.h's heat scale), so the expensive branch stands out; labels carry the exact
// figures and each one's share of its network's MACs.
#include <string>
#include <utility>
#include <vector>

#include "diagrams/diagram.h"
#include "framework/model_spec.h"

namespace incept {

// The whole network: input, every layer, the aux heads, output. `id` prefixes the SVG's ids.
Diagram network_diagram(const ModelSpec& spec, const std::string& caption, int depth, const std::string& id = "net");

struct LabelledModel {
  std::string label;  // "[1] configs/mnist/naive.toml"
  const ModelSpec* spec = nullptr;
};

// Networks side by side, one column each, each showing only the layers and aux heads `layers` names (typically
// differing_layers() against the first): the input of the first one drawn, then each named layer, joined by a
// dotted edge naming the layers left out in between. A column without a named layer says so.
Diagram layers_side_by_side(const std::vector<LabelledModel>& models, const std::vector<std::string>& layers,
                            int depth, const std::string& caption, const std::string& id = "cmp");

}  // namespace incept
