// Crashes: a trainer killed with SIGKILL in the middle of an epoch leaves an intact log with every completed
// epoch, its run is recognised as interrupted at once (its process is gone from this host: no need to wait
// for the heartbeat timeout), and `incept resume` finishes it with exactly the metrics of an uninterrupted run.
#include <catch2/catch.hpp>

#include <csignal>
#include <cmath>
#include <memory>

#include "experiments/store/run_store.h"
#include "framework/diagnostics.h"
#include "tests/reliability/reliability_support.h"

using namespace incept;
using namespace incept::reliability;

namespace {

std::size_t epochs_recorded(const std::string& db, std::int64_t run) {
  if (!fs::exists(db)) return 0;
  try {
    return RunStore::open_read_only(db).epochs(run).size();
  } catch (const UserError&) {
    return 0;  // the trainer is still creating the schema
  }
}

bool has_checkpoint(const std::string& db, std::int64_t run) {
  try {
    auto r = RunStore::open_read_only(db).get_run(run);
    return r && !r->checkpoint.path.empty();
  } catch (const UserError&) {
    return false;
  }
}

// The scheduler state of process `pid` from /proc ('R', 'S', 'T' stopped, 'Z' exited, ...), 0 when it is gone.
char process_state(pid_t pid) {
  const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ? 0 : stat[paren + 2];
}

// A child that has exited; reaped unless `leave_zombie`.
pid_t exited_child(bool leave_zombie) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  if (!leave_zombie) {
    ::waitpid(pid, nullptr, 0);
  } else {
    wait_until([&] { return contains(slurp("/proc/" + std::to_string(pid) + "/stat"), ") Z"); }, 10);
  }
  return pid;
}

// A running run held by process `pid` of `host`: begun by this process, then forged as another's (begin_run always
// records the calling process).
std::int64_t run_of(RunStore& store, const std::string& db, const std::string& name, std::int64_t pid,
                    const std::string& host) {
  RunRecord r;
  r.name = name;
  const std::int64_t id = store.begin_run(r);
  sql_exec(db, "UPDATE runs SET pid = " + std::to_string(pid) + ", host = '" + host + "', process_start = '" +
                   process_start_of(pid) + "' WHERE id = " + std::to_string(id));
  return id;
}

}  // namespace

TEST_CASE("SIGKILL mid-epoch: log intact, run interrupted at once, resume matches an uninterrupted run",
          "[reliability][crash][cli]") {
  TempDir tmp;
  const std::string config = tmp.write("tiny.toml", kTinyConfig);
  const std::vector<std::string> longer = {"--set", "train.epochs=3", "--set", "data.synthetic_train=2048"};
  auto train_args = [&](const std::string& db) {
    std::vector<std::string> a = {"train", config, "--quiet", "--db", db};
    a.insert(a.end(), longer.begin(), longer.end());
    return a;
  };
  InceptProcess reference(train_args((tmp.path() / "ref.db").string()), tmp.path(), tmp.path(), "ref");

  // Killed part-way: the victim is stopped (SIGSTOP) as soon as epoch 1 is recorded and checkpointed, so that it
  // cannot go on while the test looks, and killed there unless it has recorded every epoch already. Only a test
  // process starved for two whole epochs finds it finished: such an attempt crashed nothing and is made again,
  // never counted as a pass.
  std::string db;
  std::unique_ptr<InceptProcess> victim;
  std::size_t completed = 0;
  for (int attempt = 1; attempt <= 3 && !victim; ++attempt) {
    const std::string tag = "victim" + std::to_string(attempt);
    db = (tmp.path() / (tag + ".db")).string();
    auto process = std::make_unique<InceptProcess>(train_args(db), tmp.path(), tmp.path(), tag);
    REQUIRE(wait_until([&] { return epochs_recorded(db, 1) >= 1 && has_checkpoint(db, 1); }, 120));
    process->kill(SIGSTOP);
    char state = 0;
    REQUIRE(wait_until([&] { return (state = process_state(process->pid())) == 'T' || state == 'Z' || state == 0; },
                       30));
    completed = epochs_recorded(db, 1);
    if (state != 'T' || completed == 3) {
      process->kill(SIGCONT);
      UNSCOPED_INFO("attempt " << attempt << ": the run had recorded every epoch when it was stopped");
      continue;
    }
    process->kill(SIGKILL);
    REQUIRE(process->wait() == 128 + SIGKILL);
    victim = std::move(process);
  }
  INFO("the run had finished before it was stopped in each of 3 attempts: the crash was never exercised");
  REQUIRE(victim != nullptr);
  REQUIRE(completed >= 1);

  // The file survived the crash, still says 'running' (nobody looked yet), and knows which process ran it.
  CHECK(integrity_check(db) == "ok");
  CHECK(sql_text(db, "SELECT status FROM runs WHERE id = 1") == "running");
  CHECK(sql_text(db, "SELECT pid FROM runs WHERE id = 1") == std::to_string(victim->pid()));
  CHECK(sql_text(db, "SELECT host FROM runs WHERE id = 1") == this_host_name());
  {
    RunStore store = RunStore::open_read_only(db);
    const auto epochs = store.epochs(1);
    REQUIRE(epochs.size() == completed);
    for (std::size_t i = 0; i < epochs.size(); ++i) {
      CHECK(epochs[i].epoch == static_cast<int>(i + 1));
      CHECK(std::isfinite(epochs[i].train_loss));
      CHECK(std::isfinite(epochs[i].test_acc));
    }
  }

  // Any look at the log marks it interrupted at once, though its heartbeat is only seconds old.
  const CommandResult runs = run_incept({"runs", "--db", db, "--json"}, tmp.path());
  INFO("incept runs stderr: " << runs.err);
  REQUIRE(runs.status == 0);
  CHECK(contains(runs.out, "\"status\":\"interrupted\""));
  CHECK(contains(runs.out, "\"pid\":" + std::to_string(victim->pid())));
  CHECK(contains(runs.out, "\"host\":\"" + this_host_name() + "\""));
  CHECK(contains(runs.out, "process " + std::to_string(victim->pid()) + " on " + this_host_name() +
                               " ended without finishing the run (last heartbeat "));

  const CommandResult resumed = run_incept({"resume", "1", "--quiet", "--db", db}, tmp.path());
  INFO("incept resume stderr: " << resumed.err);
  REQUIRE(resumed.status == 0);
  REQUIRE(reference.wait() == 0);

  RunStore a = RunStore::open_read_only((tmp.path() / "ref.db").string());
  RunStore b = RunStore::open_read_only(db);
  const auto ea = a.epochs(1), eb = b.epochs(1);
  REQUIRE(ea.size() == 3);
  REQUIRE(eb.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("epoch " << i + 1);
    CHECK(ea[i].train_loss == eb[i].train_loss);
    CHECK(ea[i].train_acc == eb[i].train_acc);
    CHECK(ea[i].test_loss == eb[i].test_loss);
    CHECK(ea[i].test_acc == eb[i].test_acc);
  }
  const RunRecord run = *b.get_run(1);
  CHECK(run.status == RunStatus::completed);
  CHECK(run.error.empty());
  CHECK(run.final_test_acc == a.get_run(1)->final_test_acc);
  CHECK(integrity_check(db) == "ok");
}

TEST_CASE("mark_stale_runs interrupts a running run at once when its process has gone from this host",
          "[reliability][crash][store]") {
  TempDir tmp;
  const std::string db = (tmp.path() / "runs.db").string();
  const std::string host = this_host_name();
  REQUIRE_FALSE(host.empty());
  const pid_t dead = exited_child(false);
  const pid_t zombie = exited_child(true);  // killed, but its parent has not collected it yet
  RunStore store = RunStore::open(db);
  const auto dead_run = run_of(store, db, "dead", dead, host);
  const auto zombie_run = run_of(store, db, "zombie", zombie, host);
  const auto alive_run = run_of(store, db, "alive", this_process_id(), host);
  const auto remote_run = run_of(store, db, "remote", dead, "elsewhere.invalid");  // pid means nothing here
  const auto unknown_run = run_of(store, db, "unknown", 0, "");                     // recorded before v2

  CHECK(store.get_run(alive_run)->pid == this_process_id());
  CHECK(store.get_run(alive_run)->host == host);

  CHECK(store.mark_stale_runs(3600) == 2);  // heartbeats are fresh: only the pid check can tell
  for (auto [id, pid] : {std::pair{dead_run, dead}, std::pair{zombie_run, zombie}}) {
    const RunRecord r = *store.get_run(id);
    INFO(r.name);
    CHECK(r.status == RunStatus::interrupted);
    CHECK(r.error == "process " + std::to_string(pid) + " on " + host + " ended without finishing the run (last "
                     "heartbeat " + r.heartbeat_at + ")");
    CHECK(r.finished_at == r.heartbeat_at);
  }
  for (auto id : {alive_run, remote_run, unknown_run}) CHECK(store.get_run(id)->status == RunStatus::running);
  CHECK(store.mark_stale_runs(3600) == 0);
  ::waitpid(zombie, nullptr, 0);

  // Runs without a usable pid still fall back to the heartbeat timeout.
  sql_exec(db, "UPDATE runs SET heartbeat_at = '2020-01-01T00:00:00Z' WHERE id IN (" + std::to_string(remote_run) +
                   ", " + std::to_string(unknown_run) + ")");
  CHECK(store.mark_stale_runs(3600) == 2);
  CHECK(store.get_run(remote_run)->error == "no heartbeat since 2020-01-01T00:00:00Z");
  CHECK(store.get_run(alive_run)->status == RunStatus::running);
}

TEST_CASE("a resumed run belongs to the resuming process", "[reliability][crash][store]") {
  TempDir tmp;
  const std::string db = (tmp.path() / "runs.db").string();
  RunStore store = RunStore::open(db);
  const auto id = run_of(store, db, "crashed", exited_child(false), this_host_name());
  REQUIRE(store.mark_stale_runs(3600) == 1);
  store.claim_run(id);
  const RunRecord r = *store.get_run(id);
  CHECK(r.status == RunStatus::running);
  CHECK(r.pid == this_process_id());
  CHECK(r.host == this_host_name());
  CHECK(r.process_start == process_start_of(this_process_id()));
  CHECK(store.mark_stale_runs(3600) == 0);  // its (new) process is alive
}

TEST_CASE("a version-1 log is upgraded to the current schema with its runs and epochs intact",
          "[reliability][store]") {
  TempDir tmp;
  const std::string db = (tmp.path() / "v1.db").string();
  // The released version-1 schema (schema.cpp, migration 1), as an older incept wrote it.
  sql_exec(db, R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, status TEXT NOT NULL,
  config_toml TEXT NOT NULL DEFAULT '', config_hash TEXT NOT NULL DEFAULT '', device TEXT NOT NULL DEFAULT '',
  torch_version TEXT NOT NULL DEFAULT '', sweep TEXT NOT NULL DEFAULT '', variant TEXT NOT NULL DEFAULT '',
  seed INTEGER NOT NULL DEFAULT 0, params INTEGER NOT NULL DEFAULT 0, macs INTEGER NOT NULL DEFAULT 0,
  final_test_acc REAL, best_test_acc REAL, train_seconds REAL NOT NULL DEFAULT 0, started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL DEFAULT '', heartbeat_at TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',
  checkpoint_path TEXT NOT NULL DEFAULT '', epochs_planned INTEGER NOT NULL DEFAULT 0);
CREATE INDEX runs_by_hash ON runs(config_hash, started_at);
CREATE INDEX runs_by_sweep ON runs(sweep);
CREATE INDEX runs_by_status ON runs(status);
CREATE TABLE epochs (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, epoch INTEGER NOT NULL,
  train_loss REAL, train_acc REAL, test_loss REAL, test_acc REAL, lr REAL, seconds REAL, images_per_s REAL,
  PRIMARY KEY (run_id, epoch)) WITHOUT ROWID;
CREATE TABLE layers (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
  name TEXT NOT NULL, block TEXT NOT NULL DEFAULT '', output_shape TEXT NOT NULL DEFAULT '',
  params INTEGER NOT NULL DEFAULT 0, macs INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (run_id, idx)) WITHOUT ROWID;
INSERT INTO runs (name, status, final_test_acc, best_test_acc, started_at, heartbeat_at, epochs_planned)
  VALUES ('old', 'completed', 0.9, 0.95, '2024-01-01T00:00:00Z', '2024-01-01T01:00:00Z', 2);
INSERT INTO epochs VALUES (1, 1, 1.0, 0.5, 1.1, 0.95, 0.1, 10, 100), (1, 2, 0.5, 0.7, 0.9, 0.9, 0.1, 10, 100);
PRAGMA application_id = 1229865808;
PRAGMA user_version = 1;
)sql");
  CHECK_THROWS_WITH(RunStore::open_read_only(db), Catch::Contains("schema 1, older than this build's 5"));
  {
    RunStore store = RunStore::open(db);
    CHECK(store.schema_version() == 5);
    const RunRecord r = *store.get_run(1);
    CHECK(r.name == "old");
    CHECK(r.status == RunStatus::completed);
    CHECK(r.pid == 0);
    CHECK(r.host.empty());
    CHECK(r.best_test_acc == 0.95);
    CHECK(r.epochs_done == 2);
    CHECK(store.epochs(1)[1].train_loss == 0.5);
    CHECK(r.uid.size() == 32);  // every run gets its global id
    CHECK(r.trained_with.empty());  // trained on its own (prefix reuse came with schema 4)
    RunRecord fresh;
    fresh.name = "new";
    const auto next = store.begin_run(fresh);
    CHECK(store.get_run(next)->pid == this_process_id());
    CHECK(store.get_run(next)->uid != r.uid);
  }
  CHECK(RunStore::open_read_only(db).schema_version() == 5);
  CHECK(integrity_check(db) == "ok");
}
