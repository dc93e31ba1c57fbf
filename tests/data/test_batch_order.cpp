#include <catch2/catch.hpp>

#include "experiments/data/batch_order.h"
#include "framework/diagnostics.h"

using namespace incept;

TEST_CASE("BatchOrder yields a permutation per epoch", "[data][batch_order]") {
  const BatchOrder order(103, 10, 5);
  CHECK(order.batches() == 11);
  for (std::int64_t epoch : {0, 1, 17}) {
    const torch::Tensor indices = order.epoch_indices(epoch);
    CHECK(indices.dtype() == torch::kInt64);
    CHECK(torch::equal(std::get<0>(indices.sort()), torch::arange(103, torch::kInt64)));
  }
}

TEST_CASE("BatchOrder depends only on seed and epoch", "[data][batch_order]") {
  const BatchOrder a(500, 32, 9), b(500, 64, 9), other_seed(500, 32, 10);
  CHECK(torch::equal(a.epoch_indices(3), a.epoch_indices(3)));
  CHECK(torch::equal(a.epoch_indices(3), b.epoch_indices(3)));  // batch size does not change the order
  CHECK_FALSE(torch::equal(a.epoch_indices(3), a.epoch_indices(4)));
  CHECK_FALSE(torch::equal(a.epoch_indices(3), other_seed.epoch_indices(3)));
  // Querying epochs out of order (as a resumed run does) gives the same answer.
  const torch::Tensor epoch5 = a.epoch_indices(5);
  a.epoch_indices(0);
  CHECK(torch::equal(a.epoch_indices(5), epoch5));
  // Not the identity, and not torch's global stream.
  CHECK_FALSE(torch::equal(epoch5, torch::arange(500, torch::kInt64)));
}

TEST_CASE("BatchOrder batches cover the epoch, the last one short", "[data][batch_order]") {
  const BatchOrder order(23, 5, 1);
  const torch::Tensor indices = order.epoch_indices(0);
  std::vector<torch::Tensor> parts;
  for (std::int64_t b = 0; b < order.batches(); ++b) parts.push_back(order.batch_indices(indices, b));
  CHECK(parts.size() == 5);
  CHECK(parts.back().size(0) == 3);
  CHECK(torch::equal(torch::cat(parts), indices));
  CHECK_THROWS_AS(order.batch_indices(indices, 5), std::out_of_range);
}

TEST_CASE("BatchOrder handles edge sizes and rejects bad ones", "[data][batch_order]") {
  CHECK(BatchOrder(0, 4, 0).batches() == 0);
  CHECK(BatchOrder(0, 4, 0).epoch_indices(0).numel() == 0);
  CHECK(torch::equal(BatchOrder(1, 4, 0).epoch_indices(2), torch::zeros({1}, torch::kInt64)));
  CHECK_THROWS_AS(BatchOrder(10, 0, 0), UserError);
  CHECK_THROWS_AS(BatchOrder(-1, 4, 0), UserError);
}
