#pragma once
// The [data] section of a config, parsed by the config loader and consumed by the dataset loader. Torch-free.
#include <cstdint>
#include <string>
#include <vector>

namespace incept {

struct DataConfig {
  std::string dataset = "mnist";   // mnist | fashion-mnist | synthetic
  std::string dir;                 // directory holding the four IDX files; empty = "data/<dataset>"
  std::int64_t train_limit = 0;    // use only the first N training images (0 = all)
  std::int64_t test_limit = 0;     // use only the first N test images (0 = all)
  bool normalize = false;          // subtract mean / divide by std after scaling to [0,1]
  double mean = -1;                // < 0: computed from the (limited) training set
  double std = -1;
  // synthetic only
  std::int64_t synthetic_train = 512;
  std::int64_t synthetic_test = 128;
  std::int64_t synthetic_classes = 10;
  std::vector<std::int64_t> synthetic_shape = {1, 28, 28};  // C, H, W
  std::uint64_t synthetic_seed = 0;
};

}  // namespace incept
