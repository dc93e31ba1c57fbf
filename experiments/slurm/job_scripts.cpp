#include "experiments/slurm/job_scripts.h"

#include <fmt/format.h>

#include "framework/text.h"

namespace incept {

namespace {

// The option's name: "--gres=gpu:1" -> "--gres", "-p gpu" -> "-p", "-pgpu" -> "-p".
std::string option_name(const std::string& option) {
  std::string name = option.substr(0, option.find_first_of("= \t"));
  if (name.size() > 2 && name[0] == '-' && name[1] != '-') name = name.substr(0, 2);
  return name;
}

bool is_one_of(const std::string& name, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (name == n) return true;
  return false;
}

std::string quoted_sets(const SlurmSubmission& s) {
  std::string out;
  for (const std::string& set : s.sets) out += " --set " + script_word(set);
  return out;
}

}  // namespace

std::string script_word(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,:/@%") ==
                        std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool asks_for_gpus(const std::vector<std::string>& sbatch) {
  for (const std::string& o : sbatch)
    if (is_one_of(option_name(o), {"--gres", "--gpus", "-G", "--gpus-per-node", "--gpus-per-task",
                                   "--gpus-per-socket", "--tres-per-task"}))
      return true;
  return false;
}

std::vector<std::string> finish_sbatch_options(const std::vector<std::string>& sbatch) {
  std::vector<std::string> out;
  for (const std::string& o : sbatch)
    if (is_one_of(option_name(o), {"-p", "--partition", "-A", "--account", "-q", "--qos", "--reservation", "-M",
                                   "--clusters", "--wckey"}))
      out.push_back(o);
  return out;
}

std::string only_cells_argument(const WorkerCells& w) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < w.cells.size(); ++i)
    parts.push_back(fmt::format("{}:{}", w.cells[i] + 1, i < w.experiments.size() ? w.experiments[i] : ""));
  return join(parts, ",");
}

std::string worker_script(const SlurmSubmission& s, const std::vector<std::string>& cell_labels,
                          const JobScriptOptions& o) {
  std::string out = "#!/bin/bash\n";
  out += fmt::format("# incept sweep {}: {} worker{}, each training its cells on its own log in this folder.\n",
                     s.sweep, s.workers.size(), s.workers.size() == 1 ? "" : "s");
  out += fmt::format("# Written by `incept sweep --slurm` at {}; submitted as: sbatch {}\n", s.submitted_at,
                     script_word(s.path("worker.sh")));
  out += fmt::format("#SBATCH --job-name={}\n", script_word("incept-" + s.sweep));
  out += fmt::format("#SBATCH --array=1-{}\n", s.workers.size());
  out += fmt::format("#SBATCH --output={}\n", script_word(s.path("worker-%a.out")));
  out += "#SBATCH --open-mode=append\n";  // a requeued task adds to its output
  out += fmt::format("#SBATCH --chdir={}\n", script_word(s.workdir));
  out += "#SBATCH --requeue\n";
  out += "#SBATCH --signal=B:USR1@120\n";
  if (o.gpu && !asks_for_gpus(o.sbatch)) out += "#SBATCH --gres=gpu:1\n";
  for (const std::string& option : o.sbatch) out += "#SBATCH " + option + "\n";
  out += "set -u\n";
  out += "# Logs on shared storage, opened from several hosts: SQLite's rollback journal, not WAL.\n";
  out += "export INCEPT_JOURNAL_MODE=delete\n";
  out += fmt::format("incept={}\n", script_word(o.incept));
  out += fmt::format("folder={}\n", script_word(s.dir));
  out += "task=${SLURM_ARRAY_TASK_ID:?submit this script with sbatch}\n";
  out += "case $task in\n";
  for (const WorkerCells& w : s.workers) {
    std::vector<std::string> labels;
    for (std::size_t c : w.cells) labels.push_back(c < cell_labels.size() ? cell_labels[c] : "?");
    out += fmt::format("  {}) cells={} ;;  # {}\n", w.task, only_cells_argument(w), join(labels, "; "));
  }
  out += "  *) echo \"no cells for array task $task\" >&2; exit 1 ;;\n";
  out += "esac\n";
  out += "echo \"$(date -u +%FT%TZ) worker $task: job ${SLURM_ARRAY_JOB_ID:-?}_$task on $(hostname), "
         "restart ${SLURM_RESTART_COUNT:-0}\"\n";
  out += "requeue=0\n";
  out += fmt::format("\"$incept\" sweep {} --db \"$folder/worker-$task.db\" --only-cells \"$cells\" --slurm-worker "
                     "--jobs {}{}{}{} &\n",
                     script_word(s.sweep_file), o.jobs > 0 ? std::to_string(o.jobs) : "auto",
                     o.prefix_reuse ? "" : " --no-prefix-reuse", o.pack == "auto" ? "" : " --pack " + o.pack,
                     quoted_sets(s));
  out += "pid=$!\n";
  out += "# 120 s before the time limit (this script only): stop the trainings, which checkpoint, then requeue.\n";
  out += "trap 'requeue=1; kill -INT \"$pid\" 2>/dev/null' USR1\n";
  out += "# scancel, preemption, the time limit: Slurm sends SIGTERM to every process; wait for incept to stop.\n";
  out += "trap ':' TERM\n";
  out += "while :; do\n";
  out += "  wait \"$pid\"; status=$?\n";
  out += "  kill -0 \"$pid\" 2>/dev/null || break  # still running: a signal interrupted the wait\n";
  out += "done\n";
  out += "echo \"$(date -u +%FT%TZ) worker $task: incept exited with status $status\"\n";
  out += "if ((requeue && status != 0)); then\n";
  out += "  echo \"$(date -u +%FT%TZ) worker $task: time limit near; requeueing, the trainings resume from their "
         "checkpoints\"\n";
  out += "  scontrol requeue \"${SLURM_ARRAY_JOB_ID}_$task\" ||\n";
  out += "    echo \"$(date -u +%FT%TZ) worker $task: scontrol requeue failed (status $?); rerun the sweep to "
         "resume\"\n";
  out += "fi\n";
  out += "exit \"$status\"\n";
  return out;
}

std::string finish_script(const SlurmSubmission& s, const JobScriptOptions& o) {
  std::string out = "#!/bin/bash\n";
  out += fmt::format("# incept sweep {}: after the workers, whatever became of them, joins their logs into {}\n",
                     s.sweep, s.main_db);
  out += "# and writes the sweep's report (report.md, report.html) into this folder.\n";
  out += fmt::format("# Submitted as: sbatch --dependency=afterany:ARRAY {}\n", script_word(s.path("finish.sh")));
  out += fmt::format("#SBATCH --job-name={}\n", script_word("incept-" + s.sweep + "-finish"));
  out += fmt::format("#SBATCH --output={}\n", script_word(s.path("finish.out")));
  out += fmt::format("#SBATCH --chdir={}\n", script_word(s.workdir));
  for (const std::string& option : finish_sbatch_options(o.sbatch)) out += "#SBATCH " + option + "\n";
  out += "export INCEPT_JOURNAL_MODE=delete\n";
  out += fmt::format("exec {} sweep --slurm-finish {}\n", script_word(o.incept), script_word(s.dir));
  return out;
}

}  // namespace incept
