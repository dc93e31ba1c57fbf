// What the run log offers logs that several hosts share (Slurm sweeps): the rollback journal, logs seeded with only
// the runs they are given, and a note from outside (Slurm's account of a task) added to a stopped run's error.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include "experiments/store/run_store.h"
#include "framework/diagnostics.h"
#include "tests/store/store_test_support.h"

using namespace incept;
using namespace incept::store_test;

namespace {

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_.empty()) ::unsetenv(name_);
    else ::setenv(name_, old_.c_str(), 1);
  }

 private:
  const char* name_;
  std::string old_;
};

}  // namespace

TEST_CASE("INCEPT_JOURNAL_MODE=delete keeps a log in SQLite's rollback journal, and writers without it use WAL",
          "[store]") {
  TempDir dir;
  const std::string path = dir.file("runs.db");
  {
    ScopedEnv mode("INCEPT_JOURNAL_MODE", "delete");
    RunStore store = RunStore::open(path);
    store.begin_run(sample_run("a"));
    CHECK(raw_query_text(path, "PRAGMA journal_mode") == "delete");
    CHECK_FALSE(fs::exists(path + "-wal"));
    // A reader leaves the mode as it is.
    CHECK(RunStore::open_read_only(path).list_runs().size() == 1);
  }
  CHECK(raw_query_text(path, "PRAGMA journal_mode") == "delete");
  RunStore::open(path);  // a writer without the setting: back to WAL
  CHECK(raw_query_text(path, "PRAGMA journal_mode") == "wal");
  {
    ScopedEnv mode("INCEPT_JOURNAL_MODE", "delete");
    RunStore::open(path);
    CHECK(raw_query_text(path, "PRAGMA journal_mode") == "delete");
  }
  ScopedEnv bad("INCEPT_JOURNAL_MODE", "memory");
  CHECK_THROWS_WITH(RunStore::open(path), Catch::Contains("INCEPT_JOURNAL_MODE='memory': expected wal or delete"));
}

TEST_CASE("a log is seeded with only the runs a merge is given, and no sweep records", "[store]") {
  TempDir dir;
  const std::string main = dir.file("runs.db"), worker = dir.file("worker-1.db");
  {
    RunStore store = RunStore::open(main);
    const auto a = store.begin_run(sample_run("a", "hash-a", "sw"));
    store.record_epoch(sample_epoch(a, 1, 0.5));
    store.finish_run(a, RunStatus::interrupted, 1.0, "stopped");
    store.begin_run(sample_run("b", "hash-b", "sw"));
  }
  const std::string wanted = RunStore::open_read_only(main).get_run(1)->experiment_hash;
  const MergeStats stats =
      RunStore::merge(worker, {main}, [&](const RunRecord& r) { return r.experiment_hash == wanted; });
  CHECK(stats.copied == 1);
  const RunStore w = RunStore::open_read_only(worker);
  const std::vector<RunRecord> runs = w.list_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].name == "a");
  CHECK(runs[0].status == RunStatus::interrupted);
  CHECK(w.epochs(runs[0].id).size() == 1);
  CHECK(w.sweep_names().empty());
  // Seeding again changes nothing.
  CHECK(RunStore::merge(worker, {main}, [&](const RunRecord& r) { return r.experiment_hash == wanted; }).copied == 0);
}

TEST_CASE("a note from outside is added once to a stopped run's error, never to a running one", "[store]") {
  TempDir dir;
  RunStore store = RunStore::open(dir.file("runs.db"));
  const auto stopped = store.begin_run(sample_run("stopped"));
  store.finish_run(stopped, RunStatus::interrupted, 1.0, "process 12 on n1 ended without finishing the run");
  const auto running = store.begin_run(sample_run("running"));
  const auto clean = store.begin_run(sample_run("clean"));
  store.finish_run(clean, RunStatus::failed, 1.0);

  CHECK(store.note_run_error(stopped, "[Slurm: job 5_2 ended OUT_OF_MEMORY]"));
  CHECK_FALSE(store.note_run_error(stopped, "[Slurm: job 5_2 ended OUT_OF_MEMORY]"));
  CHECK(store.get_run(stopped)->error ==
        "process 12 on n1 ended without finishing the run [Slurm: job 5_2 ended OUT_OF_MEMORY]");
  CHECK(store.note_run_error(clean, "[Slurm: job 5_3 ended TIMEOUT]"));
  CHECK(store.get_run(clean)->error == "[Slurm: job 5_3 ended TIMEOUT]");
  CHECK_FALSE(store.note_run_error(running, "[Slurm]"));
  CHECK(store.get_run(running)->error.empty());
}
