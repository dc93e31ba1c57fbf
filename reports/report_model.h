#pragma once
// The numbers behind every report format: runs grouped into variants (several seeds each), accuracy as
// mean ± std over seeds, the delta to a baseline variant, speed, status counts, learning curves, per-layer costs
// and the Pareto fronts. Renderers only format a Report; they compute nothing themselves.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "experiments/store/run_store.h"
#include "framework/model_spec.h"
#include "reports/config_diff.h"
#include "reports/stats.h"

namespace incept {

// One run with everything a report shows of it.
struct ReportRun {
  RunRecord record;
  std::vector<EpochRecord> epochs;
  std::vector<LayerRecord> layers;
  // In a sweep's report: the variant of the cell the run answers (which a reused run's own record does not name),
  // and for a reused run where it came from ("reused run 12, trained alone on 2026-11-30").
  std::string cell_variant;
  std::string reuse_note;
};

// A sweep's cell whose last attempt failed before a run existed (bad data, a crash at start-up).
struct CellError {
  std::int64_t seed = 0;
  std::string error;
};

struct CurvePoint {
  int epoch = 0;
  double test_acc = 0;  // mean over the runs that reached this epoch (fraction)
  std::size_t n = 0;
  double std = 0;       // their spread over seeds: sample std (NaN when n < 2), lowest and highest
  double min = 0, max = 0;
};

struct VariantSummary {
  std::string label;    // the variant name; the run name for runs trained outside a sweep
  std::string sweep;    // "" for runs trained alone
  std::string variant;  // as stored ("" for runs trained alone)
  std::vector<ReportRun> runs;  // ordered by id
  std::string config_toml;      // the resolved config of its first run (or of its declared cell)
  std::vector<CellError> cell_errors;  // declared cells that failed before any run existed
  std::vector<std::optional<std::string>> settings;  // aligned with Report::setting_keys; nullopt = unset
  std::int64_t params = 0;  // of the first run; every seed of a variant builds the same network
  std::int64_t macs = 0;
  MeanStd test_acc;                     // final test accuracy of the completed runs (fractions)
  std::optional<double> delta_vs_baseline;  // difference of means (fraction); none without completed runs
  double seconds_per_epoch = 0;         // mean over every recorded epoch of every run; NaN when none
  double images_per_s = 0;              // likewise
  std::map<std::string, int> status_counts;  // status -> runs ("failed" counts cell_errors; "not run" cells without runs)
  std::vector<CurvePoint> curve;        // test accuracy per epoch (see report_model.cpp for which runs)
  std::vector<LayerRecord> layers;      // of the first run that recorded them
  // Its config built again by this incept: the branches and pictures come from it. Null when the stored config
  // no longer builds (a block renamed since); model_note then says why. model_note also says when the rebuilt
  // network's params or MACs differ from what the runs recorded (a block changed since they trained).
  std::shared_ptr<const ModelSpec> model;
  std::string model_note;
  std::vector<std::string> differing_layers;  // configured differently from the baseline's (layer_diff.h)
  bool pareto_params = false;           // no other variant is at least as accurate with at most as many params
  bool pareto_macs = false;
};

struct Report {
  std::string db_path;
  std::string scope;  // "sweep NAME", "runs 1,3-4" or "all runs"
  std::vector<std::string> setting_keys;  // --set paths whose values differ between variants
  std::vector<SettingGroup> setting_groups;  // those keys, the ones that change together as one group
  std::vector<VariantSummary> variants;   // ordered by their lowest run id
  std::size_t baseline = 0;               // index into variants
  std::size_t run_count() const;
};

// The statuses in the order reports list them; unknown ones follow alphabetically.
std::vector<std::string> ordered_statuses(const std::map<std::string, int>& counts);

// Groups `runs` (ordered by id) into variants and computes every figure. `baseline` names a variant label;
// "" picks the first variant. Throws UserError for an unknown baseline. With `cells` (a sweep's report), every
// declared variant is a row in the sweep's order, with or without runs, and runs are grouped by the cell they
// answer; otherwise variants are ordered by their lowest run id.
Report build_report(std::vector<ReportRun> runs, const std::string& baseline, std::string db_path,
                    std::string scope, const std::vector<SweepCell>& cells = {});

}  // namespace incept
