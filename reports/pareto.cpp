#include "reports/pareto.h"

namespace incept {

namespace {
bool dominates(const CostAccuracy& a, const CostAccuracy& b) {
  return a.cost <= b.cost && *a.accuracy >= *b.accuracy && (a.cost < b.cost || *a.accuracy > *b.accuracy);
}
}  // namespace

std::vector<bool> pareto_front(const std::vector<CostAccuracy>& points) {
  std::vector<bool> front(points.size(), false);
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (!points[i].accuracy) continue;
    bool dominated = false;
    for (std::size_t j = 0; j < points.size() && !dominated; ++j)
      dominated = j != i && points[j].accuracy && dominates(points[j], points[i]);
    front[i] = !dominated;
  }
  return front;
}

}  // namespace incept
