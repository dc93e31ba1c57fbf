#pragma once
// `incept compare`: several models side by side — totals with ratios to the first, and per-layer differences
// (layers matched by name, so "naive vs reduced" lines up block by block and branch by branch).
#include <string>
#include <vector>

#include "framework/model_spec.h"

namespace incept {

struct NamedModel {
  std::string label;  // usually the config path
  ModelSpec spec;
};

std::string compare_text(const std::vector<NamedModel>& models, int depth);
std::string compare_json(const std::vector<NamedModel>& models, int depth);

}  // namespace incept
