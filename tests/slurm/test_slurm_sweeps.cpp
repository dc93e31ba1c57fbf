// `incept sweep --slurm` end to end on a real single-node Slurm (slurm_cluster.h): the real incept binary submits,
// Slurm runs the workers and the finishing job, and the tests read the logs they leave. Tiny synthetic networks;
// the whole file takes about two minutes on 2 cores.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "experiments/slurm/job_folder.h"
#include "experiments/slurm/slurm_tools.h"
#include "experiments/store/process_identity.h"
#include "experiments/store/run_store.h"
#include "framework/diagnostics.h"
#include "reports/chartjs_asset.h"
#include "tests/slurm/slurm_cluster.h"
#include "tests/support/temp_files.h"
#include "tests/support/tiny_config.h"

using namespace incept;
using incept::slurm_test::SlurmCluster;
using incept::testing::CommandResult;
using incept::testing::run_incept;
using incept::testing::TempDir;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// 2 variants x 2 seeds of the tiny network: each cell trains in about a second.
const char* kTwoByTwo = R"(name = "slurm-two-by-two"
base = "tiny.toml"
seeds = [0, 1]
[grid]
"model.mix.out" = [4, 6]
)";

// Long enough (6 epochs of 8192 images, a few seconds each) to stop a worker in the middle of its training.
std::string long_sweep(const std::string& name, const std::string& seeds) {
  return "name = \"" + name + "\"\nbase = \"tiny.toml\"\nseeds = " + seeds +
         "\n[set]\n\"data.synthetic_train\" = 8192\n\"train.epochs\" = 6\n";
}

std::string output(const CommandResult& r) { return r.out + r.err; }

std::string array_job_of(const CommandResult& r) {
  std::smatch m;
  return std::regex_search(r.out, m, std::regex("submitted job array ([0-9]+)")) ? m[1].str() : "";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string sql_text(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  std::string out = "<cannot open>";
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(h, 30000);
    sqlite3_stmt* st = nullptr;
    out = "<no row>";
    if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) out = sqlite3_errmsg(h);
    else if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return out;
}

// Polls `done` every half second until it holds; false after `seconds`.
template <typename Predicate>
bool wait_for(Predicate done, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return done();
}

bool queue_empty() {
  try {
    return queued_jobs().empty();
  } catch (const UserError&) {
    return false;
  }
}

// The runs of a worker's log, read while the worker writes it (empty while it does not exist yet).
std::vector<RunRecord> worker_runs(const SlurmSubmission& s, int task) {
  try {
    if (!fs::exists(s.worker_db(task))) return {};
    return RunStore::open_read_only(s.worker_db(task)).list_runs();
  } catch (const std::exception&) {
    return {};
  }
}

// A worker's training that has checkpointed at least one epoch and is still running.
bool mid_training(const SlurmSubmission& s, int task) {
  for (const RunRecord& r : worker_runs(s, task))
    if (r.status == RunStatus::running && r.epochs_done >= 1 && r.epochs_done < r.epochs_planned) return true;
  return false;
}

// The parent of a process of this host, from /proc.
pid_t parent_of(pid_t pid) {
  const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string state;
  pid_t ppid = 0;
  rest >> state >> ppid;
  return ppid;
}

struct Fixture {
  TempDir dir;
  std::string db() const { return (dir.path() / "runs.db").string(); }
  CommandResult incept(const std::string& args) const { return run_incept(args, dir.path().string()); }
  SlurmSubmission newest(const std::string& sweep) const {
    const auto subs = submissions_of(db(), sweep);
    REQUIRE_FALSE(subs.empty());
    return subs.back();
  }
};

std::map<std::pair<std::string, std::int64_t>, RunRecord> runs_by_cell(const std::string& db) {
  std::map<std::pair<std::string, std::int64_t>, RunRecord> out;
  for (const RunRecord& r : RunStore::open_read_only(db).list_runs()) out[{r.variant, r.seed}] = r;
  return out;
}

}  // namespace

TEST_CASE("a sweep submitted with --wait trains every cell once on Slurm and ends with the merged log and report") {
  SlurmCluster cluster;
  INCEPT_REQUIRE_SLURM(cluster);
  ::setenv("INCEPT_SLURM_POLL_SECONDS", "1", 1);
  Fixture f;
  f.dir.write("tiny.toml", testing::kTinyTrainingConfig);
  f.dir.write("sweep.toml", kTwoByTwo);

  const auto start = Clock::now();
  const CommandResult r = f.incept("sweep sweep.toml --slurm --workers 3 --wait --db runs.db");
  INFO(output(r));
  REQUIRE(r.status == 0);
  WARN("submitted and waited in " << std::chrono::duration<double>(Clock::now() - start).count() << " s");
  const SlurmSubmission s = f.newest("slurm-two-by-two");
  INFO(slurp(s.path("worker-1.out")) << slurp(s.path("finish.out")));
  CHECK_THAT(r.out, Catch::Contains("submitted job array " + s.array_job + " (3 workers) and finishing job " +
                                    s.finish_job));
  CHECK_THAT(r.out, Catch::Contains("progress: "));
  CHECK_THAT(r.out, Catch::Contains("sweep --status sweep.toml --db runs.db"));
  CHECK_THAT(r.out, Catch::Contains("4 runs: 4 completed"));
  CHECK(s.workers.size() == 3);

  // Every cell completed exactly once, in a sound log.
  const std::vector<RunRecord> runs = RunStore::open_read_only(f.db()).list_runs();
  REQUIRE(runs.size() == 4);
  std::set<std::pair<std::string, std::int64_t>> cells;
  for (const RunRecord& run : runs) {
    CHECK(run.status == RunStatus::completed);
    CHECK(run.sweep == "slurm-two-by-two");
    CHECK(run.epochs_done == 2);
    cells.insert({run.variant, run.seed});
  }
  CHECK(cells.size() == 4);
  CHECK(sql_text(f.db(), "PRAGMA integrity_check") == "ok");
  // Logs that hosts share are kept in the rollback journal, the workers' and the main one alike.
  CHECK(sql_text(f.db(), "PRAGMA journal_mode") == "delete");
  for (int task = 1; task <= 3; ++task) CHECK(sql_text(s.worker_db(task), "PRAGMA journal_mode") == "delete");

  // The finishing job joined the logs and wrote the report.
  CHECK(s.finished());
  const std::string report = slurp(s.path("report.md"));
  CHECK_THAT(report, Catch::Contains("mix.out=4"));
  CHECK_THAT(report, Catch::Contains("mix.out=6"));
  if (fs::exists(chartjs_path())) CHECK(fs::file_size(s.path("report.html")) > 1000);
  else WARN("Chart.js is not installed here: no report.html to check");

  const CommandResult status = f.incept("sweep --status sweep.toml --db runs.db");
  INFO(output(status));
  CHECK(status.status == 0);
  CHECK_THAT(status.out, Catch::Contains("4 cells: 4 completed"));

  // Nothing is left to do: the same command submits nothing.
  const CommandResult again = f.incept("sweep sweep.toml --slurm --workers 3 --wait --db runs.db");
  INFO(output(again));
  CHECK(again.status == 0);
  CHECK_THAT(again.out, Catch::Contains("nothing to submit"));
  CHECK(submissions_of(f.db(), "slurm-two-by-two").size() == 1);
}

TEST_CASE("workers cancelled or killed mid-training leave their cells interrupted, and a rerun finishes only them") {
  SlurmCluster cluster;
  INCEPT_REQUIRE_SLURM(cluster);
  ::setenv("INCEPT_SLURM_POLL_SECONDS", "1", 1);
  Fixture f;
  f.dir.write("tiny.toml", testing::kTinyTrainingConfig);
  f.dir.write("sweep.toml", long_sweep("slurm-stops", "[0, 1, 2]"));

  // Submitted without --wait: the submitting command is gone while the jobs run.
  const CommandResult first = f.incept("sweep sweep.toml --slurm --db runs.db");
  INFO(output(first));
  REQUIRE(first.status == 0);
  const std::string array = array_job_of(first);
  REQUIRE_FALSE(array.empty());
  const SlurmSubmission s = f.newest("slurm-stops");
  REQUIRE(s.workers.size() == 3);  // one per cell: worker K trains cell K

  REQUIRE(wait_for([&] { return mid_training(s, 2) && mid_training(s, 3); }, 180));
  // Worker 2: cancelled (Slurm sends SIGTERM to every process; the training checkpoints and stops).
  cancel_jobs({array + "_2"});
  // Worker 3: killed outright, as the OOM killer or a dying node would: the batch script, the sweep and the
  // training, with no chance to record anything.
  const RunRecord victim = worker_runs(s, 3).at(0);
  const pid_t training = static_cast<pid_t>(victim.pid);
  const pid_t sweep = parent_of(training);
  const pid_t script = parent_of(sweep);
  for (pid_t pid : {script, sweep, training}) REQUIRE(::kill(pid, SIGKILL) == 0);

  REQUIRE(wait_for(queue_empty, 180));
  INFO(slurp(s.path("worker-2.out")) << slurp(s.path("worker-3.out")) << slurp(s.path("finish.out")));
  REQUIRE(s.finished());
  auto before = runs_by_cell(f.db());
  REQUIRE(before.size() == 3);
  CHECK(before.at({"base", 0}).status == RunStatus::completed);
  const RunRecord cancelled = before.at({"base", 1});
  const RunRecord killed = before.at({"base", 2});
  CHECK(cancelled.status == RunStatus::interrupted);
  CHECK_THAT(cancelled.error, Catch::Contains("[Slurm: job " + array + "_2 ended CANCELLED"));
  CHECK(killed.status == RunStatus::interrupted);
  CHECK_THAT(killed.error, Catch::Contains("ended without finishing the run"));
  CHECK_THAT(killed.error, Catch::Contains("[Slurm: job " + array + "_3 ended "));
  CHECK(cancelled.epochs_done >= 1);
  CHECK(killed.epochs_done >= 1);
  const CommandResult status = f.incept("sweep --status sweep.toml --db runs.db");
  INFO(output(status));
  CHECK_THAT(status.out, Catch::Contains("3 cells: 1 completed, 2 interrupted"));

  // The same command again: only the two stopped cells, each resumed from its checkpoint.
  const CommandResult rerun = f.incept("sweep sweep.toml --slurm --no-prefix-reuse --db runs.db --wait");
  INFO(output(rerun));
  REQUIRE(rerun.status == 0);
  CHECK_THAT(rerun.out, Catch::Contains("0 to train, 2 to resume, 1 done or running elsewhere; 2 workers"));
  CHECK_THAT(rerun.out, Catch::Contains("3 runs: 3 completed"));
  const auto after = runs_by_cell(f.db());
  REQUIRE(after.size() == 3);
  CHECK(RunStore::open_read_only(f.db()).list_runs().size() == 3);
  for (const auto& [cell, run] : after) {
    CHECK(run.status == RunStatus::completed);
    CHECK(run.uid == before.at(cell).uid);  // resumed, not trained again
    CHECK(run.epochs_done == 6);
  }
  CHECK(after.at({"base", 0}).finished_at == before.at({"base", 0}).finished_at);  // untouched
  CHECK(sql_text(f.db(), "PRAGMA integrity_check") == "ok");
}

TEST_CASE("a worker warned of its time limit checkpoints, requeues itself and resumes where it stopped") {
  SlurmCluster cluster;
  INCEPT_REQUIRE_SLURM(cluster);
  Fixture f;
  f.dir.write("tiny.toml", testing::kTinyTrainingConfig);
  f.dir.write("sweep.toml", long_sweep("slurm-requeue", "[0]"));
  const CommandResult first = f.incept("sweep sweep.toml --slurm --db runs.db");
  INFO(output(first));
  REQUIRE(first.status == 0);
  const std::string array = array_job_of(first);
  const SlurmSubmission s = f.newest("slurm-requeue");
  REQUIRE(wait_for([&] { return mid_training(s, 1); }, 180));

  // What --signal=B:USR1@120 sends two minutes before the time limit.
  REQUIRE(run_program({"scancel", "--batch", "--signal=USR1", array + "_1"}).status == 0);
  auto requeued = [&] {
    for (const QueuedJob& q : queued_jobs())
      if (q.job == array && q.task == 1 && q.state == "PENDING") return true;
    return false;
  };
  REQUIRE(wait_for(requeued, 60));
  // It starts again once its credential has expired (cred_expire: 10 s in the test cluster, 120 s by default).
  REQUIRE(wait_for(queue_empty, 180));

  const std::string log = slurp(s.path("worker-1.out"));
  INFO(log << slurp(s.path("finish.out")) << cluster.log_tail());
  CHECK_THAT(log, Catch::Contains("requeueing"));
  CHECK_THAT(log, Catch::Contains("restart 1"));
  CHECK_THAT(log, Catch::Contains("resume base seed=0"));
  const std::vector<RunRecord> runs = RunStore::open_read_only(f.db()).list_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].status == RunStatus::completed);
  CHECK(runs[0].epochs_done == 6);
}

TEST_CASE("a job array cancelled with its finishing job: the rerun joins what the workers left, then trains the rest") {
  SlurmCluster cluster;
  INCEPT_REQUIRE_SLURM(cluster);
  ::setenv("INCEPT_SLURM_POLL_SECONDS", "1", 1);
  Fixture f;
  f.dir.write("tiny.toml", testing::kTinyTrainingConfig);
  // Cell 1 trains 1 epoch, cell 2 six (both with the base config's seed, 7), each in a worker of its own: without
  // prefix reuse, which would train them as one (cell 1 recorded at epoch 1 of cell 2) in one worker.
  f.dir.write("sweep.toml", "name = \"slurm-cancelled\"\nbase = \"tiny.toml\"\n[set]\n\"data.synthetic_train\" = 8192\n"
                            "[grid]\n\"train.epochs\" = [1, 6]\n");
  const CommandResult first = f.incept("sweep sweep.toml --slurm --no-prefix-reuse --db runs.db");
  INFO(output(first));
  REQUIRE(first.status == 0);
  const SlurmSubmission s = f.newest("slurm-cancelled");
  auto completed_in_worker_1 = [&] {
    const auto runs = worker_runs(s, 1);
    return !runs.empty() && runs[0].status == RunStatus::completed;
  };
  REQUIRE(wait_for([&] { return completed_in_worker_1() && mid_training(s, 2); }, 180));

  // Readable while the workers run: where each cell stands, with its host and epoch.
  const CommandResult status = f.incept("sweep --status sweep.toml --db runs.db");
  INFO(output(status));
  CHECK(status.status == 0);
  CHECK_THAT(status.out, Catch::Contains("completed"));
  CHECK_THAT(status.out,
             Catch::Matches("(.|\n)*\n2  epochs=6 +7  running +[1-5]/6 .*" + this_host_name() + "(.|\n)*"));

  cancel_jobs({s.array_job, s.finish_job});
  REQUIRE(wait_for(queue_empty, 120));
  CHECK_FALSE(s.finished());
  CHECK(RunStore::open_read_only(f.db()).list_runs().empty());  // nothing was joined
  const std::string trained = worker_runs(s, 1).at(0).uid;

  const CommandResult rerun = f.incept("sweep sweep.toml --slurm --no-prefix-reuse --db runs.db --wait");
  INFO(output(rerun));
  REQUIRE(rerun.status == 0);
  CHECK_THAT(rerun.out, Catch::Contains("joining the workers' logs of " + s.dir));
  CHECK_THAT(rerun.out, Catch::Contains("0 to train, 1 to resume, 1 done or running elsewhere; 1 worker"));
  CHECK_THAT(rerun.out, Catch::Contains("2 runs: 2 completed"));
  const auto after = runs_by_cell(f.db());
  REQUIRE(after.size() == 2);
  CHECK(after.at({"epochs=1", 7}).uid == trained);  // the base config's seed
  for (const auto& [cell, run] : after) CHECK(run.status == RunStatus::completed);
}
