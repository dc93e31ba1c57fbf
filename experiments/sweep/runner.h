#pragma once
// Running a sweep: each training is a child `incept train` (or `incept resume`) process, at most `jobs` at once,
// each with its share of the cores, on cells claimed one at a time (claims.h). A crashing training cannot take the
// sweep down, and the runs it records are ordinary runs tagged with the sweep and variant. A child trains the
// resolved config the sweep planned (a file it writes), not `--set` strings to resolve again.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "experiments/sweep/claims.h"
#include "experiments/sweep/plan.h"

namespace incept {

struct SweepRunOptions {
  std::string executable;     // the incept binary the children run (the CLI passes /proc/self/exe)
  std::string db_path = "runs.db";
  std::string sweep_name;     // runs.sweep
  int jobs = 1;               // trainings at once
  int threads_per_job = 1;    // train.threads of each
  bool fail_fast = false;     // stop at the first failure (the others are interrupted and can be resumed)
  // Packing: at most this many cells that share a network train at once as one packed network
  // (experiments/train/packed_trainer.h); 1 trains every cell on its own.
  int pack = 1;
  // Whether a SIGTERM the sweep receives is passed on to its trainings. Not in a Slurm job, where Slurm sends it
  // to every process itself (scancel, preemption, time limit): a second one would stop a training at once,
  // before its checkpoint. SIGINT is always passed on.
  bool forward_sigterm = true;
  std::ostream* out = nullptr;  // progress and every child's output, prefixed with its variant; default std::cout
};

// The cores this process may use: its CPU affinity (which taskset and Slurm's task plugins restrict), and in a
// Slurm job at most the CPUs Slurm allocated on this node (SLURM_CPUS_ON_NODE); at least 1.
int available_cores();

// The command line of the child that trains (or resumes) one planned variant; a training reads `config_file`, the
// variant's resolved config, and must record the experiment that was planned. With prefix reuse, the cells
// recorded from it: `members_file` lists them for a training (their configs, variants and experiments); a resume
// takes their runs.
// With packing, `pack_file` lists the cells that train with it as one packed network; a resume takes the runs of
// `members` as its pack (`members_are_pack`) instead of as its prefix members.
std::vector<std::string> child_command(const PlannedVariant& planned, const SweepRunOptions& options,
                                       const std::string& config_file,
                                       const std::vector<PlannedVariant>& members = {},
                                       const std::string& members_file = "", const std::string& pack_file = "",
                                       bool members_are_pack = false);

struct VariantOutcome {
  PlannedVariant planned;
  std::string action;  // what this sweep did: train | resume | skip | - (not started)
  // With prefix reuse: the cell whose training recorded this one (variant and seed), "" when trained on its own.
  std::string recorded_from;
  std::string status;  // a run status (completed, failed, ...), or "not run"
  std::optional<RunRecord> run;  // its run in the log, when there is one (id, final test accuracy)
};

struct SweepResult {
  std::vector<VariantOutcome> outcomes;  // in plan order
  bool interrupted = false;              // SIGINT or SIGTERM reached the sweep
  bool stopped_early = false;            // --fail-fast stopped it
  // 130 when interrupted; 1 when a variant failed (or was interrupted); 0 otherwise.
  int exit_status() const;
};

// Claims and trains cells until none is left: errors are shown as they happen and the sweep goes on unless
// `fail_fast`. SIGINT and SIGTERM are forwarded to the running children, which checkpoint and stop (the next run
// of the sweep resumes them); nothing new starts. Outcomes follow the order of claims.variants().
SweepResult run_sweep(SweepClaims& claims, const SweepRunOptions& options);

}  // namespace incept
