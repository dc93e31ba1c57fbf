#pragma once
// The order in which training visits samples: a fresh shuffle per epoch that depends only on (seed, epoch),
// so a run resumed at epoch e, batch b sees exactly the batches the uninterrupted run would have seen.
#include <cstdint>

#include <torch/torch.h>

namespace incept {

class BatchOrder {
 public:
  BatchOrder(std::int64_t n, std::int64_t batch_size, std::uint64_t seed);

  // A permutation of 0..n-1 (int64, CPU) determined by (seed, epoch) alone.
  torch::Tensor epoch_indices(std::int64_t epoch) const;
  // ceil(n / batch_size); the last batch may be smaller.
  std::int64_t batches() const { return (n_ + batch_size_ - 1) / batch_size_; }
  // The sample indices of batch `batch` (0-based) within an epoch's order from epoch_indices().
  torch::Tensor batch_indices(const torch::Tensor& epoch_order, std::int64_t batch) const;

  std::int64_t size() const { return n_; }
  std::int64_t batch_size() const { return batch_size_; }

 private:
  std::int64_t n_;
  std::int64_t batch_size_;
  std::uint64_t seed_;
};

}  // namespace incept
