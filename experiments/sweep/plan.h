#pragma once
// What a sweep does with each variant, decided from the run log: sweeps are idempotent, so running one again
// only does what is missing.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "experiments/store/run_store.h"
#include "experiments/sweep/sweep.h"

namespace incept {

enum class PlanAction { train, resume, skip };

struct PlannedVariant {
  ResolvedVariant variant;
  PlanAction action = PlanAction::train;
  std::optional<RunRecord> earlier;  // the run the decision rests on (skipped, resumed, or failed before)
  std::string reason;                // for people: "completed as run 12", "resume interrupted run 7", ...
};

// The runs of a log, by experiment (runs.experiment_hash; see experiments/experiment_identity.h).
class RunHistory {
 public:
  // A file that does not exist is an empty history. With `correct_stale`, runs whose process died are first marked
  // interrupted, which writes to the file; a dry run reads only.
  static RunHistory load(const std::string& db_path, bool correct_stale);
  explicit RunHistory(const std::vector<RunRecord>& runs);
  // Oldest first (by started_at, then id).
  std::vector<RunRecord> runs_of(const std::string& hash) const;
  std::int64_t last_id() const { return last_id_; }  // the highest run id in the log, 0 when empty

 private:
  std::int64_t last_id_ = 0;
  std::map<std::string, std::vector<RunRecord>> by_hash_;
};

// One variant, given its earlier runs (oldest first): one that completed or diverged is done (a diverged run is
// shown, not retried); one running in another process is left alone; the newest interrupted run whose checkpoint
// is on disk is resumed; otherwise (new, failed, interrupted before its first checkpoint) it is trained.
PlannedVariant plan_variant(const ResolvedVariant& variant, const std::vector<RunRecord>& earlier,
                            const std::function<bool(const std::string&)>& file_exists);

std::vector<PlannedVariant> plan_sweep(const std::vector<ResolvedVariant>& variants, const RunHistory& history);

}  // namespace incept
