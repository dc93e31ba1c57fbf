// Sweep throughput end to end, with the real binary on tiny synthetic networks: prefix reuse records each shorter
// run exactly as training it alone would (bitwise on the CPU), shares nothing under a cosine schedule, leaves every
// member truthful when interrupted, and its runs resume like any run; --jobs auto says what it picked and why, and
// records and reuses its calibration.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "experiments/store/run_store.h"
#include "tests/store/store_test_support.h"
#include "tests/sweep/interrupt_sweep.h"
#include "tests/sweep/sweep_runs.h"
#include "tests/sweep/sweep_test_support.h"

using namespace incept;
using incept::sweep_test::interrupt_sweep_when;
using incept::sweep_test::InterruptedSweep;
using incept::sweep_test::write_sweep;
using incept::sweep_test::runs_by_cell;
using incept::sweep_test::output;
using incept::sweep_test::db_in;
using incept::sweep_test::Cell;
using incept::testing::CommandResult;
using incept::testing::run_incept;
using incept::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const char* kEpochs = R"(name = "lengths"
base = "tiny.toml"
seeds = [0, 1]
[set]
"train.momentum" = 0.9
[grid]
"train.epochs" = [1, 2, 3]
)";



// Equal, NaN included (a diverged epoch's figures are NaN on both sides; the log stores NaN as NULL).
bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// Every recorded figure of a run, which must be equal bit for bit (times excepted).
void check_same_figures(const std::string& db_a, const RunRecord& a, const std::string& db_b, const RunRecord& b) {
  INFO("run " << a.id << " of " << db_a << " against run " << b.id << " of " << db_b);
  CHECK(a.status == b.status);
  CHECK(a.epochs_done == b.epochs_done);
  CHECK(a.epochs_planned == b.epochs_planned);
  CHECK(a.final_test_acc == b.final_test_acc);
  CHECK(a.best_test_acc == b.best_test_acc);
  CHECK(a.experiment_hash == b.experiment_hash);
  const std::vector<EpochRecord> ea = RunStore::open_read_only(db_a).epochs(a.id);
  const std::vector<EpochRecord> eb = RunStore::open_read_only(db_b).epochs(b.id);
  REQUIRE(ea.size() == eb.size());
  for (std::size_t i = 0; i < ea.size(); ++i) {
    INFO("epoch " << ea[i].epoch);
    CHECK(ea[i].epoch == eb[i].epoch);
    CHECK(same(ea[i].train_loss, eb[i].train_loss));
    CHECK(same(ea[i].train_acc, eb[i].train_acc));
    CHECK(same(ea[i].test_loss, eb[i].test_loss));
    CHECK(same(ea[i].test_acc, eb[i].test_acc));
    CHECK(same(ea[i].lr, eb[i].lr));
  }
}

// The identity header of a checkpoint file: "run_uid ...", "epochs_done ...".
std::string header_line(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  for (int i = 0; i < 8 && std::getline(in, line); ++i)
    if (line.rfind(key + " ", 0) == 0) return line.substr(key.size() + 1);
  return "";
}

}  // namespace

TEST_CASE("prefix reuse trains each group once and records every shorter run exactly as training it alone") {
  TempDir dir;
  write_sweep(dir, kEpochs);
  // The same threads on both sides (--jobs 2: cores / 2 each): the thread count changes float rounding.
  const CommandResult reused = run_incept("sweep sweep.toml --jobs 2 --db reused.db", dir.path().string());
  INFO(output(reused));
  REQUIRE(reused.status == 0);
  CHECK_THAT(reused.out, Catch::Contains("prefix reuse: 2 trainings answer them"));
  CHECK_THAT(reused.out, Catch::Contains("train epochs=3 seed=0, recording epochs=1 seed=0 at epoch 1, epochs=2 "
                                         "seed=0 at epoch 2 from it"));
  CHECK_THAT(reused.out, Catch::Contains("6 runs: 6 completed"));
  const CommandResult alone =
      run_incept("sweep sweep.toml --jobs 2 --no-prefix-reuse --db alone.db", dir.path().string());
  INFO(output(alone));
  REQUIRE(alone.status == 0);
  CHECK_THAT(alone.out, !Catch::Contains("recording"));

  const std::string a = db_in(dir, "reused.db"), b = db_in(dir, "alone.db");
  auto with = runs_by_cell(a), without = runs_by_cell(b);
  REQUIRE(with.size() == 6);
  REQUIRE(without.size() == 6);
  for (const auto& [cell, run] : with) {
    INFO(cell.first << " seed " << cell.second);
    check_same_figures(a, run, b, without.at(cell));
    // Its own run: own uid, own checkpoint at its own end, the leader named.
    const RunRecord& leader = with.at({"epochs=3", cell.second});
    CHECK(run.trained_with == (cell.first == "epochs=3" ? "" : leader.uid));
    CHECK(without.at(cell).trained_with.empty());
    REQUIRE(fs::exists(run.checkpoint.path));
    CHECK(header_line(run.checkpoint.path, "run_uid") == run.uid);
    CHECK(header_line(run.checkpoint.path, "config_hash") == run.config_hash);
    CHECK(run.checkpoint.epochs_done == run.epochs_planned);
    CHECK(header_line(run.checkpoint.path, "epochs_done") == std::to_string(run.epochs_planned));
    CHECK(run.train_seconds > 0);
  }
  const CommandResult show =
      run_incept("show " + std::to_string(with.at({"epochs=1", 0}).id) + " --db reused.db", dir.path().string());
  CHECK_THAT(show.out, Catch::Contains("trained with    run uid " + with.at({"epochs=3", 0}).uid));

  // A rerun finds them all done, as for runs trained alone.
  const CommandResult again = run_incept("sweep sweep.toml --jobs 2 --db reused.db", dir.path().string());
  INFO(output(again));
  CHECK_THAT(again.out, Catch::Contains("0 to train, 0 to resume, 6 done"));
}

TEST_CASE("under a cosine schedule runs of different lengths share nothing") {
  TempDir dir;
  write_sweep(dir, "name = \"cos\"\nbase = \"tiny.toml\"\n[set]\n\"train.schedule\" = \"cosine\"\n"
                   "[grid]\n\"train.epochs\" = [1, 2]\n");
  const CommandResult r = run_incept("sweep sweep.toml --jobs 2 --db runs.db", dir.path().string());
  INFO(output(r));
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, !Catch::Contains("recording") && !Catch::Contains("prefix reuse:"));
  auto runs = runs_by_cell(db_in(dir, "runs.db"));
  REQUIRE(runs.size() == 2);
  const RunRecord& one = runs.at({"epochs=1", 0});
  const RunRecord& two = runs.at({"epochs=2", 0});
  CHECK(one.trained_with.empty());
  CHECK(two.trained_with.empty());
  // The rate of the first epoch's last batch depends on the total under cosine: another computation.
  const RunStore store = RunStore::open_read_only(db_in(dir, "runs.db"));
  CHECK(store.epochs(one.id).at(0).lr != store.epochs(two.id).at(0).lr);
  CHECK(store.epochs(one.id).at(0).test_loss != store.epochs(two.id).at(0).test_loss);
}

TEST_CASE("an interrupted group leaves every member truthful, and its runs resume alone or together exactly") {
  // Epochs of about a second: the interrupt lands in the middle of the group's second epoch.
  const char* sweep = "name = \"stop\"\nbase = \"tiny.toml\"\n[set]\n\"data.synthetic_train\" = 3200\n"
                      "\"train.momentum\" = 0.9\n[grid]\n\"train.epochs\" = [1, 3, 4]\n";
  // Each run trained alone, once for both sections (Catch2 enters the test case once per section).
  static TempDir reference;
  static const CommandResult ref = [&] {
    write_sweep(reference, sweep);
    return run_incept("sweep sweep.toml --jobs 2 --no-prefix-reuse --db ref.db", reference.path().string());
  }();
  INFO(output(ref));
  REQUIRE(ref.status == 0);
  const std::string ref_db = db_in(reference, "ref.db");
  const auto expected = runs_by_cell(ref_db);

  // Starts the sweep on `db` and interrupts it once the 1-epoch member has completed; returns the runs then.
  const auto interrupt_after_first_member = [&](const TempDir& dir) {
    const std::string db = db_in(dir, "runs.db");
    const InterruptedSweep stopped = interrupt_sweep_when(
        {(dir.path() / "sweep.toml").string(), "--jobs", "2", "--db", db}, db, [](const std::vector<RunRecord>& runs) {
          for (const RunRecord& r : runs)
            if (r.epochs_planned == 1 && r.status == RunStatus::completed) return true;
          return false;
        });
    INFO(stopped.output);
    REQUIRE(stopped.interrupted);
    REQUIRE(stopped.status == 130);
    return runs_by_cell(db);
  };
  // What every member says after the interrupt.
  const auto check_truthful = [&](const std::map<std::pair<std::string, std::int64_t>, RunRecord>& runs,
                                  const std::string& db) {
    REQUIRE(runs.size() == 3);
    const RunRecord& one = runs.at({"epochs=1", 0});
    const RunRecord& three = runs.at({"epochs=3", 0});
    const RunRecord& four = runs.at({"epochs=4", 0});
    CHECK(one.status == RunStatus::completed);  // reached its end: completed, as trained alone
    check_same_figures(db, one, ref_db, expected.at({"epochs=1", 0}));
    REQUIRE(four.status == RunStatus::interrupted);
    REQUIRE(three.status == RunStatus::interrupted);  // not at its end yet: interrupted, with a checkpoint
    REQUIRE(three.checkpoint.epochs_done < 3);          // (the interrupt came before its end)
    CHECK(three.checkpoint.epochs_done == four.checkpoint.epochs_done);
    CHECK(three.checkpoint.next_batch == four.checkpoint.next_batch);
    CHECK(three.checkpoint.md5 == four.checkpoint.md5);  // the same state
    CHECK(three.checkpoint.path != four.checkpoint.path);
    CHECK(header_line(three.checkpoint.path, "run_uid") == three.uid);
    CHECK(three.epochs_done == four.epochs_done);
    CHECK_THAT(three.error, Catch::Contains("continue with: incept resume " + std::to_string(three.id)));
    CHECK(three.trained_with == four.uid);
    CHECK(one.trained_with == four.uid);
  };

  SECTION("a shorter member resumed on its own reaches what it would have alone; the sweep finishes the rest") {
    TempDir dir;
    write_sweep(dir, sweep);
    const auto stopped = interrupt_after_first_member(dir);
    const std::string db = db_in(dir, "runs.db");
    check_truthful(stopped, db);
    const RunRecord& three = stopped.at({"epochs=3", 0});
    const CommandResult resumed =
        run_incept("resume " + std::to_string(three.id) + " --db runs.db --quiet", dir.path().string());
    INFO(output(resumed));
    REQUIRE(resumed.status == 0);
    const CommandResult rest = run_incept("sweep sweep.toml --jobs 2 --db runs.db", dir.path().string());
    INFO(output(rest));
    REQUIRE(rest.status == 0);
    CHECK_THAT(rest.out, Catch::Contains("0 to train, 1 to resume, 2 done"));
    for (const auto& [cell, run] : runs_by_cell(db)) check_same_figures(db, run, ref_db, expected.at(cell));
  }
  SECTION("the sweep resumes the stopped members together, from the one state they share") {
    TempDir dir;
    write_sweep(dir, sweep);
    const auto stopped = interrupt_after_first_member(dir);
    const std::string db = db_in(dir, "runs.db");
    check_truthful(stopped, db);
    const CommandResult rest = run_incept("sweep sweep.toml --jobs 2 --db runs.db", dir.path().string());
    INFO(output(rest));
    REQUIRE(rest.status == 0);
    CHECK_THAT(rest.out, Catch::Contains(fmt::format("resume epochs=4 seed=0 (run {}), recording epochs=3 seed=0 at "
                                                     "epoch 3 (run {}) from it",
                                                     stopped.at({"epochs=4", 0}).id, stopped.at({"epochs=3", 0}).id)));
    for (const auto& [cell, run] : runs_by_cell(db)) check_same_figures(db, run, ref_db, expected.at(cell));
  }
}

TEST_CASE("a group that diverges ends each member as training it alone would: completed before, diverged after") {
  TempDir dir;
  // A rate no network survives: the loss overflows within the first epochs.
  write_sweep(dir, "name = \"boom\"\nbase = \"tiny.toml\"\n[set]\n\"train.lr\" = 1e5\n"
                   "[grid]\n\"train.epochs\" = [1, 3, 4]\n");
  const CommandResult r = run_incept("sweep sweep.toml --jobs 2 --db runs.db", dir.path().string());
  INFO(output(r));
  CHECK(r.status == 0);  // diverged is an outcome, not a failure of the sweep
  const CommandResult alone =
      run_incept("sweep sweep.toml --jobs 2 --no-prefix-reuse --db alone.db", dir.path().string());
  INFO(output(alone));
  const auto runs = runs_by_cell(db_in(dir, "runs.db"));
  const auto separate = runs_by_cell(db_in(dir, "alone.db"));
  REQUIRE(runs.size() == 3);
  const RunRecord& leader = runs.at({"epochs=4", 0});
  REQUIRE(leader.status == RunStatus::diverged);
  int diverged_members = 0;
  for (const auto& [cell, run] : runs) {
    INFO(cell.first);
    const RunRecord& own = separate.at(cell);
    check_same_figures(db_in(dir, "runs.db"), run, db_in(dir, "alone.db"), own);
    if (run.status != RunStatus::diverged) continue;
    // The same batch, the same words; a member adds whose training it was.
    CHECK_THAT(run.error, Catch::StartsWith(own.error));
    if (&run != &leader) {
      ++diverged_members;
      CHECK_THAT(run.error, Catch::Contains("trained with run " + std::to_string(leader.id)));
    }
  }
  CHECK(diverged_members >= 1);
}

TEST_CASE("jobs auto says what it picked and why, records its calibration and reuses it") {
  TempDir dir;
  write_sweep(dir, kEpochs);
  // Short: the rule, said.
  const CommandResult dry = run_incept("sweep sweep.toml --dry-run --no-prefix-reuse --db runs.db", dir.path().string());
  INFO(output(dry));
  REQUIRE(dry.status == 0);
  CHECK_THAT(dry.out, Catch::Contains("--jobs auto: ") && Catch::Contains("does not repay a calibration"));
  CHECK_THAT(dry.out, !Catch::Contains("recorded at its epoch"));  // no prefix reuse asked

  // Measured on request, with short probes.
  ::setenv("INCEPT_CALIBRATION_SECONDS", "0.2", 1);
  const CommandResult measured = run_incept("sweep sweep.toml --calibrate --db runs.db", dir.path().string());
  ::unsetenv("INCEPT_CALIBRATION_SECONDS");
  INFO(output(measured));
  REQUIRE(measured.status == 0);
  CHECK_THAT(measured.out, Catch::Contains("calibrating --jobs auto: 1 training of tiny at once"));
  CHECK_THAT(measured.out, Catch::Contains("calibrated now (recorded in the log) with tiny on"));
  CHECK_THAT(measured.out, Catch::Contains("2 trainings estimated: "));
  const std::string db = db_in(dir, "runs.db");
  CHECK(store_test::raw_query_int(db, "SELECT count(*) FROM calibrations WHERE images_per_s > 0 AND peak_rss > 0") >=
        1);
  CHECK(store_test::raw_query_int(db, "SELECT count(DISTINCT uid) FROM calibrations") == 1);

  // The next sweep of the network on this host (other seeds, other lengths) reuses it; a dry run shows it.
  dir.write("more.toml", "name = \"more\"\nbase = \"tiny.toml\"\nseeds = [5, 6]\n[set]\n\"train.momentum\" = 0.9\n"
                         "\"train.epochs\" = 7\n");
  const CommandResult same = run_incept("sweep more.toml --dry-run --db runs.db", dir.path().string());
  INFO(output(same));
  CHECK_THAT(same.out, Catch::Contains("measured earlier (recorded in the log) for tiny on"));
  const CommandResult other =
      run_incept("sweep more.toml --dry-run --set train.lr=0.05 --db runs.db", dir.path().string());
  INFO(output(other));
  CHECK_THAT(other.out, Catch::Contains("does not repay a calibration"));  // another recipe: another workload

  // An explicit number is kept as given.
  const CommandResult two = run_incept("sweep sweep.toml --dry-run --jobs 2 --db runs.db", dir.path().string());
  CHECK_THAT(two.out, Catch::Contains("--jobs 2: 2 at once"));
}
