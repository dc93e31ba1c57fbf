#pragma once
// Sweeps on Slurm: `incept sweep SWEEP.toml --slurm` submits a job array of workers and a finishing job, and
// `--status` / `--wait` read where every cell stands while they run.
//
// Logs: each worker trains on its own log in the submission's folder (job_folder.h), which only its array task
// writes; the main log is written by the submitting command (before it submits) and by the finishing job (after
// the workers), never by a worker. Every log these commands and jobs open is kept in SQLite's rollback journal
// (INCEPT_JOURNAL_MODE=delete): WAL's shared memory does not reach across hosts, POSIX file locks do.
//
// Reruns: the submitting command first joins what earlier submissions of the sweep left behind (their workers'
// logs, with the runs a killed worker left running marked interrupted), plans from the main log, and submits only
// the cells that are not done: an interrupted one resumes from its checkpoint, a failed one trains again.
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "experiments/slurm/job_folder.h"
#include "experiments/sweep/device_use.h"

namespace incept {

// Writes the report of sweep `sweep` from the log `main_db` into `folder` (report.md, report.html), saying on `out`
// what it wrote or why it could not. The command line passes the reporter's (reports/ sits above experiments/).
using ReportWriter = std::function<void(const std::string& main_db, const std::string& sweep,
                                        const std::string& folder, std::ostream& out)>;

struct SlurmSweepOptions {
  std::string sweep_file;
  std::string db = "runs.db";       // the main log
  std::vector<std::string> sets;    // --set, for every variant
  int workers = 0;                  // array tasks; 0: one per cell to train, at most kDefaultMaxWorkers
  int jobs = 0;                     // trainings at once in each worker; 0: --jobs auto, decided by each worker
  std::string pack = "auto";        // --pack of each worker: "auto" (decided on its node) or a number
  bool prefix_reuse = true;         // cells one training answers together go to one worker and train once
  std::vector<std::string> sbatch;  // passed through to sbatch (partition, account, time, gres, constraint, ...)
  bool wait = false;                // follow the jobs to the end and print the summary
  bool dry_run = false;             // print the plan and the scripts; submit nothing, write nothing
  std::string executable;           // the incept binary the jobs run (absolute)
  std::string command_hint;         // how the user invoked incept ("incept", "build/incept"), for printed commands
  ReportWriter write_report;        // for --wait, when it has to join the workers' logs itself
};

constexpr int kDefaultMaxWorkers = 64;

// Exit status: 0 submitted (with --wait: every cell completed or diverged), 1 otherwise.
int submit_sweep_to_slurm(const SlurmSweepOptions& options, std::ostream& out);

// The finishing job (`incept sweep --slurm-finish DIR`): marks the runs its workers left running as interrupted
// (with Slurm's account of how each task ended, where Slurm still knows it), joins the workers' logs into the
// main log and writes the report into the folder. Exit status 0 once the logs are joined.
int finish_slurm_submission(const std::string& dir, const ReportWriter& write_report, std::ostream& out);

// `incept sweep SWEEP.toml --status`: every cell by state, from the main log and the logs of the sweep's Slurm
// workers (read-only, so it is safe while they run), and the jobs still in Slurm's queue.
int print_sweep_status(const std::string& sweep_file, const std::vector<std::string>& sets, const std::string& db,
                       std::ostream& out);

}  // namespace incept
