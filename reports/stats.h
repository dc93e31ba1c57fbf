#pragma once
// Summary statistics over seeds: a variant's accuracy is reported as mean ± sample standard deviation with n and
// the range, so a reader can tell a real difference from seed noise and see whether every seed clears a bar.
#include <cstddef>
#include <vector>

namespace incept {

struct MeanStd {
  double mean = 0;  // NaN when n == 0
  double std = 0;   // sample standard deviation (n - 1); NaN when n < 2, since one seed says nothing about spread
  std::size_t n = 0;
  double min = 0;   // lowest and highest value; NaN when n == 0
  double max = 0;
};

// NaN values (metrics a diverged step could not compute) are left out.
MeanStd mean_std(const std::vector<double>& values);

// Mean of the finite values; NaN when there are none.
double finite_mean(const std::vector<double>& values);

}  // namespace incept
