#include "reports/report_source.h"

#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include "framework/diagnostics.h"

namespace incept {

namespace {

// As `incept runs`: a 'running' run silent this long has died (heartbeats come at least once per epoch).
constexpr double kStaleAfterSeconds = 120;

bool writable(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  // SQLite needs the directory too, for its -wal and -shm files.
  return ::access(path.c_str(), W_OK) == 0 && ::access(dir.c_str(), W_OK) == 0;
}

// Runs whose process died still say 'running', and a log from an older build needs its schema upgraded before
// it can be read. Both are writes, which a reader of someone else's log cannot do, so this is best effort.
void refresh_if_writable(const std::string& path) {
  if (!writable(path)) return;
  try {
    RunStore::open(path).mark_stale_runs(kStaleAfterSeconds);
  } catch (const UserError&) {
    // Any real problem with the file resurfaces when it is opened for reading.
  }
}

}  // namespace

RunStore open_report_store(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw UserError(fmt::format("no database at {} (train or sweep first, or pass --db PATH)", path));
  refresh_if_writable(path);
  return RunStore::open_read_only(path);
}

std::vector<ReportRun> load_report_runs(const RunStore& store, const std::vector<RunRecord>& runs) {
  std::vector<ReportRun> out;
  out.reserve(runs.size());
  for (const RunRecord& r : runs) out.push_back({r, store.epochs(r.id), store.layers(r.id)});
  return out;
}

}  // namespace incept
