#include <fmt/format.h>

#include "experiments/data/dataset_sources.h"
#include "experiments/data/idx.h"
#include "experiments/data/idx_files.h"
#include "framework/diagnostics.h"

namespace incept {
namespace {

constexpr std::int64_t kIdxDatasetClasses = 10;

// Converts the first `limit` items of an image/label file pair (already validated) into tensors.
Split make_split(const IdxArray& images, const IdxArray& labels, std::int64_t limit) {
  const std::int64_t n = apply_limit(images.count(), limit);
  const std::int64_t h = images.dims[1], w = images.dims[2];
  // from_blob borrows the bytes; the dtype conversions copy, so nothing outlives the IdxArrays.
  auto* pixels = const_cast<std::uint8_t*>(images.data.data());
  auto* classes = const_cast<std::uint8_t*>(labels.data.data());
  Split split;
  split.images = torch::from_blob(pixels, {n, 1, h, w}, torch::kUInt8).to(torch::kFloat32).div_(255.0);
  split.labels = torch::from_blob(classes, {n}, torch::kUInt8).to(torch::kInt64);
  return split;
}

Split load_split(const std::string& images_path, const std::string& labels_path, std::int64_t limit) {
  const IdxArray images = read_idx(images_path);
  validate_images(images, images_path);
  const IdxArray labels = read_idx(labels_path);
  validate_labels(labels, kIdxDatasetClasses, labels_path);
  validate_same_count(images, images_path, labels, labels_path);
  return make_split(images, labels, limit);
}

}  // namespace

Dataset load_idx_dataset(const std::string& name, const std::string& dir, std::int64_t train_limit,
                         std::int64_t test_limit) {
  const IdxFileSet files = locate_idx_files(dir, name);
  Dataset ds;
  ds.name = name;
  ds.classes = kIdxDatasetClasses;
  ds.source = dir;
  ds.train = load_split(files.train_images, files.train_labels, train_limit);
  ds.test = load_split(files.test_images, files.test_labels, test_limit);
  const auto train_hw = ds.train.images.sizes().slice(2), test_hw = ds.test.images.sizes().slice(2);
  if (train_hw != test_hw)
    throw UserError(fmt::format("{}: training images are {}x{} but test images ({}) are {}x{}", files.train_images,
                                train_hw[0], train_hw[1], files.test_images, test_hw[0], test_hw[1]));
  ds.sample_shape = {1, train_hw[0], train_hw[1]};
  return ds;
}

}  // namespace incept
