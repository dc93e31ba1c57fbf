// `incept sweep` end to end, with the real binary training tiny synthetic networks (each well under a second).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "experiments/store/run_store.h"
#include "experiments/sweep/child_process.h"
#include "framework/text.h"
#include "tests/sweep/sweep_test_support.h"

using namespace incept;
using incept::sweep_test::write_sweep;
using incept::testing::run_incept;
using incept::testing::TempDir;

namespace {

// Two variants x two seeds.
const char* kTwoByTwo = R"(name = "tiny-sweep"
base = "tiny.toml"
seeds = [0, 1]
[grid]
"model.mix.out" = [4, 6]
)";

std::vector<RunRecord> runs_in(const TempDir& tmp, const std::string& db) {
  return RunStore::open_read_only((tmp.path() / db).string()).list_runs();
}

std::set<std::pair<std::string, std::int64_t>> variants_and_seeds(const std::vector<RunRecord>& runs) {
  std::set<std::pair<std::string, std::int64_t>> out;
  for (const RunRecord& r : runs) out.emplace(r.variant, r.seed);
  return out;
}

std::string output(const testing::CommandResult& r) { return r.out + r.err; }

}  // namespace

TEST_CASE("a dry run lists every variant with its params and MACs and trains nothing") {
  TempDir tmp;
  write_sweep(tmp, kTwoByTwo);
  Sweep s = load_sweep((tmp.path() / "sweep.toml").string());
  std::vector<ResolvedVariant> resolved = resolve_variants(s, s.variants);
  auto r = run_incept("sweep sweep.toml --dry-run --db runs.db", tmp.path().string());
  INFO(output(r));
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("sweep tiny-sweep: 2 variants x 2 seeds = 4 runs"));
  CHECK_THAT(r.out, Catch::Contains("dry run"));
  for (const ResolvedVariant& v : resolved) {
    CHECK_THAT(r.out, Catch::Contains(v.variant.name));
    CHECK_THAT(r.out, Catch::Contains(with_commas(v.params)));
    CHECK_THAT(r.out, Catch::Contains(human_count(static_cast<double>(v.macs))));
  }
  CHECK(resolved[0].params != resolved[2].params);
  CHECK_FALSE(std::filesystem::exists(tmp.path() / "runs.db"));
}

TEST_CASE("a sweep records every run with its sweep and variant, and running it again skips them all") {
  TempDir tmp;
  write_sweep(tmp, kTwoByTwo);
  auto first = run_incept("sweep sweep.toml --jobs 2 --db runs.db", tmp.path().string());
  INFO(output(first));
  REQUIRE(first.status == 0);
  std::vector<RunRecord> runs = runs_in(tmp, "runs.db");
  REQUIRE(runs.size() == 4);
  for (const RunRecord& r : runs) {
    CHECK(r.status == RunStatus::completed);
    CHECK(r.sweep == "tiny-sweep");
    CHECK(r.final_test_acc);
  }
  CHECK(variants_and_seeds(runs) == std::set<std::pair<std::string, std::int64_t>>{
                                        {"mix.out=4", 0}, {"mix.out=4", 1}, {"mix.out=6", 0}, {"mix.out=6", 1}});
  CHECK_THAT(first.out, Catch::Contains("2 at once"));
  CHECK_THAT(first.out, Catch::Contains("4 runs: 4 completed"));
  CHECK_THAT(first.out, Catch::Contains("[mix.out=6 seed=1] run "));  // the children's output, prefixed

  auto again = run_incept("sweep sweep.toml --jobs 2 --db runs.db", tmp.path().string());
  INFO(output(again));
  CHECK(again.status == 0);
  CHECK_THAT(again.out, Catch::Contains("0 to train, 0 to resume, 4 done"));
  CHECK(runs_in(tmp, "runs.db").size() == 4);

  // An interrupted run (with its checkpoint) is resumed, not trained again.
  {
    // Forged behind the store's back: a completed run cannot be claimed, which is the point of claims.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((tmp.path() / "runs.db").c_str(), &db) == SQLITE_OK);
    const std::string sql = "UPDATE runs SET status = 'interrupted' WHERE id = " + std::to_string(runs[2].id);
    CHECK(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto resumed = run_incept("sweep sweep.toml --jobs 2 --db runs.db", tmp.path().string());
  INFO(output(resumed));
  CHECK(resumed.status == 0);
  CHECK_THAT(resumed.out, Catch::Contains("0 to train, 1 to resume, 3 done"));
  std::vector<RunRecord> after = runs_in(tmp, "runs.db");
  CHECK(after.size() == 4);
  CHECK(after[2].status == RunStatus::completed);
}

TEST_CASE("shards split the variants exactly and their databases merge into the whole sweep") {
  TempDir tmp;
  write_sweep(tmp, kTwoByTwo);
  // --jobs 2 (one thread each) keeps these tiny trainings fast on a busy machine.
  auto one = run_incept("sweep sweep.toml --shard 1/2 --jobs 2 --db runs.db", tmp.path().string());
  INFO(output(one));
  REQUIRE(one.status == 0);
  CHECK_THAT(one.out, Catch::Contains("shard 1/2: 2 of them"));
  auto two = run_incept("sweep sweep.toml --shard 2/2 --jobs 2 --db runs.db", tmp.path().string());
  INFO(output(two));
  REQUIRE(two.status == 0);
  CHECK_FALSE(std::filesystem::exists(tmp.path() / "runs.db"));
  auto first = variants_and_seeds(runs_in(tmp, "runs.shard-1-of-2.db"));
  auto second = variants_and_seeds(runs_in(tmp, "runs.shard-2-of-2.db"));
  // Variant i of the ordered list goes to shard (i % 2) + 1; seeds turn fastest.
  CHECK(first == std::set<std::pair<std::string, std::int64_t>>{{"mix.out=4", 0}, {"mix.out=6", 0}});
  CHECK(second == std::set<std::pair<std::string, std::int64_t>>{{"mix.out=4", 1}, {"mix.out=6", 1}});

  auto merged = run_incept("db merge all.db runs.shard-1-of-2.db runs.shard-2-of-2.db", tmp.path().string());
  INFO(output(merged));
  REQUIRE(merged.status == 0);
  CHECK(runs_in(tmp, "all.db").size() == 4);
  // The merged log knows the whole sweep is done.
  auto rerun = run_incept("sweep sweep.toml --db all.db --dry-run", tmp.path().string());
  CHECK(std::count(rerun.out.begin(), rerun.out.end(), '\n') > 0);
  CHECK_THAT(rerun.out, !Catch::Contains(" train\n"));
}

TEST_CASE("a failing variant does not stop the others, unless --fail-fast") {
  TempDir tmp;
  // `broken` reads MNIST from a folder that does not exist: an error only training finds, before its run exists.
  write_sweep(tmp, R"(name = "with-failure"
base = "tiny.toml"
[variants.broken]
"data.dataset" = "mnist"
"data.dir" = "no-such-data"
"model.input" = [1, 28, 28]
[variants.fine]
)");
  // One training at a time: nothing starts after the failure.
  auto fast = run_incept("sweep sweep.toml --db fast.db --fail-fast --jobs 1", tmp.path().string());
  INFO(output(fast));
  CHECK(fast.status == 1);
  CHECK_THAT(fast.out, Catch::Contains("[broken seed=0] error:"));
  CHECK_THAT(fast.out, Catch::Contains("no-such-data"));
  CHECK_THAT(fast.out, Catch::Contains("--fail-fast"));
  CHECK_THAT(fast.out, Catch::Contains("not run"));
  CHECK(runs_in(tmp, "fast.db").empty());

  auto on = run_incept("sweep sweep.toml --db on.db --jobs 2", tmp.path().string());
  INFO(output(on));
  CHECK(on.status == 1);
  std::vector<RunRecord> runs = runs_in(tmp, "on.db");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].variant == "fine");
  CHECK(runs[0].status == RunStatus::completed);
  CHECK_THAT(on.out, Catch::Contains("2 runs: 1 failed, 1 completed"));

  // The sweep's report shows the variant that failed before a run existed, with its error.
  auto report = run_incept("report --sweep with-failure --db on.db", tmp.path().string());
  INFO(output(report));
  CHECK(report.status == 0);
  CHECK_THAT(report.out, Catch::Contains("| broken |") && Catch::Contains("1 failed"));
  CHECK_THAT(report.out, Catch::Contains("before any run existed: ") && Catch::Contains("no-such-data"));

  // The failed variant is tried again; the completed one is not.
  auto again = run_incept("sweep sweep.toml --db on.db", tmp.path().string());
  CHECK(again.status == 1);
  CHECK_THAT(again.out, Catch::Contains("1 to train, 0 to resume, 1 done"));
}

TEST_CASE("a variant whose model does not fit its data is found before anything trains, dry run included") {
  TempDir tmp;
  write_sweep(tmp, R"(name = "mismatch"
base = "tiny.toml"
[variants.broken]
"model.head.out" = 5
[variants.fine]
)");
  for (const char* args : {"sweep sweep.toml --db runs.db --dry-run", "sweep sweep.toml --db runs.db"}) {
    auto r = run_incept(args, tmp.path().string());
    INFO(output(r));
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains("sweep.toml:3:") && Catch::Contains("variant 'broken'") &&
                          Catch::Contains("the model outputs 5 but dataset 'synthetic' has 10 classes"));
  }
  CHECK_FALSE(std::filesystem::exists(tmp.path() / "runs.db"));
}

TEST_CASE("sweep file errors exit with status 2 and file:line:col") {
  TempDir tmp;
  write_sweep(tmp, "base = \"tiny.toml\"\nseed = [1]\n");
  auto r = run_incept("sweep sweep.toml", tmp.path().string());
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("sweep.toml:2:1: error: unknown key 'seed' at the top level; did you mean "
                                    "'seeds'?"));
  auto shard = run_incept("sweep sweep.toml --shard 3/2", tmp.path().string());
  CHECK(shard.status == 2);
}

TEST_CASE("Ctrl-C reaches the trainings, which checkpoint, and the sweep exits 130") {
  TempDir tmp;
  // Thousands of epochs: still training when the signal comes.
  write_sweep(tmp, "name = \"long\"\nbase = \"tiny.toml\"\n[set]\n\"train.epochs\" = 100000\n");
  std::string db = (tmp.path() / "runs.db").string();
  ChildProcess sweep = ChildProcess::start(
      {INCEPT_BINARY, "sweep", (tmp.path() / "sweep.toml").string(), "--db", db});
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool training = false;
  while (!training && std::chrono::steady_clock::now() < deadline && !sweep.exit_status()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (const auto& line : sweep.read_lines()) out += line + "\n";
    if (std::filesystem::exists(db)) {
      try {
        for (const RunRecord& r : RunStore::open_read_only(db).list_runs()) training = training || r.epochs_done > 0;
      } catch (const UserError&) {
        // the sweep is still creating the log's schema
      }
    }
  }
  INFO(out);
  REQUIRE(training);
  sweep.send_signal(SIGINT);
  std::optional<int> status;
  while (!(status = sweep.exit_status()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (const auto& line : sweep.read_lines()) out += line + "\n";
  }
  for (const auto& line : sweep.read_lines()) out += line + "\n";
  INFO(out);
  REQUIRE(status);
  CHECK(*status == 130);
  std::vector<RunRecord> runs = RunStore::open_read_only(db).list_runs();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].status == RunStatus::interrupted);
  CHECK_FALSE(runs[0].checkpoint.path.empty());
  CHECK_THAT(out, Catch::Contains("waiting for 1 running training(s) to checkpoint"));
  CHECK_THAT(out, Catch::Contains("1 run: 1 interrupted"));
}
