#include "reports/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace incept {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> finite_only(const std::vector<double>& values) {
  std::vector<double> out;
  for (double v : values)
    if (std::isfinite(v)) out.push_back(v);
  return out;
}
}  // namespace

MeanStd mean_std(const std::vector<double>& values) {
  const std::vector<double> xs = finite_only(values);
  MeanStd s;
  s.n = xs.size();
  if (s.n == 0) {
    s.mean = s.std = s.min = s.max = kNaN;
    return s;
  }
  const auto [lowest, highest] = std::minmax_element(xs.begin(), xs.end());
  s.min = *lowest;
  s.max = *highest;
  double sum = 0;
  for (double x : xs) sum += x;
  s.mean = sum / static_cast<double>(s.n);
  if (s.n < 2) {
    s.std = kNaN;
    return s;
  }
  double squares = 0;
  for (double x : xs) squares += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(squares / static_cast<double>(s.n - 1));
  return s;
}

double finite_mean(const std::vector<double>& values) { return mean_std(values).mean; }

}  // namespace incept
