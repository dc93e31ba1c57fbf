// Packing end to end, with the real binary on tiny synthetic networks (on the CPU, where `--pack N` asks for it):
// cells that share a network train as one packed network and each is recorded as its own run — its figures those
// of training it alone up to float rounding, its checkpoints its own; a member that diverges is recorded diverged
// while the others finish; an interrupted pack leaves every member resumable.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "experiments/store/run_store.h"
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



// The run's uid as its checkpoint file's header names it.
std::string checkpoint_owner(const std::string& path) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line) && !line.empty();)
    if (line.rfind("run_uid ", 0) == 0) return line.substr(8);
  return "";
}

// A packed member's figures against the same cell trained alone: the same epochs and learning rates exactly, the
// losses to float rounding (a grouped convolution sums in another order; a few epochs of momentum SGD amplify it to
// about 1e-4 on these tiny networks), the accuracies to a test image or two.
void check_close_figures(const std::string& db_a, const RunRecord& a, const std::string& db_b, const RunRecord& b,
                         std::int64_t test_images) {
  INFO("run " << a.id << " of " << db_a << " against run " << b.id << " of " << db_b);
  CHECK(a.status == b.status);
  CHECK(a.experiment_hash == b.experiment_hash);
  const std::vector<EpochRecord> ea = RunStore::open_read_only(db_a).epochs(a.id);
  const std::vector<EpochRecord> eb = RunStore::open_read_only(db_b).epochs(b.id);
  REQUIRE(ea.size() == eb.size());
  for (std::size_t i = 0; i < ea.size(); ++i) {
    INFO("epoch " << ea[i].epoch << ": train loss " << ea[i].train_loss << " vs " << eb[i].train_loss
                  << ", test loss " << ea[i].test_loss << " vs " << eb[i].test_loss);
    CHECK(ea[i].lr == eb[i].lr);
    CHECK(std::abs(ea[i].train_loss - eb[i].train_loss) <= 1e-3 * std::max(1.0, std::abs(eb[i].train_loss)));
    CHECK(std::abs(ea[i].test_loss - eb[i].test_loss) <= 1e-3 * std::max(1.0, std::abs(eb[i].test_loss)));
    CHECK(std::abs(ea[i].test_acc - eb[i].test_acc) <= 2.0 / static_cast<double>(test_images) + 1e-12);
  }
}

std::string without_nan_sign(std::string text) {
  for (std::size_t at; (at = text.find("-nan")) != std::string::npos;) text.erase(at, 1);
  return text;
}

const char* kSeedsAndRates = R"(name = "packs"
base = "tiny.toml"
seeds = [0, 1, 2]
[set]
"train.momentum" = 0.9
"train.epochs" = 2
[grid]
"train.lr" = [0.1, 0.05]
)";

}  // namespace

TEST_CASE("a packed sweep records every cell as its own run, as training it alone would up to float rounding") {
  TempDir dir;
  write_sweep(dir, kSeedsAndRates);
  const CommandResult packed = run_incept("sweep sweep.toml --pack 4 --jobs 1 --db packed.db", dir.path().string());
  INFO(output(packed));
  REQUIRE(packed.status == 0);
  // Six cells in packs of at most four: one of four, one of two.
  CHECK_THAT(packed.out, Catch::Contains("--pack 4: up to 4 cells") && Catch::Contains("4 trainings as one network") &&
                             Catch::Contains("2 trainings as one network"));
  const CommandResult alone = run_incept("sweep sweep.toml --pack 1 --jobs 1 --db alone.db", dir.path().string());
  INFO(output(alone));
  REQUIRE(alone.status == 0);
  CHECK_THAT(alone.out, !Catch::Contains("as one network"));

  const auto runs = runs_by_cell(db_in(dir, "packed.db"));
  const auto separate = runs_by_cell(db_in(dir, "alone.db"));
  REQUIRE(runs.size() == 6);
  std::set<std::string> uids, checkpoints;
  std::map<std::string, int> pack_sizes;  // pack -> members, as the log records them
  for (const auto& [cell, run] : runs) {
    INFO(cell.first << " seed " << cell.second);
    CHECK(run.status == RunStatus::completed);
    REQUIRE(!run.packed_with.empty());
    ++pack_sizes[run.packed_with];
    CHECK(!run.cuda_graph);
    CHECK(separate.at(cell).packed_with.empty());  // trained alone
    CHECK(separate.at(cell).pack_size == 0);
    CHECK(run.epochs_done == 2);
    CHECK(run.trained_with.empty());  // its own computation, not recorded from another's
    uids.insert(run.uid);
    checkpoints.insert(run.checkpoint.path);
    REQUIRE(fs::exists(run.checkpoint.path));
    CHECK(checkpoint_owner(run.checkpoint.path) == run.uid);
    check_close_figures(db_in(dir, "packed.db"), run, db_in(dir, "alone.db"), separate.at(cell), 32);
  }
  CHECK(uids.size() == 6);
  CHECK(checkpoints.size() == 6);
  // One pack of four named by its first run, one of two.
  REQUIRE(pack_sizes.size() == 2);
  for (const auto& [pack, members] : pack_sizes) {
    CHECK(uids.count(pack) == 1);
    for (const auto& [cell, run] : runs)
      if (run.packed_with == pack) CHECK(run.pack_size == members);
  }
  const CommandResult show = run_incept(fmt::format("show {} --db packed.db", runs.begin()->second.id),
                                        dir.path().string());
  CHECK_THAT(show.out, Catch::Contains("trained as one packed network"));
  // A rerun finds every cell done.
  const CommandResult again = run_incept("sweep sweep.toml --pack 4 --jobs 1 --db packed.db", dir.path().string());
  INFO(output(again));
  CHECK(again.status == 0);
  CHECK_THAT(again.out, Catch::Contains("0 to train, 0 to resume, 6 done"));
}

TEST_CASE("a packed member that diverges is recorded diverged at its batch while the others finish as alone") {
  TempDir dir;
  // A rate no network survives next to one that trains: both in one pack.
  write_sweep(dir, "name = \"boom\"\nbase = \"tiny.toml\"\nseeds = [0, 1]\n[set]\n\"train.epochs\" = 2\n"
                   "[grid]\n\"train.lr\" = [0.1, 1e5]\n");
  const CommandResult packed = run_incept("sweep sweep.toml --pack 4 --jobs 1 --db packed.db", dir.path().string());
  INFO(output(packed));
  CHECK(packed.status == 0);  // diverged is an outcome, not a failure of the sweep
  CHECK_THAT(packed.out, Catch::Contains("4 trainings as one network"));
  const CommandResult alone = run_incept("sweep sweep.toml --pack 1 --jobs 1 --db alone.db", dir.path().string());
  INFO(output(alone));
  const auto runs = runs_by_cell(db_in(dir, "packed.db"));
  const auto separate = runs_by_cell(db_in(dir, "alone.db"));
  REQUIRE(runs.size() == 4);
  for (const auto& [cell, run] : runs) {
    INFO(cell.first << " seed " << cell.second << ": " << run.error);
    const RunRecord& own = separate.at(cell);
    if (cell.first == "lr=100000.0") {
      REQUIRE(run.status == RunStatus::diverged);
      CHECK(own.status == RunStatus::diverged);
      // The same batch, the same words (NaN's sign aside, which the arithmetic that made it decides).
      CHECK(without_nan_sign(run.error) == without_nan_sign(own.error));
    } else {
      check_close_figures(db_in(dir, "packed.db"), run, db_in(dir, "alone.db"), own, 32);
    }
  }
}

TEST_CASE("an interrupted pack checkpoints every member, and the sweep resumes them as one pack, bit for bit") {
  TempDir dir;
  // Epochs of about a second: the interrupt lands in the pack's second or third epoch.
  write_sweep(dir, "name = \"stop\"\nbase = \"tiny.toml\"\nseeds = [0, 1, 2]\n[set]\n"
                   "\"data.synthetic_train\" = 3200\n\"train.momentum\" = 0.9\n\"train.epochs\" = 4\n");
  const std::string db = db_in(dir, "runs.db");
  const InterruptedSweep interrupted = interrupt_sweep_when(
      {(dir.path() / "sweep.toml").string(), "--pack", "3", "--jobs", "1", "--db", db}, db,
      [](const std::vector<RunRecord>& runs) {
        for (const RunRecord& r : runs)
          if (r.epochs_done >= 1) return true;
        return false;
      });
  INFO(interrupted.output);
  REQUIRE(interrupted.interrupted);
  REQUIRE(interrupted.status == 130);
  const auto stopped = runs_by_cell(db);
  REQUIRE(stopped.size() == 3);
  std::set<std::string> states;
  for (const auto& [cell, run] : stopped) {
    INFO("seed " << cell.second << ": " << run.error);
    REQUIRE(run.status == RunStatus::interrupted);
    CHECK_THAT(run.error, Catch::Contains("continue with: incept resume " + std::to_string(run.id)));
    REQUIRE(fs::exists(run.checkpoint.path));
    CHECK(checkpoint_owner(run.checkpoint.path) == run.uid);
    CHECK(run.checkpoint.epochs_done == stopped.begin()->second.checkpoint.epochs_done);  // one position for all
    states.insert(run.checkpoint.md5);
  }
  CHECK(states.size() == 3);  // three different networks, each its own checkpoint

  // What the pack recorded before the interrupt is what the uninterrupted pack records: the same computation.
  const CommandResult whole = run_incept("sweep sweep.toml --pack 3 --jobs 1 --db whole.db", dir.path().string());
  INFO(output(whole));
  REQUIRE(whole.status == 0);
  const auto reference = runs_by_cell(db_in(dir, "whole.db"));
  for (const auto& [cell, run] : stopped) {
    const std::vector<EpochRecord> got = RunStore::open_read_only(db).epochs(run.id);
    const std::vector<EpochRecord> want = RunStore::open_read_only(db_in(dir, "whole.db")).epochs(reference.at(cell).id);
    REQUIRE(got.size() <= want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      INFO("seed " << cell.second << " epoch " << got[i].epoch);
      CHECK(got[i].train_loss == want[i].train_loss);
      CHECK(got[i].test_loss == want[i].test_loss);
      CHECK(got[i].test_acc == want[i].test_acc);
    }
  }

  // A member's checkpoint is an ordinary one: `incept resume` continues it alone.
  const RunRecord& third = stopped.at({"base", 2});
  const CommandResult alone =
      run_incept(fmt::format("resume {} --db runs.db --quiet", third.id), dir.path().string());
  INFO(output(alone));
  REQUIRE(alone.status == 0);
  // The rerun resumes the other two as one pack, each from its own checkpoint: it continues exactly as the
  // uninterrupted pack did, bit for bit.
  const CommandResult rest = run_incept("sweep sweep.toml --pack 3 --jobs 1 --db runs.db", dir.path().string());
  INFO(output(rest));
  REQUIRE(rest.status == 0);
  CHECK_THAT(rest.out, Catch::Contains("0 to train, 2 to resume, 1 done") &&
                           Catch::Contains("2 trainings as one network"));
  for (const auto& [cell, run] : runs_by_cell(db)) {
    INFO("seed " << cell.second);
    CHECK(run.status == RunStatus::completed);
    CHECK(run.epochs_done == 4);
    if (cell.second == 2) continue;  // resumed alone: unpacked kernels from its checkpoint on
    CHECK(run.uid == stopped.at(cell).uid);
    const std::vector<EpochRecord> got = RunStore::open_read_only(db).epochs(run.id);
    const std::vector<EpochRecord> want = RunStore::open_read_only(db_in(dir, "whole.db")).epochs(reference.at(cell).id);
    REQUIRE(got.size() == 4);
    REQUIRE(want.size() == 4);
    for (std::size_t i = 0; i < got.size(); ++i) {
      INFO("epoch " << got[i].epoch);
      CHECK(got[i].train_loss == want[i].train_loss);
      CHECK(got[i].train_acc == want[i].train_acc);
      CHECK(got[i].test_loss == want[i].test_loss);
      CHECK(got[i].test_acc == want[i].test_acc);
      CHECK(got[i].lr == want[i].lr);
    }
  }
}

TEST_CASE("runs that do not share their network are refused as a pack, before anything is recorded") {
  TempDir dir;
  write_sweep(dir, kSeedsAndRates);
  // A member whose network is wider.
  std::string wider = sweep_test::kTinyConfig;
  wider.replace(wider.find("out = 4\nkernel = 3"), 7, "out = 6");
  const std::string other = dir.write("wider.toml", wider);
  dir.write("pack.toml", fmt::format("[[member]]\nconfig = \"{}\"\nvariant = \"wider\"\n", other));
  const CommandResult r = run_incept("train tiny.toml --pack-with pack.toml --db runs.db", dir.path().string());
  INFO(output(r));
  CHECK(r.status != 0);
  CHECK_THAT(r.err, Catch::Contains("cannot train in one pack with") && Catch::Contains("the network"));
  CHECK_THAT(r.err, !Catch::Contains("frame #"));
  CHECK(!fs::exists(db_in(dir, "runs.db")));
}
