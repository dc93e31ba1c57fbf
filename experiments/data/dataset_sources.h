#pragma once
// The individual dataset sources behind load_dataset(). Each returns CPU tensors scaled to [0, 1], at most
// `train_limit` / `test_limit` samples per split (0 = all), without normalization.
#include <cstdint>
#include <string>

#include "experiments/data/dataset.h"

namespace incept {

// MNIST-format IDX files in `dir` (see idx_files.h for the names); labels must be in [0, 10).
Dataset load_idx_dataset(const std::string& name, const std::string& dir, std::int64_t train_limit,
                         std::int64_t test_limit);

// Deterministic synthetic images from cfg.synthetic_* (limits applied from cfg.train_limit / cfg.test_limit).
Dataset make_synthetic_dataset(const DataConfig& cfg);

// How many of `available` samples a limit keeps (0 = no limit).
inline std::int64_t apply_limit(std::int64_t available, std::int64_t limit) {
  return limit > 0 && limit < available ? limit : available;
}

}  // namespace incept
