#include "framework/side_by_side.h"

#include <map>

namespace incept {

std::vector<AlignedRow> align_by_name(const std::vector<std::vector<std::string>>& names_per_side) {
  std::vector<AlignedRow> rows;
  std::map<std::string, std::size_t> row_of;
  for (std::size_t side = 0; side < names_per_side.size(); ++side) {
    const std::vector<std::string>& names = names_per_side[side];
    for (std::size_t i = 0; i < names.size(); ++i) {
      auto [it, added] = row_of.emplace(names[i], rows.size());
      if (added) rows.push_back(AlignedRow{names[i], std::vector<std::optional<std::size_t>>(names_per_side.size())});
      std::optional<std::size_t>& index = rows[it->second].index[side];
      if (!index) index = i;
    }
  }
  return rows;
}

std::optional<double> cost_ratio(std::optional<std::int64_t> base, std::optional<std::int64_t> other) {
  if (!base || !other || *base == 0) return std::nullopt;
  return static_cast<double>(*other) / static_cast<double>(*base);
}

}  // namespace incept
