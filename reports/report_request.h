#pragma once
// `incept report` without the command line: what to report on, loading it, and rendering it in a format.
#include <string>
#include <vector>

#include "reports/report_model.h"

namespace incept {

struct ReportRequest {
  std::string db = "runs.db";
  std::string sweep;     // report one sweep ...
  std::string runs;      // ... or these ids ("1,2,5-8"); neither: every run
  std::string baseline;  // variant label; "" = the variant with the lowest run id
};

const std::vector<std::string>& report_formats();  // md, html, csv, json

// Opens the log read-only, selects and loads the runs and computes the report. Throws UserError for a missing
// database, a bad --runs spec, an empty selection or an unknown baseline.
Report load_report(const ReportRequest& request);

// The report in `format` (one of report_formats()); "html" also loads Chart.js (see chartjs_asset.h).
std::string render_report(const Report& report, const std::string& format);

}  // namespace incept
