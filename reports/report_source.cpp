#include "reports/report_source.h"

#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "framework/diagnostics.h"

namespace incept {

RunStore open_report_store(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw UserError(fmt::format("no database at {} (train or sweep first, or pass --db PATH)", path));
  return RunStore::open_for_reading(path, std::cerr);
}

std::vector<ReportRun> load_report_runs(const RunStore& store, const std::vector<RunRecord>& runs) {
  std::vector<ReportRun> out;
  out.reserve(runs.size());
  for (const RunRecord& r : runs) out.push_back({r, store.epochs(r.id), store.layers(r.id), "", ""});
  return out;
}

std::optional<SweepReportInput> load_sweep_runs(const RunStore& store, const std::string& sweep) {
  const std::optional<SweepInfo> info = store.sweep_info(sweep);
  if (!info) return std::nullopt;
  SweepReportInput in;
  in.baseline = info->baseline;
  in.cells = store.sweep_cells(sweep);
  for (const SweepMember& m : store.sweep_members(sweep)) {
    const std::optional<RunRecord> r = store.get_run_by_uid(m.run_uid);
    if (!r) continue;  // a member whose run was never merged into this log
    std::string note;
    if (m.reused)
      note = fmt::format("reused run {}, trained {} on {}", r->id,
                         r->sweep.empty() ? "alone" : fmt::format("by sweep {} (variant {})", r->sweep, r->variant),
                         r->started_at.substr(0, 10));
    in.runs.push_back({*r, store.epochs(r->id), store.layers(r->id), m.variant, note});
  }
  return in;
}

}  // namespace incept
