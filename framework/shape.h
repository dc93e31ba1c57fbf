#pragma once
// Per-sample tensor shapes (batch dimension excluded): [C, H, W] for feature maps, [F] for vectors.
#include <cstdint>
#include <string>
#include <vector>

namespace incept {

struct Shape {
  std::vector<std::int64_t> dims;

  static Shape chw(std::int64_t c, std::int64_t h, std::int64_t w) { return Shape{{c, h, w}}; }
  static Shape flat(std::int64_t f) { return Shape{{f}}; }
  bool is_feature_map() const { return dims.size() == 3; }
  std::int64_t channels() const { return dims.empty() ? 0 : dims[0]; }
  std::int64_t height() const { return dims.size() == 3 ? dims[1] : 1; }
  std::int64_t width() const { return dims.size() == 3 ? dims[2] : 1; }
  std::int64_t numel() const;
  std::string str() const;  // "64x31x31" or "1000"
  bool operator==(const Shape& o) const { return dims == o.dims; }
  bool operator!=(const Shape& o) const { return dims != o.dims; }
};

}  // namespace incept
