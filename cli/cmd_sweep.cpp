#include "cli/cmd_sweep.h"
#include "cli/option_checks.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "experiments/slurm/job_folder.h"
#include "platform/write_file.h"
#include "experiments/slurm/slurm_sweep.h"
#include "experiments/store/run_store.h"
#include "experiments/sweep/auto_jobs.h"
#include "experiments/sweep/device_use.h"
#include "experiments/sweep/claims.h"
#include "experiments/sweep/plan.h"
#include "experiments/sweep/prefix_groups.h"
#include "experiments/sweep/runner.h"
#include "experiments/sweep/shard.h"
#include "experiments/sweep/sweep.h"
#include "experiments/sweep/sweep_report.h"
#include "framework/diagnostics.h"
#include "framework/text.h"
#include "reports/report_request.h"

namespace incept {

namespace {

std::string plural_cores(int cores) { return fmt::format("{} core{} available", cores, cores == 1 ? "" : "s"); }

struct SweepArgs {
  std::string file;
  std::string db = "runs.db";
  bool dry_run = false;
  std::string jobs = "auto";  // "auto" or a number (jobs_value())
  bool calibrate = false;     // --jobs auto: measure now
  bool no_prefix_reuse = false;
  std::string pack = "auto";  // "auto" or trainings per packed network (pack_size())
  std::string shard;
  bool fail_fast = false;
  std::vector<std::string> sets;
  // Slurm (experiments/slurm/slurm_sweep.h)
  bool slurm = false;
  int workers = 0;
  std::vector<std::string> sbatch;
  bool wait = false;
  bool status = false;
  std::string only_cells;   // hidden: a worker's cells, "1:HASH,4:HASH" (numbered from 1)
  bool slurm_worker = false;  // hidden: this sweep is a Slurm array task
  std::string slurm_finish;   // hidden: the finishing job of this submission folder
  std::string program = "incept";  // how the user called incept, for the commands it prints
};

// --only-cells: the cells (numbered from 1, with the experiment each was planned as) a Slurm worker trains. A cell
// whose experiment differs now (the sweep file or a config it reads was edited since submission) is an error.
std::vector<ResolvedVariant> only_cells(const std::vector<ResolvedVariant>& all, const std::string& list) {
  std::vector<ResolvedVariant> out;
  for (const std::string& item : split(list, ',')) {
    const std::string number = item.substr(0, item.find(':'));
    const std::string hash = item.find(':') == std::string::npos ? "" : item.substr(item.find(':') + 1);
    std::size_t n = 0;
    if (number.empty() || number.size() > 9 || number.find_first_not_of("0123456789") != std::string::npos ||
        (n = std::stoul(number)) < 1 || n > all.size())
      throw ConfigError(SourcePos{"--only-cells " + list},
                        fmt::format("'{}' is not a cell of this sweep (1 to {})", item, all.size()));
    const ResolvedVariant& v = all[n - 1];
    if (!hash.empty() && v.hash != hash)
      throw ConfigError(SourcePos{"--only-cells " + list},
                        fmt::format("cell {} ({} seed={}) is now experiment {}, not the {} that was submitted: the "
                                    "sweep file or a config it reads changed since; submit the sweep again",
                                    n, v.variant.name, v.variant.seed, v.hash, hash));
    out.push_back(v);
  }
  return out;
}

std::string count_of(const std::vector<PlannedVariant>& plan, PlanAction action) {
  std::size_t n = 0;
  for (const PlannedVariant& p : plan) n += p.action == action;
  return std::to_string(n);
}

// Each cell that prefix reuse records from another cell's training, said in its plan (the claims may still group
// differently when another process holds part of a group).
void note_prefix_groups(std::vector<PlannedVariant>& plan, bool reuse) {
  for (const PrefixGroup& g : prefix_groups(plan, reuse)) {
    const SweepVariant& leader = plan[g.leader].variant.variant;
    for (std::size_t m : g.members)
      plan[m].reason += fmt::format(", recorded at its epoch {} from the training of #{} ({} seed={})",
                                    plan[m].variant.prefix.epochs, leader.index + 1, leader.name, leader.seed);
  }
}

// --jobs: the number given, or what --jobs auto decides for these cells on this machine (said with its reasons).
JobsSplit jobs_split(const SweepArgs& a, const std::vector<PlannedVariant>& plan, const std::string& db,
                     bool dry_run) {
  const int cores = available_cores();
  if (a.jobs != "auto") {
    const int jobs = std::stoi(a.jobs);
    const JobsSplit split{jobs, std::max(1, cores / jobs)};
    if (dry_run)
      std::cout << fmt::format("--jobs {}: {} at once, {} thread{} each ({})\n", jobs, jobs, split.threads,
                               split.threads == 1 ? "" : "s", plural_cores(cores));
    return split;
  }
  AutoJobsRequest r;
  r.executable = std::filesystem::read_symlink("/proc/self/exe").string();
  r.db_path = db;
  r.plan = plan;
  r.prefix_reuse = !a.no_prefix_reuse;
  r.cores = cores;
  r.calibrate = a.calibrate && !dry_run;
  r.progress = &std::cout;
  if (const char* s = std::getenv("INCEPT_CALIBRATION_SECONDS")) {
    try {
      r.probe_seconds = std::clamp(std::stod(s), 0.1, 600.0);
    } catch (const std::exception&) {
      throw UserError(fmt::format("INCEPT_CALIBRATION_SECONDS='{}': expected seconds", s));
    }
  }
  // A dry run measures nothing: it says what a recorded calibration or the rules give, or that it would measure.
  r.may_measure = !dry_run;
  const JobsDecision d = decide_jobs(r);
  std::cout << fmt::format("--jobs auto: {} ({})\n", d.pending ? "would calibrate first" : d.summary,
                           plural_cores(cores));
  for (const std::string& line : d.why) std::cout << "  " << line << "\n";
  std::cout << std::flush;
  return d.split;
}

// Packing on a GPU: this many trainings of one network at most per packed network (a 12-seed sweep is one pack).
constexpr int kAutoPackOnGpu = 16;

// --pack: the number given, or auto: packs of up to kAutoPackOnGpu on a GPU, none on the CPU (said with why).
int pack_size(const SweepArgs& a, const std::vector<ResolvedVariant>& cells) {
  if (a.pack != "auto") {
    const int n = std::stoi(a.pack);
    if (n > 1)
      std::cout << fmt::format("--pack {}: up to {} cells that share a network train as one packed network\n", n, n);
    return n;
  }
  const bool gpu = std::any_of(cells.begin(), cells.end(), [](const ResolvedVariant& v) { return trains_on_gpu(v); });
  if (!gpu) return 1;  // measured slower on the CPU (README, "Packing"): nothing to say
  std::cout << fmt::format("--pack auto: on the GPU, up to {} cells that share a network train as one packed "
                           "network\n",
                           kAutoPackOnGpu);
  return kAutoPackOnGpu;
}

int run_sweep_command(const SweepArgs& a) {
  Shard shard = a.shard.empty() ? Shard{} : parse_shard(a.shard);
  Sweep sweep = load_sweep(a.file, a.sets);
  // Every variant is checked, not just this shard's (or worker's): a broken sweep file should stop them all alike.
  std::vector<ResolvedVariant> all = resolve_variants(sweep, sweep.variants);
  std::vector<ResolvedVariant> mine;
  if (!a.only_cells.empty()) mine = only_cells(all, a.only_cells);
  else
    for (const ResolvedVariant& v : all)
      if (in_shard(v.variant.index, shard)) mine.push_back(v);
  std::string db = shard_database(a.db, shard);
  std::cout << sweep_headline(sweep, shard, mine.size());
  if (!a.only_cells.empty()) std::cout << fmt::format("only cells {}\n", a.only_cells);

  const bool reuse = !a.no_prefix_reuse;
  if (a.dry_run) {
    std::vector<PlannedVariant> plan = plan_sweep(mine, RunHistory::load(db, false));
    note_prefix_groups(plan, reuse);
    std::cout << fmt::format("database {} (dry run: nothing is trained)\n", db) << plan_table(plan);
    jobs_split(a, plan, db, true);
    pack_size(a, mine);
    return 0;
  }

  // Created (schema included) before several children open it at once.
  if (a.slurm_worker) take_back_worker_log(db, sweep.name);
  else RunStore::open(db).mark_stale_runs();
  std::vector<PlannedVariant> plan = plan_sweep(mine, RunHistory::load(db, false));
  note_prefix_groups(plan, reuse);
  const std::size_t trainings = prefix_groups(plan, reuse).size();
  const JobsSplit split = jobs_split(a, plan, db, false);
  SweepClaims claims(db, sweep, mine, reuse);
  SweepRunOptions options;
  options.executable = std::filesystem::read_symlink("/proc/self/exe").string();
  options.db_path = db;
  options.sweep_name = sweep.name;
  options.jobs = split.jobs;
  options.threads_per_job = split.threads;
  options.fail_fast = a.fail_fast;
  options.pack = pack_size(a, mine);
  options.forward_sigterm = !a.slurm_worker;
  const std::size_t cells_to_run =
      std::count_if(plan.begin(), plan.end(), [](const PlannedVariant& p) { return p.action != PlanAction::skip; });
  std::cout << fmt::format("database {}: {} to train, {} to resume, {} done or in progress elsewhere (as it "
                           "stands now; cells are claimed one at a time){}; {} at once, {} thread{} each\n",
                           db, count_of(plan, PlanAction::train), count_of(plan, PlanAction::resume),
                           count_of(plan, PlanAction::skip),
                           trainings < cells_to_run
                               ? fmt::format("; prefix reuse: {} trainings answer them", trainings)
                               : "",
                           options.jobs, options.threads_per_job, options.threads_per_job == 1 ? "" : "s")
            << std::flush;
  SweepResult result = run_sweep(claims, options);
  std::cout << "\n" << summary_table(result);
  return result.exit_status();
}

// The report a Slurm submission leaves in its folder: Markdown, and HTML where Chart.js is installed.
void write_sweep_report(const std::string& db, const std::string& sweep, const std::string& folder,
                        std::ostream& out) {
  ReportRequest request;
  request.db = db;
  request.sweep = sweep;
  try {
    const Report report = load_report(request);
    for (const char* format : {"md", "html"}) {
      const std::string path = (std::filesystem::path(folder) / fmt::format("report.{}", format)).string();
      try {
        write_file_atomically(path, render_report(report, format));
        out << "wrote " << path << "\n";
      } catch (const std::exception& e) {
        out << fmt::format("no {} report: {}\n", format, e.what());
      }
    }
  } catch (const std::exception& e) {
    out << "no report: " << e.what() << "\n";
  }
}

// The Slurm modes, and the checks a plain sweep needs that CLI11 cannot express.
int sweep_command(const SweepArgs& a) {
  if (!a.slurm_finish.empty()) return finish_slurm_submission(a.slurm_finish, write_sweep_report, std::cout);
  if (a.file.empty()) throw CLI::RequiredError("sweep");
  if (a.status) return print_sweep_status(a.file, a.sets, a.db, std::cout);
  if (a.slurm) {
    SlurmSweepOptions o;
    o.sweep_file = a.file;
    o.db = a.db;
    o.sets = a.sets;
    o.workers = a.workers;
    o.jobs = a.jobs == "auto" ? 0 : std::stoi(a.jobs);
    o.prefix_reuse = !a.no_prefix_reuse;
    o.pack = a.pack;
    o.sbatch = a.sbatch;
    o.wait = a.wait;
    o.dry_run = a.dry_run;
    o.executable = std::filesystem::read_symlink("/proc/self/exe").string();
    o.command_hint = a.program;
    o.write_report = write_sweep_report;
    return submit_sweep_to_slurm(o, std::cout);
  }
  if (a.workers || !a.sbatch.empty() || a.wait)
    throw CLI::ValidationError("--workers, --sbatch and --wait", "go with --slurm");
  return run_sweep_command(a);
}

}  // namespace

void add_sweep_commands(CLI::App& app) {
  auto a = std::make_shared<SweepArgs>();
  CLI::App* cmd = app.add_subcommand(
      "sweep", "run every variant of an ablation sweep, skipping those the run database already has");
  cmd->add_option("sweep", a->file, "sweep file (TOML)");
  cmd->add_option("--db", a->db, "run database (default runs.db; with --shard K/N, runs.shard-K-of-N.db)")
      ->check(non_empty());
  cmd->add_flag("--dry-run", a->dry_run,
                "train nothing: list every variant with its params, MACs and plan (with --slurm: and the job "
                "scripts; nothing is submitted)");
  cmd->add_option("--jobs", a->jobs,
                  "trainings at once, sharing the cores: a number, or auto (default): chosen for this machine and "
                  "network by a short calibration recorded in the log (with --slurm: in each worker, on its node)")
      ->check(jobs_value());
  cmd->add_flag("--calibrate", a->calibrate,
                "with --jobs auto: measure now, even where the log has a calibration or the sweep is short");
  cmd->add_flag("--no-prefix-reuse", a->no_prefix_reuse,
                "train every cell on its own, also cells that differ only in train.epochs (by default the longest "
                "is trained once and the shorter ones recorded from it at their last epoch)");
  cmd->add_option("--pack", a->pack,
                  "cells that share a network (they differ only in seed, init, learning rate and schedule, optimizer "
                  "numbers, label smoothing) train this many at a time as one packed network, each recorded as its "
                  "own run: a number (1: never), or auto (default): up to 16 on a GPU, none on the CPU")
      ->check(pack_value());
  CLI::Option* shard =
      cmd->add_option("--shard", a->shard, "run only the K-th of N disjoint slices, e.g. 2/4 (Slurm job arrays)")
          ->check(non_empty());
  cmd->add_flag("--fail-fast", a->fail_fast, "stop at the first failed variant (the running ones are interrupted)");
  cmd->add_option("--set", a->sets, "override a config value in every variant, e.g. --set train.epochs=1");
  CLI::Option* slurm = cmd->add_flag(
      "--slurm", a->slurm,
      "submit the cells not done yet to Slurm: a job array of workers and a job that joins their logs into --db "
      "and writes the report");
  cmd->add_option("--workers", a->workers, "with --slurm: array tasks (default one per cell, at most 64)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--sbatch", a->sbatch,
                  "with --slurm: an sbatch option for the workers, e.g. --sbatch=--partition=gpu (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--wait", a->wait, "with --slurm: follow the jobs, cell by cell, and end with the summary");
  CLI::Option* status = cmd->add_flag(
      "--status", a->status, "show every cell by state (queued, running, completed, failed), also while Slurm "
                             "workers run");
  // For the Slurm jobs, not for people.
  CLI::Option* only = cmd->add_option("--only-cells", a->only_cells, "cells to train, e.g. 1:HASH,4:HASH")->group("");
  cmd->add_flag("--slurm-worker", a->slurm_worker, "run as a Slurm array task")->group("");
  cmd->add_option("--slurm-finish", a->slurm_finish, "finish a Slurm submission folder")->group("");
  shard->excludes(only);
  slurm->excludes(shard)->excludes(only)->excludes(status);
  cmd->callback([a, cmd] {
    const CLI::App* parent = cmd->get_parent();
    if (parent && !parent->get_name().empty()) a->program = parent->get_name();
    int code = sweep_command(*a);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace incept
