#include "experiments/data/dataset.h"

#include <fmt/format.h>

#include "experiments/data/dataset_sources.h"
#include "experiments/data/idx_files.h"
#include "framework/diagnostics.h"
#include "framework/text.h"

namespace incept {
namespace {

void check_limits(const DataConfig& cfg) {
  if (cfg.train_limit < 0) throw UserError(fmt::format("data.train_limit must be >= 0, got {}", cfg.train_limit));
  if (cfg.test_limit < 0) throw UserError(fmt::format("data.test_limit must be >= 0, got {}", cfg.test_limit));
}

Dataset load_unnormalized(const DataConfig& cfg) {
  if (cfg.dataset == "mnist" || cfg.dataset == "fashion-mnist")
    return load_idx_dataset(cfg.dataset, dataset_dir(cfg.dir, cfg.dataset), cfg.train_limit, cfg.test_limit);
  if (cfg.dataset == "synthetic") return make_synthetic_dataset(cfg);
  throw UserError(fmt::format("unknown dataset '{}'; known: {}{}", cfg.dataset, join(dataset_names(), ", "),
                              did_you_mean(cfg.dataset, dataset_names())));
}

// Statistics come from the training split only, so the test set never leaks into preprocessing.
void normalize(Dataset& ds, const DataConfig& cfg) {
  ds.mean = cfg.mean >= 0 ? cfg.mean : ds.train.images.mean().item<double>();
  ds.std = cfg.std >= 0 ? cfg.std : ds.train.images.std(/*unbiased=*/false).item<double>();
  if (!(ds.std > 0))
    throw UserError(cfg.std >= 0 ? fmt::format("data.std must be positive, got {}", cfg.std)
                                 : fmt::format("cannot normalize {}: the training images are constant (std 0)",
                                               ds.name));
  for (Split* split : {&ds.train, &ds.test}) split->images.sub_(ds.mean).div_(ds.std);
}

}  // namespace

std::vector<std::string> dataset_names() { return {"mnist", "fashion-mnist", "synthetic"}; }

Dataset load_dataset(const DataConfig& cfg, torch::Device device) {
  check_limits(cfg);
  Dataset ds = load_unnormalized(cfg);
  if (cfg.normalize) normalize(ds, cfg);
  for (Split* split : {&ds.train, &ds.test}) {
    split->images = split->images.to(device);
    split->labels = split->labels.to(device);
  }
  return ds;
}

}  // namespace incept
