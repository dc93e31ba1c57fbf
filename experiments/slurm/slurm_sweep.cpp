#include "experiments/slurm/slurm_sweep.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>
#include <thread>
#include <tuple>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "experiments/slurm/cell_states.h"
#include "experiments/slurm/job_scripts.h"
#include "experiments/slurm/slurm_tools.h"
#include "experiments/store/run_store.h"
#include "experiments/sweep/claims.h"
#include "experiments/sweep/device_use.h"
#include "experiments/sweep/plan.h"
#include "experiments/sweep/prefix_groups.h"
#include "experiments/sweep/runner.h"
#include "experiments/sweep/shard.h"
#include "experiments/sweep/sweep.h"
#include "experiments/sweep/sweep_report.h"
#include "framework/diagnostics.h"
#include "framework/text.h"
#include "platform/write_file.h"
#include "platform/remove_tree.h"

namespace incept {

namespace fs = std::filesystem;

namespace {

// Every log a Slurm sweep opens, here and in the jobs (which inherit it), uses the rollback journal.
void use_rollback_journal() { ::setenv("INCEPT_JOURNAL_MODE", "delete", 1); }

std::string absolute_path(const std::string& path) { return fs::absolute(path).lexically_normal().string(); }

std::string cell_label(const ResolvedVariant& v) { return fmt::format("{} seed={}", v.variant.name, v.variant.seed); }

// mark_stale_runs' lease once every holder is known to be gone (the workers of a submission have all ended): a
// second in the future, so that a heartbeat written this very second counts too.
constexpr double kEveryHolderGone = -1;

double poll_seconds() {
  if (const char* text = std::getenv("INCEPT_SLURM_POLL_SECONDS")) {
    char* end = nullptr;
    const double v = std::strtod(text, &end);
    if (end != text && *end == '\0' && v > 0 && v <= 3600) return v;
    throw UserError(fmt::format("INCEPT_SLURM_POLL_SECONDS='{}': expected seconds between 0 and 3600", text));
  }
  return 10;
}

// The runs of several logs, each run (by uid) in its newest state, as a merge of them would hold it.
std::vector<RunRecord> union_of_runs(const std::vector<std::string>& logs) {
  std::map<std::string, RunRecord> by_uid;
  for (const std::string& db : logs) {
    std::error_code ec;
    if (!fs::exists(db, ec)) continue;
    for (const RunRecord& r : RunStore::open_read_only(db).list_runs()) {
      auto it = by_uid.find(r.uid);
      if (it == by_uid.end()) by_uid.emplace(r.uid, r);
      else if (is_later_state(r, it->second)) it->second = r;
    }
  }
  std::vector<RunRecord> out;
  for (auto& [uid, r] : by_uid) out.push_back(std::move(r));
  return out;
}

// What the main log learns at submission: the sweep's cells, and the runs that already answer some of them (as a
// local sweep records the cells it skips).
void register_sweep(const std::string& main_db, const Sweep& sweep, const std::vector<ResolvedVariant>& all,
                    const std::vector<PlannedVariant>& plan) {
  RunStore store = RunStore::open(main_db);
  std::vector<SweepCell> cells;
  for (const ResolvedVariant& v : all) cells.push_back(sweep_cell(v));
  store.register_sweep(SweepInfo{sweep.name, sweep.baseline, sweep.path}, cells);
  for (const PlannedVariant& p : plan) {
    if (p.action != PlanAction::skip || !p.earlier || p.earlier->status == RunStatus::running) continue;
    const SweepVariant& v = p.variant.variant;
    const bool reused = p.earlier->sweep != sweep.name || p.earlier->variant != v.name;
    store.add_member(sweep.name, v.name, v.seed, p.earlier->uid, reused);
  }
}

// Joins a submission whose workers have all ended into the main log, then writes its report when given a writer;
// see finish_slurm_submission.
void join_submission(const SlurmSubmission& s, const ReportWriter& write_report, std::ostream& out) {
  const std::map<int, EndedTask> ended = s.submitted() ? array_task_states(s.array_job) : std::map<int, EndedTask>{};
  std::vector<std::string> logs;
  for (const WorkerCells& w : s.workers) {
    const std::string db = s.worker_db(w.task);
    std::error_code ec;
    if (!fs::exists(db, ec)) continue;
    logs.push_back(db);
    const auto it = ended.find(w.task);
    const std::string slurm =
        it == ended.end() ? "" : fmt::format("Slurm: job {}_{} ended {}", s.array_job, w.task, it->second.describe());
    if (!slurm.empty()) out << fmt::format("worker {}: {}\n", w.task, slurm.substr(7));
    RunStore store = RunStore::open(db);
    // Every worker of the submission has ended: whatever is still marked running was left by a killed worker.
    if (int n = store.mark_stale_runs(kEveryHolderGone))
      out << fmt::format("worker {}: {} run{} left running, now interrupted\n", w.task, n, n == 1 ? "" : "s");
    const std::set<std::string> mine(w.experiments.begin(), w.experiments.end());
    if (!slurm.empty() && it->second.state != "COMPLETED") {
      for (const RunRecord& r : store.list_runs())
        if ((r.status == RunStatus::interrupted || r.status == RunStatus::failed) && mine.count(r.experiment_hash) &&
            r.claimed_at >= s.submitted_at)
          store.note_run_error(r.id, "[" + slurm + "]");
    }
    // A cell the worker still held when it ended, with no run of its experiment: it ended before the run began.
    for (const SweepCell& c : store.sweep_cells(s.sweep)) {
      if (c.worker.empty()) continue;
      const bool has_run = !store.runs_of_experiment(c.experiment_hash).empty();
      const std::string why = has_run ? "" : fmt::format("the worker ended before a run was recorded{}",
                                                         slurm.empty() ? "" : " (" + slurm + ")");
      store.release_cell(s.sweep, c.variant, c.seed, c.worker, why);
    }
  }
  MergeStats stats;
  if (!logs.empty()) stats = RunStore::merge(s.main_db, logs);
  const std::string summary = fmt::format("joined {} worker log{} into {}: {} run{} added, {} updated", logs.size(),
                                          logs.size() == 1 ? "" : "s", s.main_db, stats.copied,
                                          stats.copied == 1 ? "" : "s", stats.updated);
  out << summary << "\n";
  if (write_report) write_report(s.main_db, s.sweep, s.dir, out);
  mark_finished(s, summary);
}

// Each prefix group (its cells trained once, prefix_groups.h) stays with one worker; groups are dealt out in plan
// order, each to the worker with the fewest epochs to train so far (round robin when all groups weigh the same).
std::vector<WorkerCells> assign_cells(const std::vector<PlannedVariant>& to_run, int workers, bool prefix_reuse) {
  std::vector<WorkerCells> out(static_cast<std::size_t>(workers));
  for (int k = 0; k < workers; ++k) out[static_cast<std::size_t>(k)].task = k + 1;
  const std::vector<PrefixGroup> groups = prefix_groups(to_run, prefix_reuse);
  auto epochs = [&](const PrefixGroup& g) { return to_run[g.leader].variant.prefix.epochs; };
  std::vector<std::int64_t> load(out.size(), 0);
  for (const PrefixGroup& g : groups) {
    const std::size_t k = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[k] += std::max<std::int64_t>(1, epochs(g));
    std::vector<std::size_t> cells{g.leader};
    cells.insert(cells.end(), g.members.begin(), g.members.end());
    for (std::size_t j : cells) {
      out[k].cells.push_back(to_run[j].variant.variant.index);
      out[k].experiments.push_back(to_run[j].variant.hash);
    }
  }
  // Each worker's cells in plan order, as --only-cells lists them.
  for (WorkerCells& w : out) {
    std::vector<std::size_t> order(w.cells.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return w.cells[a] < w.cells[b]; });
    WorkerCells sorted;
    sorted.task = w.task;
    for (std::size_t i : order) {
      sorted.cells.push_back(w.cells[i]);
      sorted.experiments.push_back(w.experiments[i]);
    }
    w = std::move(sorted);
  }
  return out;
}

// The summary a local sweep ends with, from the main log.
SweepResult final_outcomes(const std::vector<ResolvedVariant>& all, const std::vector<PlannedVariant>& submitted,
                           const std::string& main_db) {
  SweepResult result;
  const RunHistory history = RunHistory::load(main_db, false);
  auto exists = [](const std::string& path) { return fs::exists(path); };
  for (const ResolvedVariant& v : all) {
    VariantOutcome o;
    o.planned = plan_variant(v, history.runs_of(v.hash), exists);
    o.action = "skip";
    for (const PlannedVariant& p : submitted)
      if (p.variant.variant.index == v.variant.index) o.action = p.action == PlanAction::resume ? "resume" : "train";
    if (o.planned.earlier) {
      o.run = o.planned.earlier;
      o.status = to_string(o.planned.earlier->status);
    } else {
      o.status = "not run";
    }
    result.outcomes.push_back(std::move(o));
  }
  return result;
}

int exit_status_of(const SweepResult& r) {
  for (const VariantOutcome& o : r.outcomes)
    if (o.status != to_string(RunStatus::completed) && o.status != to_string(RunStatus::diverged)) return 1;
  return 0;
}

// --wait: prints each submitted cell's changes until the submission's jobs have left Slurm's queue, then the
// summary. The jobs do not need it: killing it changes nothing.
int follow(SlurmSubmission sub, const Sweep& sweep, const std::vector<ResolvedVariant>& all,
           const std::vector<PlannedVariant>& to_run, const std::vector<SlurmSubmission>& earlier,
           const ReportWriter& write_report, std::ostream& out) {
  std::vector<ResolvedVariant> mine;
  for (const PlannedVariant& p : to_run) mine.push_back(p.variant);
  std::vector<SlurmSubmission> subs = earlier;
  subs.push_back(sub);
  const double poll = poll_seconds();
  std::map<std::size_t, std::string> shown;
  int queue_failures = 0;
  out << fmt::format("following the jobs (every {:g} s; Ctrl-C stops following, not the jobs)\n", poll) << std::flush;
  for (;;) {
    std::optional<std::vector<QueuedJob>> queue;
    try {
      queue = queued_jobs();
      queue_failures = 0;
    } catch (const UserError& e) {
      if (++queue_failures == 1) out << "warning: " << e.what() << " (trying again)\n";
      if (queue_failures >= 30) throw;
    }
    const SweepStatus status = read_sweep_status(mine, sweep.name, sub.main_db, subs, queue);
    for (const CellState& c : status.cells) {
      const std::string line = describe_cell(c);
      std::string& before = shown[c.index];
      if (line == before) continue;
      before = line;
      out << fmt::format("{} {} seed={}: {}\n", local_time("%H:%M:%S"), c.variant, c.seed, line);
    }
    out << std::flush;
    if (queue && !jobs_active(sub, *queue)) break;
    std::this_thread::sleep_for(std::chrono::duration<double>(poll));
  }
  if (!sub.finished()) {
    out << fmt::format("the finishing job {} ended without joining the workers' logs (see {}); joining them here\n",
                       sub.finish_job, sub.path("finish.out"));
    join_submission(sub, write_report, out);
  }
  const SweepResult result = final_outcomes(all, to_run, sub.main_db);
  out << "\n" << summary_table(result);
  for (const char* name : {"report.md", "report.html"})
    if (fs::exists(sub.path(name))) out << "report: " << sub.path(name) << "\n";
  return exit_status_of(result);
}

}  // namespace

int submit_sweep_to_slurm(const SlurmSweepOptions& o, std::ostream& out) {
  use_rollback_journal();
  const Sweep sweep = load_sweep(o.sweep_file, o.sets);
  const std::vector<ResolvedVariant> all = resolve_variants(sweep, sweep.variants);
  const std::string main_db = absolute_path(o.db);
  out << sweep_headline(sweep, Shard{}, all.size());

  // What earlier submissions of this sweep left: refuse while their workers run, wait for their finishing job.
  std::vector<SlurmSubmission> earlier = submissions_of(main_db, sweep.name);
  std::vector<QueuedJob> queue;
  try {
    queue = queued_jobs();
  } catch (const UserError& e) {
    if (!o.dry_run) throw;
    out << "note: " << e.what() << " (the dry run assumes no job of this sweep is queued)\n";
  }
  for (const SlurmSubmission& s : earlier)
    if (workers_active(s, queue))
      throw UserError(fmt::format(
          "sweep {} still has workers in Slurm's queue ({}; folder {}): follow them with `{} sweep --status {} --db "
          "{}`, or cancel them (scancel {}), then run this again",
          sweep.name, describe_jobs(s, queue), s.dir, o.command_hint, o.sweep_file, o.db, s.array_job));
  for (const SlurmSubmission& s : earlier) {
    if (o.dry_run || !jobs_active(s, queue)) continue;
    out << fmt::format("waiting for finishing job {} of the earlier submission ({}) to end\n", s.finish_job, s.dir)
        << std::flush;
    while (jobs_active(s, queue)) {
      std::this_thread::sleep_for(std::chrono::duration<double>(poll_seconds()));
      queue = queued_jobs();
    }
  }
  std::vector<std::string> unjoined;
  for (SlurmSubmission& s : earlier) {
    if (!s.submitted() || s.finished()) continue;
    if (o.dry_run) {
      for (const WorkerCells& w : s.workers) unjoined.push_back(s.worker_db(w.task));
      out << fmt::format("would first join the workers' logs of {} (not joined yet)\n", s.dir);
    } else {
      out << fmt::format("joining the workers' logs of {} (its finishing job did not)\n", s.dir);
      join_submission(s, nullptr, out);
    }
  }

  std::vector<PlannedVariant> plan;
  if (o.dry_run) {
    std::vector<std::string> logs{main_db};
    logs.insert(logs.end(), unjoined.begin(), unjoined.end());
    plan = plan_sweep(all, RunHistory(union_of_runs(logs)));
  } else {
    plan = plan_sweep(all, RunHistory::load(main_db, true));
    register_sweep(main_db, sweep, all, plan);
  }
  std::vector<PlannedVariant> to_run;
  for (const PlannedVariant& p : plan)
    if (p.action != PlanAction::skip) to_run.push_back(p);
  if (to_run.empty()) {
    out << fmt::format("log {}: nothing to submit, every cell is done (or running elsewhere)\n", main_db)
        << plan_table(plan);
    if (o.wait && !o.dry_run) {
      const SweepResult result = final_outcomes(all, {}, main_db);
      out << "\n" << summary_table(result);
      return exit_status_of(result);
    }
    return 0;
  }

  // One worker per training (a prefix group trains once), unless asked for fewer.
  const int trainings = static_cast<int>(prefix_groups(to_run, o.prefix_reuse).size());
  const int workers = std::min<int>(trainings, o.workers > 0 ? o.workers : kDefaultMaxWorkers);
  SlurmSubmission sub;
  sub.dir = o.dry_run ? (fs::path(slurm_root(main_db)) / (sweep.name + "-<time>")).string()
                      : create_submission_folder(main_db, sweep.name);
  sub.sweep = sweep.name;
  sub.sweep_file = absolute_path(o.sweep_file);
  sub.main_db = main_db;
  sub.workdir = fs::current_path().string();
  sub.sets = o.sets;
  sub.submitted_at = utc_timestamp_now();
  sub.workers = assign_cells(to_run, workers, o.prefix_reuse);

  JobScriptOptions script_options;
  script_options.incept = o.executable;
  script_options.sbatch = o.sbatch;
  script_options.jobs = o.jobs;
  script_options.prefix_reuse = o.prefix_reuse;
  script_options.pack = o.pack;
  script_options.gpu = std::any_of(to_run.begin(), to_run.end(), [](const PlannedVariant& p) {
    return trains_on_gpu(p.variant);
  });
  std::vector<std::string> labels(all.size());
  for (const ResolvedVariant& v : all) labels.at(v.variant.index) = cell_label(v);
  const std::string worker_sh = worker_script(sub, labels, script_options);
  const std::string finish_sh = finish_script(sub, script_options);

  out << fmt::format("log {}: {} to train, {} to resume, {} done or running elsewhere; {} worker{}{}\n", main_db,
                     std::count_if(to_run.begin(), to_run.end(),
                                   [](const PlannedVariant& p) { return p.action == PlanAction::train; }),
                     std::count_if(to_run.begin(), to_run.end(),
                                   [](const PlannedVariant& p) { return p.action == PlanAction::resume; }),
                     plan.size() - to_run.size(), workers, workers == 1 ? "" : "s",
                     script_options.gpu && !asks_for_gpus(o.sbatch) ? ", one GPU each" : "")
      << plan_table(plan);
  for (const WorkerCells& w : sub.workers) {
    std::vector<std::string> cells;
    for (std::size_t c : w.cells) cells.push_back(fmt::format("{} ({})", c + 1, labels[c]));
    out << fmt::format("worker {}: {}\n", w.task, join(cells, ", "));
  }
  if (o.dry_run) {
    out << fmt::format("\ndry run: nothing submitted. The jobs would be, in {}:\n", sub.dir);
    out << "\n$ sbatch " << script_word(sub.path("worker.sh")) << "\n" << worker_sh;
    out << "\n$ sbatch --dependency=afterany:ARRAY " << script_word(sub.path("finish.sh")) << "\n" << finish_sh;
    return 0;
  }

  // The folder: the record, the scripts, and each worker's log seeded with the runs it is to resume.
  try {
    write_submission(sub);
    write_file_atomically(sub.path("worker.sh"), worker_sh);
    write_file_atomically(sub.path("finish.sh"), finish_sh);
    for (const char* name : {"worker.sh", "finish.sh"}) ::chmod(sub.path(name).c_str(), 0755);
    for (const WorkerCells& w : sub.workers) {
      const std::set<std::string> hashes(w.experiments.begin(), w.experiments.end());
      RunStore::merge(sub.worker_db(w.task), {main_db},
                      [&](const RunRecord& r) { return hashes.count(r.experiment_hash) > 0; });
    }
    sub.array_job = submit_batch({}, sub.path("worker.sh"));
  } catch (...) {
    remove_tree(sub.dir);  // nothing was submitted: leave nothing behind
    throw;
  }
  try {
    sub.finish_job = submit_batch({"--dependency=afterany:" + sub.array_job, "--kill-on-invalid-dep=no"},
                                  sub.path("finish.sh"));
  } catch (const UserError& e) {
    cancel_jobs({sub.array_job});
    write_submission(sub);
    throw UserError(fmt::format("{}; cancelled the job array {} it was to follow; run this command again",
                                e.what(), sub.array_job));
  }
  write_submission(sub);
  out << fmt::format("submitted job array {} ({} worker{}) and finishing job {} (runs after the array: joins the "
                     "workers' logs into {} and writes the report into the folder)\n",
                     sub.array_job, workers, workers == 1 ? "" : "s", sub.finish_job, o.db);
  out << fmt::format("folder: {}\n", sub.dir);
  std::string sets;
  for (const std::string& s : o.sets) sets += " --set " + script_word(s);
  out << fmt::format("progress: {} sweep --status {} --db {}{}\n", o.command_hint, script_word(o.sweep_file),
                     script_word(o.db), sets)
      << std::flush;
  if (!o.wait) return 0;
  return follow(sub, sweep, all, to_run, earlier, o.write_report, out);
}

int finish_slurm_submission(const std::string& dir, const ReportWriter& write_report, std::ostream& out) {
  use_rollback_journal();
  const SlurmSubmission s = read_submission(dir);
  out << fmt::format("{} finishing sweep {} (array {})\n", utc_timestamp_now(), s.sweep, s.array_job) << std::flush;
  join_submission(s, write_report, out);
  // Every cell of the sweep, as the main log now has it.
  std::vector<ResolvedVariant> cells;
  for (const SweepCell& c : RunStore::open_read_only(s.main_db).sweep_cells(s.sweep)) {
    ResolvedVariant v;
    v.variant.name = c.variant;
    v.variant.seed = c.seed;
    v.variant.index = static_cast<std::size_t>(c.position);
    v.hash = c.experiment_hash;
    cells.push_back(std::move(v));
  }
  out << status_table(read_sweep_status(cells, s.sweep, s.main_db, {}, std::nullopt)) << std::flush;
  return 0;
}

int print_sweep_status(const std::string& sweep_file, const std::vector<std::string>& sets, const std::string& db,
                       std::ostream& out) {
  const Sweep sweep = load_sweep(sweep_file, sets);
  const std::vector<ResolvedVariant> all = resolve_variants(sweep, sweep.variants);
  const std::string main_db = absolute_path(db);
  const std::vector<SlurmSubmission> subs = submissions_of(main_db, sweep.name);
  std::optional<std::vector<QueuedJob>> queue;
  std::string queue_note;
  if (!subs.empty()) {
    try {
      queue = queued_jobs();
    } catch (const UserError& e) {
      queue_note = e.what();
    }
  }
  out << sweep_headline(sweep, Shard{}, all.size());
  out << status_table(read_sweep_status(all, sweep.name, main_db, subs, queue));
  if (!queue_note.empty()) out << "Slurm's queue unknown: " << queue_note << "\n";
  for (const SlurmSubmission& s : subs) {
    const bool newest = &s == &subs.back();
    if (!newest && !(queue && jobs_active(s, *queue))) continue;
    out << fmt::format("Slurm, submitted {}: {}{}\n", s.submitted_at,
                       queue ? describe_jobs(s, *queue) : fmt::format("array {}, finishing job {}", s.array_job,
                                                                       s.finish_job),
                       s.finished() && fs::exists(s.path("report.md")) ? "; report " + s.path("report.md") : "");
  }
  return 0;
}

}  // namespace incept
