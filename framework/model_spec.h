#pragma once
// The [model] section resolved into layers: each with its block, validated parameters, IR and cost report.
#include <cstdint>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "framework/analysis.h"
#include "framework/diagnostics.h"
#include "framework/registry.h"

namespace incept {

// Upper bound on each dimension of model.input (and data.synthetic_shape): far beyond any image a CNN takes,
// low enough that an input like 1x100000x100000 is reported as a typo instead of being sized.
constexpr std::int64_t kMaxInputDim = 65536;

struct LayerSpec {
  std::string name;
  std::string block;
  SourcePos pos;   // where the layer is defined
  BlockArgs args;  // validated, defaults filled in
  Node ir;         // expanded; ir.name == name
  NodeReport report;
};

struct AuxSpec {
  LayerSpec head;         // the head's layers, applied to the output of `at`
  std::string at;         // the main-path layer whose output it reads
  std::size_t at_index = 0;
  double weight = 0.3;    // loss weight during training; aux heads are ignored at evaluation
};

struct ModelSpec {
  Shape input;
  std::vector<LayerSpec> layers;
  std::vector<AuxSpec> aux;

  Shape output() const { return layers.empty() ? input : layers.back().report.output; }
  // resolve_model() guarantees these totals (and cost() + aux_cost()) are at most kMaxCount.
  Cost cost() const;      // inference cost: main path only
  Cost aux_cost() const;  // aux heads
  std::int64_t activation_elems() const;
};

// Resolves `root["model"]`. Every problem goes to `diags` (the caller throws them all at once); shape errors stop
// the resolution at the first layer that cannot be applied, since later shapes are unknown.
ModelSpec resolve_model(const toml::table& root, const SourcePos& file, const BlockRegistry& registry,
                        Diagnostics& diags);


}  // namespace incept
