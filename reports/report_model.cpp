#include "reports/report_model.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "experiments/config/experiment_identity.h"
#include "framework/diagnostics.h"
#include "framework/text.h"
#include "reports/config_diff.h"
#include "reports/pareto.h"
#include "reports/variant_models.h"

namespace incept {

namespace {

// Runs of a sweep share a variant name; a run trained alone is grouped by its config's name and settings (seed
// and other run-only keys excluded), so repeated trainings of one config with different seeds pool, while
// same-named runs trained with different settings (a --set on the command line) stay apart.
struct GroupKey {
  std::string sweep;
  std::string variant_or_name;
  std::string settings;  // runs trained alone: their experiment without the seed; "" for sweep runs
  bool operator==(const GroupKey& o) const {
    return sweep == o.sweep && variant_or_name == o.variant_or_name && settings == o.settings;
  }
};

// Runs trained alone pool when they trained the same experiment but for the seed (experiment_identity.h): the
// one definition sweeps use too, so a report never pools what a sweep would train apart.
GroupKey key_of(const ReportRun& run, const std::string& sweep) {
  const RunRecord& r = run.record;
  if (!run.cell_variant.empty()) return {sweep, run.cell_variant, ""};
  if (!r.variant.empty()) return {r.sweep, r.variant, ""};
  return {r.sweep, r.name, stored_experiment_hash(r.config_toml, SeedPolicy::ignore)};
}

std::vector<VariantSummary> group_runs(std::vector<ReportRun> runs, const std::vector<SweepCell>& cells) {
  std::sort(runs.begin(), runs.end(),
            [](const ReportRun& a, const ReportRun& b) { return a.record.id < b.record.id; });
  std::vector<GroupKey> keys;
  std::vector<VariantSummary> groups;
  const auto group = [&](const GroupKey& key) -> VariantSummary& {
    auto it = std::find(keys.begin(), keys.end(), key);
    if (it != keys.end()) return groups[static_cast<std::size_t>(it - keys.begin())];
    keys.push_back(key);
    VariantSummary v;
    v.sweep = key.sweep;
    v.variant = key.settings.empty() ? key.variant_or_name : "";
    v.label = key.variant_or_name;
    groups.push_back(std::move(v));
    return groups.back();
  };
  // A sweep's declared cells first, in its order: a variant without a single run still has its row.
  std::vector<SweepCell> declared = cells;
  std::stable_sort(declared.begin(), declared.end(),
                   [](const SweepCell& a, const SweepCell& b) { return a.position < b.position; });
  for (const SweepCell& c : declared) {
    VariantSummary& v = group({c.sweep, c.variant, ""});
    if (v.config_toml.empty()) {
      v.config_toml = c.config_toml;
      v.params = c.params;
      v.macs = c.macs;
    }
    if (!c.error.empty()) v.cell_errors.push_back({c.seed, c.error});
  }
  const std::string sweep = declared.empty() ? "" : declared.front().sweep;
  for (ReportRun& run : runs) group(key_of(run, sweep)).runs.push_back(std::move(run));
  return groups;
}

// Variant names are only unique within a sweep: prefix the sweep when a report mixes several, and number any
// label that still collides, so every row and every --baseline is unambiguous.
void make_labels_unique(std::vector<VariantSummary>& variants) {
  std::set<std::string> sweeps;
  for (const VariantSummary& v : variants) sweeps.insert(v.sweep);
  if (sweeps.size() > 1)
    for (VariantSummary& v : variants)
      if (!v.sweep.empty()) v.label = v.sweep + "/" + v.label;
  std::set<std::string> seen;
  for (VariantSummary& v : variants)
    if (!seen.insert(v.label).second) {
      v.label += v.runs.empty() ? fmt::format(" #{}", seen.size()) : fmt::format(" #{}", v.runs.front().record.id);
      seen.insert(v.label);
    }
}

bool is_completed(const ReportRun& r) { return r.record.status == RunStatus::completed; }

void summarize_accuracy(VariantSummary& v) {
  std::vector<double> finals;
  for (const ReportRun& r : v.runs)
    if (is_completed(r) && r.record.final_test_acc) finals.push_back(*r.record.final_test_acc);
  v.test_acc = mean_std(finals);
}

void summarize_speed_and_status(VariantSummary& v) {
  std::vector<double> seconds, images_per_s;
  for (const ReportRun& r : v.runs) {
    ++v.status_counts[to_string(r.record.status)];
    for (const EpochRecord& e : r.epochs) {
      seconds.push_back(e.seconds);
      images_per_s.push_back(e.images_per_s);
    }
  }
  if (!v.cell_errors.empty()) v.status_counts[to_string(RunStatus::failed)] += static_cast<int>(v.cell_errors.size());
  if (v.runs.empty() && v.cell_errors.empty()) ++v.status_counts["not run"];
  v.seconds_per_epoch = finite_mean(seconds);
  v.images_per_s = finite_mean(images_per_s);
}

// The curve pools the same runs as the accuracy column (completed ones), so its last point agrees with the table.
// A variant with no completed run yet (a sweep in progress) shows all of its runs instead of nothing.
void summarize_curve(VariantSummary& v) {
  const bool any_completed = std::any_of(v.runs.begin(), v.runs.end(), is_completed);
  std::map<int, std::vector<double>> by_epoch;
  for (const ReportRun& r : v.runs)
    if (!any_completed || is_completed(r))
      for (const EpochRecord& e : r.epochs) by_epoch[e.epoch].push_back(e.test_acc);
  for (const auto& [epoch, accs] : by_epoch) {
    const MeanStd s = mean_std(accs);
    if (s.n) v.curve.push_back({epoch, s.mean, s.n, s.std, s.min, s.max});
  }
}

void take_costs_and_layers(VariantSummary& v) {
  if (v.runs.empty()) return;  // a declared cell without runs: its own figures
  v.params = v.runs.front().record.params;
  v.macs = v.runs.front().record.macs;
  v.config_toml = v.runs.front().record.config_toml;
  for (const ReportRun& r : v.runs)
    if (!r.layers.empty()) {
      v.layers = r.layers;
      break;
    }
}

void diff_settings(Report& report) {
  std::vector<FlatConfig> configs;
  for (const VariantSummary& v : report.variants)
    configs.push_back(flatten_config(v.config_toml, v.runs.empty() ? "variant " + v.label
                                                                   : fmt::format("run {}", v.runs.front().record.id)));
  SettingsDiff diff = differing_settings(configs);
  report.setting_groups = group_settings(diff);
  report.setting_keys = std::move(diff.keys);
  for (std::size_t i = 0; i < report.variants.size(); ++i) report.variants[i].settings = std::move(diff.values[i]);
}

std::size_t find_baseline(const std::vector<VariantSummary>& variants, const std::string& wanted) {
  if (wanted.empty()) return 0;
  std::vector<std::size_t> matches;
  for (std::size_t i = 0; i < variants.size(); ++i)
    if (variants[i].label == wanted) return i;
  for (std::size_t i = 0; i < variants.size(); ++i)
    if (variants[i].variant == wanted) matches.push_back(i);
  if (matches.size() == 1) return matches.front();
  std::vector<std::string> labels;
  for (const VariantSummary& v : variants) labels.push_back(v.label);
  if (matches.size() > 1)
    throw UserError(fmt::format("--baseline '{}' matches several variants; name one of: {}", wanted,
                                join(labels, ", ")));
  throw UserError(fmt::format("--baseline '{}' is not a variant of this report{} (variants: {})", wanted,
                              did_you_mean(wanted, labels), join(labels, ", ")));
}

void compute_deltas(Report& report) {
  const MeanStd& base = report.variants[report.baseline].test_acc;
  for (VariantSummary& v : report.variants)
    if (base.n && v.test_acc.n) v.delta_vs_baseline = v.test_acc.mean - base.mean;
}

void mark_pareto_fronts(std::vector<VariantSummary>& variants) {
  std::vector<CostAccuracy> by_params, by_macs;
  for (const VariantSummary& v : variants) {
    std::optional<double> acc;
    if (v.test_acc.n) acc = v.test_acc.mean;
    by_params.push_back({static_cast<double>(v.params), acc});
    by_macs.push_back({static_cast<double>(v.macs), acc});
  }
  const std::vector<bool> params_front = pareto_front(by_params), macs_front = pareto_front(by_macs);
  for (std::size_t i = 0; i < variants.size(); ++i) {
    variants[i].pareto_params = params_front[i];
    variants[i].pareto_macs = macs_front[i];
  }
}

}  // namespace

std::size_t Report::run_count() const {
  std::size_t n = 0;
  for (const VariantSummary& v : variants) n += v.runs.size();
  return n;
}

std::vector<std::string> ordered_statuses(const std::map<std::string, int>& counts) {
  static const std::vector<std::string> kOrder = [] {
    std::vector<std::string> names;
    for (RunStatus s : all_run_statuses()) names.emplace_back(to_string(s));
    names.emplace_back("not run");  // a declared sweep cell without a run yet
    return names;
  }();
  std::vector<std::string> out;
  for (const std::string& s : kOrder)
    if (counts.count(s)) out.push_back(s);
  for (const auto& entry : counts)
    if (std::find(kOrder.begin(), kOrder.end(), entry.first) == kOrder.end()) out.push_back(entry.first);
  return out;
}

Report build_report(std::vector<ReportRun> runs, const std::string& baseline, std::string db_path,
                    std::string scope, const std::vector<SweepCell>& cells) {
  if (runs.empty() && cells.empty()) throw UserError("no runs to report");
  Report report;
  report.db_path = std::move(db_path);
  report.scope = std::move(scope);
  report.variants = group_runs(std::move(runs), cells);
  make_labels_unique(report.variants);
  for (VariantSummary& v : report.variants) {
    take_costs_and_layers(v);
    summarize_accuracy(v);
    summarize_speed_and_status(v);
    summarize_curve(v);
  }
  attach_models(report.variants);
  diff_settings(report);
  report.baseline = find_baseline(report.variants, baseline);
  find_differing_layers(report);
  compute_deltas(report);
  mark_pareto_fronts(report.variants);
  return report;
}

}  // namespace incept
