#pragma once
// `incept summary`: per-layer costs, totals and a torchsummary-style memory estimate for one model.
#include <string>

#include "framework/model_spec.h"

namespace incept {

struct MemoryEstimate {  // float32, batch of 1, in MiB (torchsummary's "MB")
  double input_mb = 0, forward_backward_mb = 0, params_mb = 0, total_mb = 0;
};
MemoryEstimate estimate_memory(const ModelSpec& spec);

// depth 1: one row per layer; 2: plus the branches of each block; 3+: the operations inside branches. The table
// is torchinfo's at the same depth: a tree with depth-idx, kernel, input and output shape, params (and their
// share), MACs (and their share) and trainable; aux heads follow the layers.
std::string summary_text(const ModelSpec& spec, const std::string& title, int depth);
std::string summary_json(const ModelSpec& spec, const std::string& title, int depth);

// One row of the tree, flattened: torchinfo's depth-idx ("2-3": the third row at depth 2 in the whole model).
struct SummaryRow {
  int level = 0;          // 0 for a layer or aux head
  std::string depth_idx;  // "1-4"
  std::string name;
  std::string type;       // the block for a layer or aux head, the op or the branch's structure below
  std::string kernel;     // "3x3/2" (kernel/stride) or ""
  const NodeReport* report = nullptr;
  bool aux = false;       // an aux head or a row inside one
};
std::vector<SummaryRow> summary_rows(const ModelSpec& spec, int depth);

}  // namespace incept
