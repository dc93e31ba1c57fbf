// A sweep process working for a Slurm job array (experiments/slurm): it trains exactly the cells it is given, as
// they were planned, on a log of its own that it takes back at once when its task starts again.
#include <catch2/catch.hpp>

#include <filesystem>

#include "experiments/store/run_store.h"
#include "experiments/sweep/claims.h"
#include "tests/store/store_test_support.h"
#include "tests/sweep/sweep_test_support.h"

using namespace incept;
using incept::sweep_test::write_sweep;
using incept::testing::CommandResult;
using incept::testing::run_incept;
namespace fs = std::filesystem;

namespace {

const char* kTwoByTwo = R"(name = "worker-sweep"
base = "tiny.toml"
seeds = [0, 1]
[grid]
"model.mix.out" = [4, 6]
)";

std::string output(const testing::CommandResult& r) { return r.out + r.err; }

}  // namespace

TEST_CASE("a worker trains exactly its --only-cells, and refuses cells whose experiment changed since submission") {
  testing::TempDir dir;
  write_sweep(dir, kTwoByTwo);
  const Sweep s = load_sweep((dir.path() / "sweep.toml").string());
  const std::vector<ResolvedVariant> v = resolve_variants(s, s.variants);
  const std::string cells = "2:" + v[1].hash + ",4:" + v[3].hash;
  const CommandResult r = run_incept("sweep sweep.toml --db w.db --only-cells " + cells, dir.path().string());
  INFO(output(r));
  REQUIRE(r.status == 0);
  const std::vector<RunRecord> runs = RunStore::open_read_only((dir.path() / "w.db").string()).list_runs();
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].experiment_hash != runs[1].experiment_hash);
  for (const RunRecord& run : runs) CHECK((run.experiment_hash == v[1].hash || run.experiment_hash == v[3].hash));

  const CommandResult changed =
      run_incept("sweep sweep.toml --db w2.db --set train.epochs=2 --only-cells " + cells, dir.path().string());
  INFO(output(changed));
  CHECK(changed.status == 2);
  CHECK_THAT(changed.err, Catch::Contains("cell 2 (mix.out=4 seed=1) is now experiment"));
  CHECK_THAT(changed.err, Catch::Contains("submit the sweep again"));
  CHECK_FALSE(fs::exists(dir.path() / "w2.db"));

  const CommandResult outside = run_incept("sweep sweep.toml --db w3.db --only-cells 5", dir.path().string());
  CHECK(outside.status == 2);
  CHECK_THAT(outside.err, Catch::Contains("'5' is not a cell of this sweep (1 to 4)"));
}

TEST_CASE("a restarted worker takes back, at once, the runs and cells an earlier run of its task left") {
  store_test::TempDir dir;
  const std::string path = dir.file("worker-2.db");
  std::int64_t id = 0;
  {
    RunStore store = RunStore::open(path);
    SweepCell cell;
    cell.variant = "v";
    cell.seed = 1;
    cell.experiment_hash = "hash-a";
    store.register_sweep(SweepInfo{"sw", "", "sweep.toml"}, {cell});
    REQUIRE(store.claim_cell("sw", "v", 1, "token-of-the-dead-worker"));
    id = store.begin_run(store_test::sample_run("a", "hash-a", "sw"));
  }
  // The earlier run of the task was on another node, a moment ago: within its lease, so alive to everyone else.
  store_test::raw_exec(path, "UPDATE runs SET host = 'node7.invalid'");
  store_test::raw_exec(path, "UPDATE sweep_cells SET worker_host = 'node7.invalid'");
  {
    RunStore other = RunStore::open(path);
    CHECK(other.mark_stale_runs() == 0);
    CHECK_FALSE(other.claim_cell("sw", "v", 1, "someone-else"));
  }
  take_back_worker_log(path, "sw");
  RunStore store = RunStore::open(path);
  CHECK(store.get_run(id)->status == RunStatus::interrupted);
  CHECK(store.sweep_cells("sw").at(0).worker.empty());
  CHECK(store.claim_cell("sw", "v", 1, "the-restarted-worker"));
}
