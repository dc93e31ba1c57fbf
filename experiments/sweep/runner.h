#pragma once
// Running a sweep's plan: each training is a child `incept train` (or `incept resume`) process, at most `jobs` at
// once, each with its share of the cores. A crashing training cannot take the sweep down, and the runs it records
// are ordinary runs tagged with the sweep and variant.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "experiments/sweep/plan.h"

namespace incept {

struct SweepRunOptions {
  std::string executable;     // the incept binary the children run (the CLI passes /proc/self/exe)
  std::string db_path = "runs.db";
  std::string sweep_name;     // runs.sweep
  int jobs = 1;               // trainings at once
  int threads_per_job = 1;    // train.threads of each
  bool fail_fast = false;     // stop at the first failure (the others are interrupted and can be resumed)
  std::ostream* out = nullptr;  // progress and every child's output, prefixed with its variant; default std::cout
};

// The cores this process may use (its CPU affinity, which Slurm and taskset restrict), at least 1.
int available_cores();

// The command line of the child that trains (or resumes) one planned variant.
std::vector<std::string> child_command(const PlannedVariant& planned, const SweepRunOptions& options);

struct VariantOutcome {
  PlannedVariant planned;
  std::string action;  // what this sweep did: train | resume | skip | - (not started)
  std::string status;  // completed | diverged | failed | interrupted | running | not run
  std::optional<RunRecord> run;  // its run in the log, when there is one (id, final test accuracy)
};

struct SweepResult {
  std::vector<VariantOutcome> outcomes;  // in plan order
  bool interrupted = false;              // SIGINT or SIGTERM reached the sweep
  bool stopped_early = false;            // --fail-fast stopped it
  // 130 when interrupted; 1 when a variant failed (or was interrupted); 0 otherwise.
  int exit_status() const;
};

// Trains what the plan says: errors are shown as they happen and the sweep goes on unless `fail_fast`. SIGINT
// and SIGTERM are forwarded to the running children, which checkpoint and stop (the next run of the sweep resumes
// them); nothing new starts.
SweepResult run_sweep(const std::vector<PlannedVariant>& plan, const SweepRunOptions& options);

}  // namespace incept
