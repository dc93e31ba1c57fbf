// Several sweep workers writing one run log at once, with reports reading it meanwhile: every run and epoch is
// recorded, no writer ever fails on "database is locked", and the readers neither fail nor disturb them.
#include <catch2/catch.hpp>

#include <memory>
#include <set>

#include <fmt/format.h>

#include "experiments/store/run_store.h"
#include "tests/reliability/reliability_support.h"

using namespace incept;
using namespace incept::reliability;

TEST_CASE("four sweep workers share one log while `incept runs` reads it: no row lost, never 'locked'",
          "[reliability][concurrency][cli]") {
  constexpr int kWorkers = 4;
  constexpr int kEpochs = 3;
  TempDir tmp;
  tmp.write("tiny.toml", kTinyConfig);
  // Four variants (one per seed) and four jobs: four `incept train` processes write the log at the same time.
  tmp.write("sweep.toml", fmt::format(R"(name = "writers"
base = "tiny.toml"
seeds = [1, 2, 3, 4]

[set]
"train.epochs" = {}
"data.synthetic_train" = 2048
)",
                                      kEpochs));
  const std::string db = (tmp.path() / "shared.db").string();
  RunStore::open(db);  // the log exists, so every read below must succeed

  InceptProcess sweep({"sweep", "sweep.toml", "--jobs", std::to_string(kWorkers), "--db", db}, tmp.path(),
                      tmp.path(), "sweep");

  // Read while they write, in turn: the listing (which also writes: it marks dead runs), its JSON form and the
  // report. Reading starts once a run exists (a report of an empty log is an error).
  const std::vector<std::vector<std::string>> readers = {
      {"runs", "--db", db}, {"runs", "--db", db, "--json"}, {"report", "--db", db}};
  REQUIRE(wait_until([&] { return !RunStore::open_read_only(db).list_runs().empty() || !sweep.running(); }, 60));
  std::vector<CommandResult> reads;
  int reads_while_writing = 0;  // reads that began and ended with the workers still writing
  while (sweep.running() && reads.size() < 60) {
    reads.push_back(run_incept(readers[reads.size() % readers.size()], tmp.path()));
    if (sweep.running()) ++reads_while_writing;
  }

  const CommandResult r = sweep.result();
  INFO("sweep stdout: " << r.out << "\nsweep stderr: " << r.err);
  CHECK(r.status == 0);
  CHECK_FALSE(contains(r.out + r.err, "locked"));
  CHECK_FALSE(contains(r.out + r.err, "SQLITE_BUSY"));
  CHECK(reads_while_writing >= 1);
  for (std::size_t i = 0; i < reads.size(); ++i) {
    INFO("reader `incept " << readers[i % readers.size()][0] << "` stderr: " << reads[i].err);
    CHECK(reads[i].status == 0);
    CHECK(reads[i].err.empty());
  }

  CHECK(integrity_check(db) == "ok");
  RunStore store = RunStore::open_read_only(db);
  const auto runs = store.list_runs();
  REQUIRE(runs.size() == kWorkers);
  std::set<std::int64_t> seeds;
  for (const RunRecord& run : runs) {
    INFO("run " << run.id);
    seeds.insert(run.seed);
    CHECK(run.status == RunStatus::completed);
    CHECK(run.epochs_done == kEpochs);
    CHECK(store.layers(run.id).size() == 4);
    const auto epochs = store.epochs(run.id);
    REQUIRE(epochs.size() == static_cast<std::size_t>(kEpochs));
    CHECK(run.final_test_acc == epochs.back().test_acc);
  }
  CHECK(seeds == std::set<std::int64_t>{1, 2, 3, 4});
}
