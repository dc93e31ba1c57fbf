#pragma once
// Which runs a report covers: one sweep, an explicit list of ids, or the whole log.
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/store/run_store.h"

namespace incept {

// "1,2,5-8" -> {1, 2, 5, 6, 7, 8}, sorted and without duplicates. Throws UserError quoting the bad part.
std::vector<std::int64_t> parse_run_ids(const std::string& spec);

struct RunSelection {
  std::string sweep;               // non-empty: the runs of this sweep
  std::vector<std::int64_t> ids;   // non-empty: exactly these runs
};                                 // both empty: every run

// The selected runs ordered by id. Throws UserError when the selection is empty or names runs or a sweep the
// log does not have, so a typo never yields an empty report.
std::vector<RunRecord> select_runs(const RunStore& store, const RunSelection& selection);

}  // namespace incept
