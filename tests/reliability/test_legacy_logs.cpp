// Logs and checkpoints written before run identity (schema 2: no run uids, checkpoints without a header) keep
// working: the first writing command upgrades the log in place, and an interrupted run resumes from its old
// checkpoint to exactly the figures of an uninterrupted run.
#include <catch2/catch.hpp>

#include <csignal>

#include "experiments/store/run_store.h"
#include "framework/diagnostics.h"
#include "tests/reliability/reliability_support.h"

using namespace incept;
using namespace incept::reliability;

namespace {

// Turns a schema-3 log back into what schema 2 wrote: the columns and tables of migration 3 dropped.
void downgrade_to_schema_2(const std::string& db) {
  sql_exec(db, R"sql(
ALTER TABLE runs DROP COLUMN trained_with;
ALTER TABLE runs DROP COLUMN packed_with;
ALTER TABLE runs DROP COLUMN pack_size;
ALTER TABLE runs DROP COLUMN cuda_graph;
DROP TABLE calibrations;
DROP INDEX runs_by_uid;
DROP INDEX runs_by_experiment;
ALTER TABLE runs DROP COLUMN uid;
ALTER TABLE runs DROP COLUMN experiment_hash;
ALTER TABLE runs DROP COLUMN owner;
ALTER TABLE runs DROP COLUMN process_start;
ALTER TABLE runs DROP COLUMN claimed_at;
ALTER TABLE runs DROP COLUMN checkpoint_epoch;
ALTER TABLE runs DROP COLUMN checkpoint_batch;
ALTER TABLE runs DROP COLUMN checkpoint_md5;
DROP TABLE sweeps;
DROP TABLE sweep_cells;
DROP TABLE sweep_members;
PRAGMA user_version = 2;
)sql");
}

// A checkpoint as schema 2 wrote it: LibTorch's archive alone, at the old name <db stem>-run-<id>.pt.
std::string legacy_checkpoint_from(const std::string& checkpoint, const fs::path& dir) {
  const std::string bytes = slurp(checkpoint);
  const std::size_t payload = bytes.find("\n\n");
  REQUIRE(bytes.rfind("INCEPT-CHECKPOINT 1\n", 0) == 0);
  REQUIRE(payload != std::string::npos);
  const std::string legacy = (dir / "old-run-1.pt").string();
  std::ofstream(legacy, std::ios::binary) << bytes.substr(payload + 2);
  fs::remove(checkpoint);
  return legacy;
}

}  // namespace

TEST_CASE("a schema-2 log is upgraded in place and its interrupted run resumes from its old checkpoint",
          "[reliability][identity][legacy]") {
  TempDir tmp;
  const std::string config = tmp.write("tiny.toml", kTinyConfig);
  const std::vector<std::string> longer = {"--set", "train.epochs=4", "--set", "data.synthetic_train=8192"};
  auto train_args = [&](const std::string& db) {
    std::vector<std::string> a = {"train", config, "--quiet", "--db", db};
    a.insert(a.end(), longer.begin(), longer.end());
    return a;
  };
  const std::string db = (tmp.path() / "old.db").string(), ref = (tmp.path() / "ref.db").string();
  InceptProcess reference(train_args(ref), tmp.path(), tmp.path(), "ref");
  InceptProcess victim(train_args(db), tmp.path(), tmp.path(), "victim");
  REQUIRE(wait_until([&] { return sql_text(db, "SELECT count(*) FROM epochs") == "1"; }, 60));
  victim.kill(SIGINT);
  REQUIRE(victim.wait() == 130);
  REQUIRE(sql_text(db, "SELECT status FROM runs WHERE id = 1") == "interrupted");
  const std::string epochs_before = sql_text(db, "SELECT count(*) FROM epochs WHERE run_id = 1");
  REQUIRE(epochs_before != "4");

  const std::string legacy = legacy_checkpoint_from(sql_text(db, "SELECT checkpoint_path FROM runs WHERE id = 1"),
                                                    tmp.path() / "checkpoints");
  downgrade_to_schema_2(db);
  sql_exec(db, "UPDATE runs SET checkpoint_path = '" + legacy + "'");
  REQUIRE(sql_text(db, "PRAGMA user_version") == "2");

  const CommandResult resumed = run_incept({"resume", "1", "--quiet", "--db", db}, tmp.path());
  INFO("resume stderr: " << resumed.err);
  REQUIRE(resumed.status == 0);
  REQUIRE(reference.wait() == 0);
  CHECK(sql_text(db, "PRAGMA user_version") == "5");
  CHECK(sql_text(db, "SELECT length(uid) FROM runs WHERE id = 1") == "32");
  CHECK(sql_text(db, "SELECT status FROM runs WHERE id = 1") == "completed");
  for (int epoch = 1; epoch <= 4; ++epoch) {
    INFO("epoch " << epoch);
    const std::string where = " FROM epochs WHERE run_id = 1 AND epoch = " + std::to_string(epoch);
    CHECK(sql_text(db, "SELECT train_loss" + where) == sql_text(ref, "SELECT train_loss" + where));
    CHECK(sql_text(db, "SELECT test_acc" + where) == sql_text(ref, "SELECT test_acc" + where));
  }
  // The old checkpoint made way for one with an identity header, recorded with its checksum.
  CHECK_FALSE(fs::exists(legacy));
  CHECK(sql_text(db, "SELECT length(checkpoint_md5) FROM runs WHERE id = 1") == "32");
  CHECK(integrity_check(db) == "ok");
}

TEST_CASE("a headerless checkpoint where the log expects one is refused", "[reliability][identity][legacy]") {
  TempDir tmp;
  const std::string config = tmp.write("tiny.toml", kTinyConfig);
  const std::string db = (tmp.path() / "runs.db").string();
  InceptProcess victim({"train", config, "--quiet", "--db", db, "--set", "train.epochs=4", "--set",
                        "data.synthetic_train=8192"},
                       tmp.path(), tmp.path(), "victim");
  REQUIRE(wait_until([&] { return sql_text(db, "SELECT count(*) FROM epochs") == "1"; }, 60));
  victim.kill(SIGINT);
  REQUIRE(victim.wait() == 130);
  const std::string checkpoint = sql_text(db, "SELECT checkpoint_path FROM runs WHERE id = 1");
  const std::string legacy = legacy_checkpoint_from(checkpoint, tmp.path());
  fs::rename(legacy, checkpoint);  // the header stripped, where the log expects a checkpoint with one
  const std::string before = sql_text(db, "SELECT status || ' ' || error || ' ' || heartbeat_at FROM runs");

  const CommandResult r = run_incept({"resume", "1", "--quiet", "--db", db}, tmp.path());
  CHECK(r.status == 1);
  CHECK(contains(r.err, "error: checkpoint " + checkpoint + ": is not an incept checkpoint with an identity header"));
  CHECK_FALSE(looks_like_a_crash(r.err));
  CHECK(sql_text(db, "SELECT status || ' ' || error || ' ' || heartbeat_at FROM runs") == before);
}
