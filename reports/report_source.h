#pragma once
// Reading a report's runs out of the experiment log.
#include <optional>
#include <string>
#include <vector>

#include "experiments/store/run_store.h"
#include "reports/report_model.h"

namespace incept {

// Read-only, after marking runs whose process died as interrupted (and upgrading an older log's schema) when
// the file is writable, as `incept runs` does. Throws UserError "no database at PATH" rather than letting a typo
// in --db look like an empty log.
RunStore open_report_store(const std::string& path);

// Each run with its epochs and layers.
std::vector<ReportRun> load_report_runs(const RunStore& store, const std::vector<RunRecord>& runs);

// What a sweep's report covers: every cell it declares, the runs that answer them (reused ones with a note saying
// where they come from) and the baseline it names.
struct SweepReportInput {
  std::vector<SweepCell> cells;
  std::vector<ReportRun> runs;
  std::string baseline;
};
// nullopt when the log records no sweep of that name.
std::optional<SweepReportInput> load_sweep_runs(const RunStore& store, const std::string& sweep);

}  // namespace incept
