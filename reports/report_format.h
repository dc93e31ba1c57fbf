#pragma once
// How figures read in the human-facing formats (Markdown and HTML): accuracies as percentages with their spread
// and sample size, deltas in percentage points, costs compact. CSV and JSON keep raw numbers instead.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "reports/stats.h"

namespace incept {

std::string percent_text(double fraction);               // 0.98831 -> "98.83"; NaN -> "-"
std::string accuracy_text(const MeanStd& acc);  // "98.83 ± 0.12 (n=3, 98.70–98.95)", "98.83 (n=1)", "- (n=0)"
std::string delta_text(std::optional<double> fraction);  // "+0.20 pp"; none -> "-"
std::string ratio_text(std::optional<double> ratio);     // "0.34×"; none -> "-"
std::string count_text(std::optional<std::int64_t> v);   // "1,234,567"; none -> "-"
std::string seconds_text(double seconds);                // "4.21"; NaN -> "-"
std::string rate_text(double per_second);                // "14,020"; NaN -> "-"
std::string setting_text(const std::optional<std::string>& v);  // none -> "(unset)"
std::string status_text(const std::map<std::string, int>& counts);  // "3 completed, 1 diverged"

}  // namespace incept
