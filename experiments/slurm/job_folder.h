#pragma once
// A Slurm submission of a sweep lives in a folder beside the run log, `<db>.slurm/<sweep>-<time>/`:
//
//   job.toml            what was submitted: the sweep, the logs, each worker's cells, the job ids
//   worker.sh           the job array (one task per worker); finish.sh: the finishing job
//   worker-K.db         worker K's own run log (it trains only there); worker-K.out: its output
//   checkpoints/        the workers' checkpoints (train.checkpoint_dir is relative to the log's folder)
//   finish.out          the finishing job's output; report.md and report.html: the sweep's report
//   finished            written once the workers' logs are joined into the main log
#include <cstddef>
#include <string>
#include <vector>

namespace incept {

struct WorkerCells {
  int task = 0;                          // the array task (1-based)
  std::vector<std::size_t> cells;        // positions in the sweep's full ordered list (0-based)
  std::vector<std::string> experiments;  // each cell's experiment hash, as planned
};

struct SlurmSubmission {
  std::string dir;         // the folder (absolute)
  std::string sweep;       // the sweep's name
  std::string sweep_file;  // absolute
  std::string main_db;     // the log the workers' logs are joined into (absolute)
  std::string workdir;     // where the jobs run (the submitting command's working directory)
  std::vector<std::string> sets;  // the command line's --set, for every variant
  std::string submitted_at;       // UTC, as in the run log
  std::string array_job;          // "" until submitted
  std::string finish_job;
  std::vector<WorkerCells> workers;

  std::string worker_db(int task) const;
  std::string path(const std::string& name) const;  // dir/name
  bool submitted() const { return !array_job.empty(); }
  bool finished() const;  // the workers' logs were joined into the main log
  // The worker that was given cell `index`; 0 for none.
  int worker_of(std::size_t index) const;
};

// "<db>.slurm", beside the log.
std::string slurm_root(const std::string& main_db);

// The local time now in a strftime format: submission folders are stamped with it, --wait prints it.
std::string local_time(const char* strftime_format);

// A new, empty folder for a submission of `sweep`: <db>.slurm/<sweep>-<YYYYMMDD-HHMMSS>[-N].
std::string create_submission_folder(const std::string& main_db, const std::string& sweep);

// Writes dir/job.toml (replacing it in one rename).
void write_submission(const SlurmSubmission& s);
// Throws UserError when dir/job.toml is missing or unreadable.
SlurmSubmission read_submission(const std::string& dir);

// The submissions of `sweep` beside `main_db` (folders without a readable job.toml are skipped), oldest first.
std::vector<SlurmSubmission> submissions_of(const std::string& main_db, const std::string& sweep);

// Marks the submission finished, with a line about what was joined.
void mark_finished(const SlurmSubmission& s, const std::string& summary);

}  // namespace incept
