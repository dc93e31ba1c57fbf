#pragma once
// Reading a report's runs out of the experiment log.
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

}  // namespace incept
