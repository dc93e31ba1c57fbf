#pragma once
// In-memory image classification datasets, selected by the [data] config section.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "experiments/config/data_config.h"
#include "experiments/data/batch_order.h"

namespace incept {

struct Split {
  torch::Tensor images;  // N x C x H x W float32: pixel / 255, then (x - mean) / std when normalizing
  torch::Tensor labels;  // N int64, each in [0, classes)
  std::int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

struct Dataset {
  std::string name;  // mnist | fashion-mnist | synthetic
  Split train, test;
  std::int64_t classes = 10;
  std::vector<std::int64_t> sample_shape;  // C, H, W
  double mean = 0, std = 1;                // normalization applied (0 and 1 when none)
  std::string source;                      // directory read, or "synthetic(seed=...)"
};

std::vector<std::string> dataset_names();  // mnist, fashion-mnist, synthetic

// Loads the whole dataset into memory on `device`, applying train_limit/test_limit and normalization.
// Missing or corrupt files and invalid settings throw UserError.
Dataset load_dataset(const DataConfig& cfg, torch::Device device);

}  // namespace incept
