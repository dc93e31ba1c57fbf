#pragma once
// Per-layer cost of a variant next to the baseline's (naive vs reduced): where the savings come from.
// Layers are matched by name, since variants of one network share layer names.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "experiments/store/run_store.h"

namespace incept {

struct LayerCostRow {
  std::string name;
  std::string base_block;   // "" when the baseline has no such layer
  std::string other_block;  // "" when the compared variant has no such layer
  std::optional<std::int64_t> base_params, other_params;
  std::optional<std::int64_t> base_macs, other_macs;
  bool total = false;  // the sum row
};

// The baseline's layers in order, then layers only the other variant has, then the total over the listed layers.
std::vector<LayerCostRow> compare_layers(const std::vector<LayerRecord>& base, const std::vector<LayerRecord>& other);

}  // namespace incept
