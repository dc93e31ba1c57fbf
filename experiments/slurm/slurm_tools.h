#pragma once
// Slurm's own commands (sbatch, squeue, scontrol, sacct, scancel), run as child processes: what incept asks of the
// scheduler and what it reads back. They find the cluster the usual way (slurm.conf, or $SLURM_CONF). The parsers
// are separate so that they are tested without a cluster.
#include <map>
#include <string>
#include <vector>

namespace incept {

struct ProgramOutput {
  int status = 0;    // exit status; 127 when the program is not found, 128 + N when killed by signal N
  std::string out;   // stdout
  std::string err;   // stderr
};

// Runs `argv` (argv[0] looked up in PATH, no shell) to completion, stdin from /dev/null.
ProgramOutput run_program(const std::vector<std::string>& argv);

// `sbatch --parsable ARGS SCRIPT`: the job id. Throws UserError with sbatch's own message when it fails.
std::string submit_batch(const std::vector<std::string>& args, const std::string& script);

void cancel_jobs(const std::vector<std::string>& job_ids);  // scancel; errors are ignored (the job may be gone)

// One line of squeue: a job, or one task of a job array (squeue -r lists them one by one).
struct QueuedJob {
  std::string job;     // the array's job id for a task, else the job id
  int task = 0;        // array task id; 0 for a job that is not an array task
  std::string state;   // PENDING, RUNNING, COMPLETING, ...
  std::string nodes;   // "" while pending
  std::string reason;  // why it is pending ("Resources", "Dependency", "BeginTime"), or "None"
  std::string id() const { return task ? job + "_" + std::to_string(task) : job; }
};

// This user's jobs that Slurm still has in its queue. Throws UserError when squeue fails.
std::vector<QueuedJob> queued_jobs();

// How an array task ended, as Slurm tells it once it has left the queue.
struct EndedTask {
  std::string state;      // COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, PREEMPTED, ...
  std::string reason;     // scontrol's Reason, when it says something ("TimeLimit", "NodeDown"); "" otherwise
  std::string exit_code;  // "N:S": the batch script's exit status, and the signal that killed it
  std::string nodes;
  std::string describe() const;  // "TIMEOUT (TimeLimit), exit 0:15"
};

// The tasks of job array `array_job`, by task id: from scontrol, which remembers a finished job (with its reason)
// for MinJobAge (300 s by default), and from sacct for the others where accounting is kept. Tasks neither knows
// are missing; never throws.
std::map<int, EndedTask> array_task_states(const std::string& array_job);

// ---- parsers, for the tests --------------------------------------------------------------------------------
// squeue -h -r -o '%F|%K|%i|%T|%N|%r'
std::vector<QueuedJob> parse_squeue(const std::string& text);
// scontrol -o show job ARRAY: one record per line, "Key=Value" words
std::map<int, EndedTask> parse_scontrol_jobs(const std::string& text);
// sacct -n -P -X -o JobID,State,ExitCode,NodeList: "12_3|TIMEOUT|0:15|node1" ("CANCELLED by 0" as written)
std::map<int, EndedTask> parse_sacct(const std::string& text, const std::string& array_job);

}  // namespace incept
