#include "reports/layer_comparison.h"

#include <algorithm>

namespace incept {

namespace {

const LayerRecord* find_layer(const std::vector<LayerRecord>& layers, const std::string& name) {
  auto it = std::find_if(layers.begin(), layers.end(), [&](const LayerRecord& l) { return l.name == name; });
  return it == layers.end() ? nullptr : &*it;
}

void add_to(std::optional<std::int64_t>& total, std::optional<std::int64_t> v) {
  if (v) total = total.value_or(0) + *v;
}

}  // namespace

std::vector<LayerCostRow> compare_layers(const std::vector<LayerRecord>& base, const std::vector<LayerRecord>& other) {
  std::vector<LayerCostRow> rows;
  for (const LayerRecord& b : base) {
    LayerCostRow row{b.name, b.block, "", b.params, std::nullopt, b.macs, std::nullopt};
    if (const LayerRecord* o = find_layer(other, b.name)) {
      row.other_block = o->block;
      row.other_params = o->params;
      row.other_macs = o->macs;
    }
    rows.push_back(row);
  }
  for (const LayerRecord& o : other)
    if (!find_layer(base, o.name)) rows.push_back({o.name, "", o.block, std::nullopt, o.params, std::nullopt, o.macs});

  LayerCostRow total;
  total.name = "total";
  total.total = true;
  for (const LayerCostRow& r : rows) {
    add_to(total.base_params, r.base_params);
    add_to(total.other_params, r.other_params);
    add_to(total.base_macs, r.base_macs);
    add_to(total.other_macs, r.other_macs);
  }
  rows.push_back(total);
  return rows;
}

std::optional<double> cost_ratio(std::optional<std::int64_t> base, std::optional<std::int64_t> other) {
  if (!base || !other || *base == 0) return std::nullopt;
  return static_cast<double>(*other) / static_cast<double>(*base);
}

}  // namespace incept
