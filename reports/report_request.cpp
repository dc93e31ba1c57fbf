#include "reports/report_request.h"

#include <algorithm>

#include <fmt/format.h>

#include "framework/diagnostics.h"
#include "framework/text.h"
#include "reports/chartjs_asset.h"
#include "reports/render_csv.h"
#include "reports/render_html.h"
#include "reports/render_json.h"
#include "reports/render_markdown.h"
#include "reports/report_source.h"
#include "reports/run_selection.h"

namespace incept {

const std::vector<std::string>& report_formats() {
  static const std::vector<std::string> kFormats = {"md", "html", "csv", "json"};
  return kFormats;
}

Report load_report(const ReportRequest& request) {
  if (!request.sweep.empty() && !request.runs.empty())
    throw UserError("--sweep and --runs select runs in different ways; pass one of them");
  RunSelection selection;
  selection.sweep = request.sweep;
  // Parsed before the database is opened, so a typo in the spec is reported as such.
  if (!request.runs.empty()) selection.ids = parse_run_ids(request.runs);

  const RunStore store = open_report_store(request.db);
  if (!request.sweep.empty()) {
    if (std::optional<SweepReportInput> sweep = load_sweep_runs(store, request.sweep)) {
      const std::string baseline = request.baseline.empty() ? sweep->baseline : request.baseline;
      return build_report(std::move(sweep->runs), baseline, request.db, "sweep " + request.sweep, sweep->cells);
    }
  }
  std::vector<ReportRun> runs = load_report_runs(store, select_runs(store, selection));
  const std::string scope = !request.sweep.empty() ? "sweep " + request.sweep
                            : !request.runs.empty() ? "runs " + request.runs
                                                    : "all runs";
  return build_report(std::move(runs), request.baseline, request.db, scope);
}

std::string render_report(const Report& report, const std::string& format) {
  if (format == "md") return render_markdown(report);
  if (format == "csv") return render_csv(report);
  if (format == "json") return render_json(report);
  if (format == "html") return render_html(report, load_chartjs());
  throw UserError(fmt::format("unknown report format '{}'{} (formats: {})", format,
                              did_you_mean(format, report_formats()), join(report_formats(), ", ")));
}

}  // namespace incept
