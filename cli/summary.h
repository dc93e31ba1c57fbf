#pragma once
// `incept summary`: per-layer costs, totals and a torchsummary-style memory estimate for one model.
#include <string>

#include "framework/model_spec.h"

namespace incept {

struct MemoryEstimate {  // float32, batch of 1, in MiB (torchsummary's "MB")
  double input_mb = 0, forward_backward_mb = 0, params_mb = 0, total_mb = 0;
};
MemoryEstimate estimate_memory(const ModelSpec& spec);

// depth 1: one row per layer; 2: plus the branches of each block; 3+: the operations inside branches.
std::string summary_text(const ModelSpec& spec, const std::string& title, int depth);
std::string summary_json(const ModelSpec& spec, const std::string& title, int depth);

// A tree row flattened for tables: indentation level, name and report.
struct SummaryRow {
  int level;
  std::string name;
  const NodeReport* report;
};
std::vector<SummaryRow> summary_rows(const ModelSpec& spec, int depth);

}  // namespace incept
