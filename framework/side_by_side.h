#pragma once
// What comparing models (or runs) layer by layer comes down to, shared by `incept compare` and the report's
// per-layer table: rows matched by name, and cost ratios to the first side.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace incept {

struct AlignedRow {
  std::string name;
  std::vector<std::optional<std::size_t>> index;  // per side: the position of its first entry of this name, if any
};

// One row per distinct name: the first side's names in its order, then the names only later sides have, in the
// order they first appear. Variants of one network share layer names, so "naive vs reduced" lines up layer by layer.
std::vector<AlignedRow> align_by_name(const std::vector<std::vector<std::string>>& names_per_side);

// other / base; none when either side is missing or the base is 0.
std::optional<double> cost_ratio(std::optional<std::int64_t> base, std::optional<std::int64_t> other);

}  // namespace incept
