#include "experiments/data/batch_order.h"

#include <numeric>
#include <vector>

#include <fmt/format.h>

#include "experiments/data/stable_rng.h"
#include "framework/diagnostics.h"

namespace incept {

BatchOrder::BatchOrder(std::int64_t n, std::int64_t batch_size, std::uint64_t seed)
    : n_(n), batch_size_(batch_size), seed_(seed) {
  if (n < 0) throw UserError(fmt::format("cannot batch a dataset of {} samples", n));
  if (batch_size <= 0) throw UserError(fmt::format("batch size must be positive, got {}", batch_size));
}

torch::Tensor BatchOrder::epoch_indices(std::int64_t epoch) const {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n_));
  std::iota(order.begin(), order.end(), 0);
  // Fisher-Yates with our own PRNG: torch::randperm's stream is not guaranteed stable across releases.
  StableRng rng(StableRng::mix(seed_, static_cast<std::uint64_t>(epoch)));
  for (std::int64_t i = n_ - 1; i > 0; --i) {
    const auto j = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(i) + 1));
    std::swap(order[i], order[j]);
  }
  return torch::tensor(order, torch::kInt64);
}

torch::Tensor BatchOrder::batch_indices(const torch::Tensor& epoch_order, std::int64_t batch) const {
  if (batch < 0 || batch >= batches())
    throw std::out_of_range(fmt::format("batch {} out of range: an epoch has {} batches", batch, batches()));
  const std::int64_t start = batch * batch_size_;
  return epoch_order.narrow(0, start, std::min(batch_size_, n_ - start));
}

}  // namespace incept
