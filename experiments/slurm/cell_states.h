#pragma once
// Where each cell of a sweep stands, read while its Slurm workers run: from the main log and every worker log of
// the sweep's submissions (read-only), a run's newest state winning as in a merge, and from Slurm's queue for the
// cells no run answers yet. What `incept sweep --status` prints and `--wait` follows.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "experiments/slurm/job_folder.h"
#include "experiments/slurm/slurm_tools.h"
#include "experiments/store/run_store.h"
#include "experiments/sweep/sweep.h"

namespace incept {

struct CellState {
  std::size_t index = 0;  // in the sweep's full ordered list
  std::string variant;
  std::int64_t seed = 0;
  // completed | running | interrupted | failed | diverged (a run's status); queued (a Slurm worker will train it);
  // not started
  std::string state;
  std::optional<RunRecord> run;  // the run that answers it, as its newest state has it
  std::string log;               // where that state was read: "main", or "worker K" of the newest submission
  std::string job;               // the Slurm task given the cell by the newest submission ("12_3"), or ""
  std::string job_state;         // that task's state in the queue (RUNNING, PENDING (Resources)), or ""
  std::string note;              // the error of a failed or interrupted cell, a stale heartbeat, ...
  std::string epochs() const;    // "1/2" (done/planned) or "-"
  std::string host() const;      // where its run is (or was) trained, or "-"
};

struct SweepStatus {
  std::vector<CellState> cells;  // in the sweep's order
  std::vector<std::string> warnings;  // logs that could not be read, Slurm's queue that could not be asked
};

// `queue`: Slurm's queue (queued_jobs()), or nullopt where it cannot be asked.
SweepStatus read_sweep_status(const std::vector<ResolvedVariant>& variants, const std::string& sweep_name,
                              const std::string& main_db, const std::vector<SlurmSubmission>& submissions,
                              const std::optional<std::vector<QueuedJob>>& queue);

// Whether `a` is a later state of a run than `b`, as RunStore::merge decides: finished over not, then more epochs,
// then a later heartbeat.
bool is_later_state(const RunRecord& a, const RunRecord& b);

// One line for a cell as --wait prints its changes: "running on node3, epoch 2/4", "completed (91.2%)".
std::string describe_cell(const CellState& c);

// The table of every cell (#, variant, seed, state, epochs, test acc, host, Slurm task, note) and the totals.
std::string status_table(const SweepStatus& status);

// "array 12: 2 running, 1 pending; finishing job 13: pending (Dependency)" for one submission.
std::string describe_jobs(const SlurmSubmission& s, const std::vector<QueuedJob>& queue);

// Whether any job of the submission is still in Slurm's queue.
bool jobs_active(const SlurmSubmission& s, const std::vector<QueuedJob>& queue);
bool workers_active(const SlurmSubmission& s, const std::vector<QueuedJob>& queue);

}  // namespace incept
