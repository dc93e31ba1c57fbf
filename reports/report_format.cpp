#include "reports/report_format.h"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "framework/text.h"
#include "reports/report_model.h"

namespace incept {

std::string percent_text(double fraction) {
  if (!std::isfinite(fraction)) return "-";
  return fmt::format("{:.2f}", fraction * 100);
}

std::string accuracy_text(const MeanStd& acc) {
  if (acc.n == 0) return "- (n=0)";
  if (acc.n == 1) return fmt::format("{} (n=1)", percent_text(acc.mean));
  return fmt::format("{} ± {} (n={}, {}–{})", percent_text(acc.mean), percent_text(acc.std), acc.n,
                     percent_text(acc.min), percent_text(acc.max));
}

std::string delta_text(std::optional<double> fraction) {
  if (!fraction || !std::isfinite(*fraction)) return "-";
  // Equal means can differ in the last bit; that must read +0.00, not -0.00.
  const double points = std::round(*fraction * 10000) / 100;
  return fmt::format("{:+.2f} pp", points == 0 ? 0.0 : points);
}

std::string ratio_text(std::optional<double> ratio) {
  if (!ratio || !std::isfinite(*ratio)) return "-";
  return fmt::format("{:.2f}×", *ratio);
}

std::string count_text(std::optional<std::int64_t> v) { return v ? with_commas(*v) : "-"; }

std::string seconds_text(double seconds) {
  if (!std::isfinite(seconds)) return "-";
  return fmt::format("{:.2f}", seconds);
}

std::string rate_text(double per_second) {
  if (!std::isfinite(per_second)) return "-";
  return with_commas(static_cast<std::int64_t>(std::llround(per_second)));
}

std::string setting_text(const std::optional<std::string>& v) { return v ? *v : "(unset)"; }

std::string status_text(const std::map<std::string, int>& counts) {
  std::vector<std::string> parts;
  for (const std::string& status : ordered_statuses(counts)) parts.push_back(fmt::format("{} {}", counts.at(status), status));
  return join(parts, ", ");
}

}  // namespace incept
