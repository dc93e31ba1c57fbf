#pragma once
// `incept sweep --jobs auto` (the default): how many trainings run side by side, and with how many threads each.
//
// Small networks scale poorly across threads, so on a machine with C cores j trainings of C/j threads each can
// finish a sweep sooner than one training of C threads; larger networks use the threads well and gain nothing but
// memory pressure from more jobs. Which split wins is measured, not guessed: a calibration runs the sweep's
// dominant network (the one carrying most of its work) for a few seconds under each split, every training of a
// split at once, and records the images per second of each split in the run log (table `calibrations`, by host,
// core count and workload), where the next sweep of that network on that host finds it. The split chosen is the one
// whose estimated time for this sweep's trainings is lowest: the trainings' work (epochs x images x MACs relative
// to the calibrated network) packed longest first onto j slots at the measured speed of one of j trainings, so a
// sweep of three trainings on two slots pays for its last one running alone. A split whose trainings would not fit
// in the memory available (the calibration measures each training's peak) is left out.
//
// Without measurements: one training when there is one to run (or one core); on a GPU, one training at a time
// (the calibration measures CPU sharing only); a sweep too short to repay a calibration (its training, at an
// optimistic 100 GMAC/s per core, under 20 times what the calibration would take) runs one training per core.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "experiments/store/run_store.h"
#include "experiments/sweep/plan.h"

namespace incept {

struct JobsSplit {
  int jobs = 1;
  int threads = 1;
};

struct JobsDecision {
  JobsSplit split;
  std::string summary;            // "2 trainings at once, 1 thread each"
  std::vector<std::string> why;   // what it rests on: measurements (or the rule applied) and the estimates
  bool pending = false;           // a calibration is needed and measuring was not allowed (a dry run)
};

struct AutoJobsRequest {
  std::string executable;            // the incept binary, for the probes (`incept throughput-probe`)
  std::string db_path;               // where calibrations are looked up and recorded
  std::vector<PlannedVariant> plan;  // this process's cells
  bool prefix_reuse = true;          // how the cells are trained (each group is one training)
  int cores = 1;                     // available_cores()
  bool calibrate = false;            // measure now, even where the log has a calibration or the sweep is short
  bool may_measure = true;           // false (a dry run): say that a calibration would run, and stop there
  double probe_seconds = 3;          // the timed window of each probe
  std::ostream* progress = nullptr;  // "calibrating: 2 x 1 thread ..." while it measures
};

// Decides (measuring when needed, recording what it measured). A calibration that fails (a probe that cannot
// run) falls back to the rules above and says why.
JobsDecision decide_jobs(const AutoJobsRequest& request);

// ---- the parts, for tests and the bench ----

// The splits worth measuring: jobs 1, 2, 4, ... and the number of trainings (when fewer than the cores), each
// with cores / jobs threads, never more jobs than trainings or cores.
std::vector<JobsSplit> candidate_splits(int cores, std::size_t trainings);

// The time `work` (one entry per training, in any unit) takes on `jobs` slots that each do `rate` units per
// second, trainings handed out longest first to the slot that frees up first.
double estimated_seconds(std::vector<double> work, int jobs, double rate);

// What calibrations are keyed by: the experiment without its seed, epochs and execution settings (one network on
// one dataset with one batch size and recipe measures the same at any seed or length).
std::string calibration_workload(const ResolvedVariant& v);

// The choice among measured splits for trainings of `work` (in images of the calibrated network, one entry per
// training), leaving out splits that need more than `memory_available` bytes (0: unknown, nothing left out).
JobsDecision choose_from_calibration(const Calibration& c, const std::vector<double>& work,
                                     std::int64_t memory_available, const std::string& source);

// MemAvailable from /proc/meminfo, in bytes; 0 when unknown.
std::int64_t memory_available();

}  // namespace incept
