#include "reports/layer_comparison.h"

#include "framework/side_by_side.h"

namespace incept {

namespace {

std::vector<std::string> names_of(const std::vector<LayerRecord>& layers) {
  std::vector<std::string> names;
  for (const LayerRecord& l : layers) names.push_back(l.name);
  return names;
}

void add_to(std::optional<std::int64_t>& total, std::optional<std::int64_t> v) {
  if (v) total = total.value_or(0) + *v;
}

}  // namespace

std::vector<LayerCostRow> compare_layers(const std::vector<LayerRecord>& base, const std::vector<LayerRecord>& other) {
  std::vector<LayerCostRow> rows;
  for (const AlignedRow& aligned : align_by_name({names_of(base), names_of(other)})) {
    LayerCostRow row;
    row.name = aligned.name;
    if (const auto i = aligned.index[0]) {
      row.base_block = base[*i].block;
      row.base_params = base[*i].params;
      row.base_macs = base[*i].macs;
    }
    if (const auto i = aligned.index[1]) {
      row.other_block = other[*i].block;
      row.other_params = other[*i].params;
      row.other_macs = other[*i].macs;
    }
    rows.push_back(row);
  }

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

}  // namespace incept
