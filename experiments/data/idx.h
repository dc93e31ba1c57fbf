#pragma once
// Reader for the IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/), raw or gzipped.
// Torch-free so that `incept data fetch` and tools can validate files without linking LibTorch.
#include <cstdint>
#include <string>
#include <vector>

namespace incept {

// An IDX file of unsigned bytes: dims = {N} for labels, {N, H, W} for images; data is row-major.
struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> data;

  std::int64_t count() const { return dims.empty() ? 0 : dims[0]; }  // number of items (first dimension)
  std::string dims_str() const;                                       // "60000x28x28"
};

// Reads and fully validates an IDX file (header, dimensions, exact payload size; gzip integrity when
// compressed). Every problem throws UserError whose message starts with `path: `.
IdxArray read_idx(const std::string& path);

// Images must be N x H x W.
void validate_images(const IdxArray& images, const std::string& path);
// Labels must be one-dimensional with every value in [0, classes).
void validate_labels(const IdxArray& labels, std::int64_t classes, const std::string& path);
// An image file and its label file must describe the same number of items.
void validate_same_count(const IdxArray& images, const std::string& images_path, const IdxArray& labels,
                         const std::string& labels_path);

}  // namespace incept
