#pragma once
// What a sweep test reads back: a log's runs by cell, a command's whole output, a log's path in a test folder.
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "experiments/store/run_store.h"
#include "tests/support/temp_files.h"

namespace incept::sweep_test {

using Cell = std::pair<std::string, std::int64_t>;  // (variant, seed)

// The runs of the log at `db` by cell (the newest of a cell's runs wins).
inline std::map<Cell, RunRecord> runs_by_cell(const std::string& db) {
  std::map<Cell, RunRecord> out;
  for (const RunRecord& r : RunStore::open_read_only(db).list_runs()) out[{r.variant, r.seed}] = r;
  return out;
}

inline std::string output(const testing::CommandResult& r) { return r.out + r.err; }

inline std::string db_in(const testing::TempDir& dir, const std::string& name) { return (dir.path() / name).string(); }

}  // namespace incept::sweep_test
