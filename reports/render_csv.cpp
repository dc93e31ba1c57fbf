#include "reports/render_csv.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "framework/text.h"

namespace incept {

namespace {


std::string number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : ""; }

std::string line(const std::vector<std::string>& fields) {
  std::vector<std::string> quoted;
  for (const std::string& f : fields) quoted.push_back(csv_field(f));
  return join(quoted, ",") + "\n";
}

// Every status column a reader might filter on is always present (0 when no run has it), plus any other
// status that occurs, so the header does not change with the data.
std::vector<std::string> status_columns(const Report& r) {
  std::vector<std::string> out;
  for (RunStatus s : all_run_statuses()) out.emplace_back(to_string(s));
  std::set<std::string> extra;
  for (const VariantSummary& v : r.variants)
    for (const auto& entry : v.status_counts)
      if (std::find(out.begin(), out.end(), entry.first) == out.end()) extra.insert(entry.first);
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

}  // namespace

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string render_csv(const Report& r) {
  const std::vector<std::string> statuses = status_columns(r);
  std::vector<std::string> head = {"variant", "sweep", "baseline"};
  head.insert(head.end(), r.setting_keys.begin(), r.setting_keys.end());
  head.insert(head.end(), {"params", "macs", "test_acc_mean", "test_acc_std", "test_acc_n", "test_acc_min",
                           "test_acc_max", "delta_vs_baseline",
                           "seconds_per_epoch", "images_per_s", "pareto_params", "pareto_macs", "runs", "run_ids"});
  head.insert(head.end(), statuses.begin(), statuses.end());

  std::string out = line(head);
  for (std::size_t i = 0; i < r.variants.size(); ++i) {
    const VariantSummary& v = r.variants[i];
    std::vector<std::string> fields = {v.label, v.sweep, i == r.baseline ? "true" : "false"};
    for (const auto& s : v.settings) fields.push_back(s.value_or(""));
    std::vector<std::string> ids;
    for (const ReportRun& run : v.runs) ids.push_back(std::to_string(run.record.id));
    fields.insert(fields.end(),
                  {std::to_string(v.params), std::to_string(v.macs), number(v.test_acc.mean), number(v.test_acc.std),
                   std::to_string(v.test_acc.n), number(v.test_acc.min), number(v.test_acc.max),
                   v.delta_vs_baseline ? number(*v.delta_vs_baseline) : "",
                   number(v.seconds_per_epoch), number(v.images_per_s), v.pareto_params ? "true" : "false",
                   v.pareto_macs ? "true" : "false", std::to_string(v.runs.size()), join(ids, " ")});
    for (const std::string& s : statuses) {
      auto it = v.status_counts.find(s);
      fields.push_back(std::to_string(it == v.status_counts.end() ? 0 : it->second));
    }
    out += line(fields);
  }
  return out;
}

}  // namespace incept
