#pragma once
// The Pareto front of cost against accuracy: the variants worth considering, since every other one is beaten by
// something at least as cheap and at least as accurate.
#include <optional>
#include <vector>

namespace incept {

struct CostAccuracy {
  double cost = 0;                // params or MACs
  std::optional<double> accuracy;  // none: the variant has no completed run and takes no part
};

// front[i] is true when point i has an accuracy and no other point dominates it (cost <= and accuracy >=, one
// of them strictly). Ties are all on the front.
std::vector<bool> pareto_front(const std::vector<CostAccuracy>& points);

}  // namespace incept
