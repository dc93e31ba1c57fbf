#pragma once
// Sweep processes sharing a log take their work cell by cell. A cell is one (variant, seed); planning and claiming
// it are one transaction, in the manner of a compare-and-swap from "free" to "mine": two `incept sweep` of one file,
// or N workers of a job array without --shard, never train a cell twice, and a worker that finishes early takes
// the next free cell. A cell another live sweep process holds is left to it; one whose holder died is free again.
//
// Cells already answered by an identical run (of this sweep, another sweep, or trained alone) are not trained
// again: the run becomes a member of the cell, marked as reused when it was trained outside it, so the sweep's
// report shows it.
//
// With prefix reuse (prefix_groups.h), claiming a cell claims, in the same transaction, every free cell that one
// training can answer with it: the group is held by this worker as a whole, so no other worker trains a member
// that the group is about to record.
#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "experiments/store/heartbeat_thread.h"
#include "experiments/store/run_store.h"
#include "experiments/sweep/plan.h"
#include "experiments/sweep/sweep.h"

namespace incept {

// The cell a resolved variant answers, as the log registers it: one definition for local sweeps and Slurm
// submissions, so both register the same cells.
SweepCell sweep_cell(const ResolvedVariant& v);

class SweepClaims {
 public:
  // Records the sweep (its baseline) and every cell of `variants` in the log, and starts this worker's heartbeat.
  // With `prefix_reuse`, cells are claimed in groups (see above).
  SweepClaims(const std::string& db_path, const Sweep& sweep, std::vector<ResolvedVariant> variants,
              bool prefix_reuse = true);
  ~SweepClaims();  // lets go of cells still held (a sweep that stops early)
  SweepClaims(const SweepClaims&) = delete;
  SweepClaims& operator=(const SweepClaims&) = delete;

  struct Next {
    std::vector<PlannedVariant> settled;   // visited on the way: done already, or another process works on it
    std::optional<PlannedVariant> claimed;  // the cell this worker now holds (train or resume); none: no work left
    // Cells claimed with it, to be recorded from its training at their last epoch (fewest epochs first); it is
    // then the longest of its group, which may not be the first cell found.
    std::vector<PlannedVariant> members;
  };
  // Visits the cells this worker has not visited yet, in plan order, and claims the first that needs work (with
  // the cells of its prefix group).
  Next next();

  // Packing: claims up to `max_mates` more cells that can train with `leader` (claimed by next(), with no prefix
  // group) as one packed network — cells with its packing key and no prefix group of their own, to train like it or
  // to resume from the same position — in plan order. Cells another process holds are left to it.
  std::vector<PlannedVariant> claim_pack_mates(const PlannedVariant& leader, std::size_t max_mates);

  // The child working on a claimed cell ended with `status`. Lets go of the cell; a failure that left no run behind
  // (bad data, a crash before the run was recorded) is recorded on the cell with `error`, so reports show it.
  void release(const PlannedVariant& planned, RunStatus status, const std::string& error);

  // How the run a claimed cell's child began (or resumed) for it ended, as the log has it: for the members of a
  // group, whose child's exit status is its leader's. `fallback` when the cell has no run since it was claimed (the
  // child failed before it began any) or the run is still marked running (a child killed outright).
  RunStatus recorded_status(const PlannedVariant& planned, RunStatus fallback) const;
  const std::vector<ResolvedVariant>& variants() const { return variants_; }

 private:
  std::size_t index_of(const PlannedVariant& planned) const;
  // Whether variant i trains in a prefix group (prefix reuse on, and another variant shares its prefix key).
  bool in_prefix_group(std::size_t i) const;
  std::string sweep_;
  std::vector<ResolvedVariant> variants_;
  bool prefix_reuse_ = true;
  std::string token_;  // this worker's claim token
  RunStore store_;
  std::set<std::size_t> visited_;
  std::vector<std::int64_t> newest_before_;  // per variant: the newest run id of its experiment when claimed
  std::set<std::size_t> held_;              // variants (indices into variants_) whose cells this worker holds
  std::unique_ptr<HeartbeatThread> heartbeat_;
};

// A worker of a Slurm job array starting (or starting again after a requeue) on a log of its own: nothing else
// works on that log, so a run still marked running, or a cell still held, was left by an earlier run of this task
// (on any host) and is taken back at once, not after the lease of another host's holder.
void take_back_worker_log(const std::string& db_path, const std::string& sweep);

}  // namespace incept
