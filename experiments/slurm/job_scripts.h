#pragma once
// The two batch scripts of a Slurm submission, written into its folder (and printed by --dry-run):
//
// worker.sh, a job array with one task per worker. Task K trains its cells with `incept sweep --only-cells` on its
// own log, worker-K.db, which only that task writes, on one host at a time. It asks Slurm to requeue it when it is
// preempted or its node fails (--requeue), and to signal it 120 s before its time limit (--signal=B:USR1@120): the
// script then stops the trainings (they checkpoint), and puts the task back in the queue, where it resumes them.
// Slurm's own SIGTERM (scancel, preemption, the time limit itself) reaches every process of the job, and the
// trainings checkpoint on it.
//
// finish.sh, which runs once the array has ended, however it ended (--dependency=afterany): it joins the workers'
// logs into the main log and writes the sweep's report into the folder (`incept sweep --slurm-finish DIR`).
#include <string>
#include <vector>

#include "experiments/slurm/job_folder.h"

namespace incept {

struct JobScriptOptions {
  std::string incept;               // the binary the jobs run (absolute; on storage the nodes share)
  std::vector<std::string> sbatch;  // `--sbatch` options: one #SBATCH line each in worker.sh
  bool gpu = false;                 // a GPU sweep: each worker asks for a GPU, unless `sbatch` asks for GPUs itself
  int jobs = 0;                     // trainings at once in each worker; 0: auto (each worker decides on its node)
  bool prefix_reuse = true;
  std::string pack = "auto";        // --pack of each worker (it packs among its own cells)
};

// `cell_labels[i]`: "variant seed=S" of cell i of the full ordered list, for the script's comments.
std::string worker_script(const SlurmSubmission& s, const std::vector<std::string>& cell_labels,
                          const JobScriptOptions& o);
std::string finish_script(const SlurmSubmission& s, const JobScriptOptions& o);

// Whether `sbatch` options ask for GPUs themselves (--gres, --gpus, -G, --gpus-per-*).
bool asks_for_gpus(const std::vector<std::string>& sbatch);
// The options the finishing job shares with the workers: where it may run and who pays (partition, account, qos,
// reservation, clusters); not what they need to train (GPUs, memory, CPUs, time).
std::vector<std::string> finish_sbatch_options(const std::vector<std::string>& sbatch);

// The cells of one worker as `incept sweep --only-cells` takes them: "1:HASH,4:HASH" (numbered from 1).
std::string only_cells_argument(const WorkerCells& w);

// `s` as one word of a bash script: as it is when it needs no quotes, else in single quotes.
std::string script_word(const std::string& s);

}  // namespace incept
