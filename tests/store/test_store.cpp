// The experiment log as training processes and reports use it: what is written reads back, updates are
// atomic, several processes can share one file, and every environment problem is a UserError naming the file.
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include "experiments/config/experiment_identity.h"
#include "experiments/store/run_store.h"
#include "experiments/store/sqlite_db.h"
#include "framework/diagnostics.h"
#include "tests/store/store_test_support.h"
#include "tests/support/skip.h"

using namespace incept;
using namespace incept::store_test;
using Catch::Matchers::Contains;

namespace {

constexpr int kSchemaVersion = 5;  // bump together with the migrations list

bool is_utc_timestamp(const std::string& s) {
  return std::regex_match(s, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"));
}

// Root ignores file permissions, so permission tests run the attempt in a child process that has dropped
// to user 'nobody'. Returns the UserError message ("" if none was thrown), or nullopt when privileges
// cannot be dropped here (permissions_apply_here() says so beforehand) or the child died.
std::optional<std::string> user_error_without_privileges(const std::function<void()>& attempt) {
  const auto run = [&]() -> std::string {
    try {
      attempt();
      return "";
    } catch (const UserError& e) {
      return e.what();
    } catch (const std::exception& e) {
      return std::string("not a UserError: ") + e.what();
    }
  };
  if (::geteuid() != 0) return run();

  int fds[2];
  if (::pipe(fds) != 0) return std::nullopt;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const bool dropped = ::setgid(65534) == 0 && ::setuid(65534) == 0;
    const std::string msg = dropped ? "=" + run() : "!";
    (void)!::write(fds[1], msg.data(), msg.size());
    ::_exit(0);  // no Catch2 teardown in the child
  }
  ::close(fds[1]);
  std::string msg;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) msg.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  ::waitpid(pid, nullptr, 0);
  if (msg.empty() || msg[0] != '=') return std::nullopt;
  return msg.substr(1);
}

// Whether file permissions can be tested here: as a normal user, in-process; as root (which ignores them), in a
// child that drops to user 'nobody', if this process may do so.
bool permissions_apply_here() {
  if (::geteuid() != 0) return true;
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(::setgid(65534) == 0 && ::setuid(65534) == 0 ? 0 : 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void make_world_accessible(const fs::path& dir) {
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
}

const fs::perms kReadOnlyDir = fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                               fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec;
const fs::perms kReadOnlyFile = fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read;

}  // namespace

// ---- round trips ----------------------------------------------------------------------------------------

TEST_CASE("a run with its epochs and layers reads back as written", "[store]") {
  TempDir dir;
  const std::string path = dir.file("runs.db");
  std::int64_t id = 0;
  {
    RunStore store = RunStore::open(path);
    id = store.begin_run(sample_run("mini", "hash-a", "widths"));
    store.add_layers(id, sample_layers(3));
    store.record_epoch(sample_epoch(id, 1, 0.50));
    EpochRecord diverged = sample_epoch(id, 2, 0.25);
    diverged.train_loss = std::nan("");  // a diverged loss must survive as NaN, not turn into 0
    store.record_epoch(diverged);
    store.set_checkpoint(id, CheckpointRef{"runs/mini/ckpt-2.pt", 2, 0, "0123abcd"});
    store.finish_run(id, RunStatus::diverged, 12.5, "loss is NaN");
  }

  const RunStore store = RunStore::open_read_only(path);
  const std::optional<RunRecord> r = store.get_run(id);
  REQUIRE(r);
  const RunRecord expected = sample_run("mini", "hash-a", "widths");
  CHECK(r->name == "mini");
  CHECK(r->status == RunStatus::diverged);
  CHECK(r->config_toml == expected.config_toml);
  CHECK(r->config_hash == "hash-a");
  CHECK(r->device == "cpu");
  CHECK(r->torch_version == "1.13.1");
  CHECK(r->sweep == "widths");
  CHECK(r->variant == "v-mini");
  CHECK(r->seed == 42);
  CHECK(r->params == 123456);
  CHECK(r->macs == 7890123);
  CHECK(r->epochs_planned == 10);
  CHECK(r->epochs_done == 2);
  CHECK(r->best_test_acc == Approx(0.50));
  CHECK(r->final_test_acc == Approx(0.25));
  CHECK(r->train_seconds == 12.5);
  CHECK(r->error == "loss is NaN");
  CHECK(r->checkpoint.path == "runs/mini/ckpt-2.pt");
  CHECK(r->checkpoint.epochs_done == 2);
  CHECK(r->checkpoint.next_batch == 0);
  CHECK(r->checkpoint.md5 == "0123abcd");
  CHECK(r->uid.size() == 32);
  CHECK(r->experiment_hash == stored_experiment_hash(expected.config_toml));
  CHECK(r->pid == this_process_id());
  CHECK(r->process_start == process_start_of(this_process_id()));
  CHECK(is_utc_timestamp(r->started_at));
  CHECK(is_utc_timestamp(r->finished_at));
  CHECK(is_utc_timestamp(r->heartbeat_at));

  const auto epochs = store.epochs(id);
  REQUIRE(epochs.size() == 2);
  CHECK(epochs[0].epoch == 1);
  CHECK(epochs[0].train_loss == 1.0);
  CHECK(epochs[0].test_loss == 1.5);
  CHECK(epochs[0].lr == Approx(0.1));
  CHECK(epochs[0].images_per_s == 24000);
  CHECK(std::isnan(epochs[1].train_loss));
  CHECK(epochs[1].test_acc == 0.25);

  const auto layers = store.layers(id);
  REQUIRE(layers.size() == 3);
  CHECK(layers[2].idx == 2);
  CHECK(layers[2].name == "layer2");
  CHECK(layers[1].block == "inception_v1");
  CHECK(layers[2].output_shape == "[64, 14, 14]");
  CHECK(layers[2].params == 3000);
  CHECK(layers[2].macs == 300000);

  CHECK_FALSE(store.get_run(id + 1));
}

TEST_CASE("begin_run starts a fresh 'running' run whatever the record says", "[store]") {
  TempDir dir;
  RunStore store = RunStore::open(dir.file("runs.db"));
  RunRecord r = sample_run("a");
  r.status = RunStatus::completed;
  r.best_test_acc = 0.99;
  r.finished_at = "2001-01-01T00:00:00Z";
  const std::int64_t id = store.begin_run(r);
  const RunRecord back = *store.get_run(id);
  CHECK(back.status == RunStatus::running);
  CHECK_FALSE(back.best_test_acc);
  CHECK(back.finished_at.empty());
  CHECK(back.started_at == back.heartbeat_at);
  CHECK(is_utc_timestamp(back.started_at));
}

TEST_CASE("list_runs orders by id and filters by sweep, runs_of_experiment finds an experiment's runs",
          "[store]") {
  TempDir dir;
  RunStore store = RunStore::open(dir.file("runs.db"));
  const auto a = store.begin_run(sample_run("a", "h1", "s1"));
  const auto b = store.begin_run(sample_run("b", "h2", "s2"));
  const auto c = store.begin_run(sample_run("c", "h1", "s1"));
  store.finish_run(c, RunStatus::failed, 1.0, "out of memory");

  const auto all = store.list_runs();
  REQUIRE(all.size() == 3);
  CHECK(all[0].id == a);
  CHECK(all[1].id == b);
  CHECK(all[2].id == c);
  const auto s1 = store.list_runs("s1");
  REQUIRE(s1.size() == 2);
  CHECK(s1[0].name == "a");
  CHECK(s1[1].name == "c");
  CHECK(store.list_runs("nope").empty());

  // Oldest first; the same second, so the id breaks the tie. Runs of another experiment are not among them.
  const auto of_a = store.runs_of_experiment(store.get_run(a)->experiment_hash);
  REQUIRE(of_a.size() == 1);
  CHECK(of_a[0].id == a);
  CHECK(store.runs_of_experiment("unknown").empty());
  RunRecord again = sample_run("a", "h1", "s1");
  const auto d = store.begin_run(again);
  const auto both = store.runs_of_experiment(store.get_run(a)->experiment_hash);
  REQUIRE(both.size() == 2);
  CHECK(both[0].id == a);
  CHECK(both[1].id == d);
  CHECK(store.get_run_by_uid(store.get_run(d)->uid)->id == d);
  CHECK(store.get_run(a)->uid != store.get_run(d)->uid);
}

// ---- epochs ---------------------------------------------------------------------------------------------

TEST_CASE("record_epoch keeps the best and the final test accuracy", "[store]") {
  TempDir dir;
  RunStore store = RunStore::open(dir.file("runs.db"));
  const auto id = store.begin_run(sample_run("a"));
  store.record_epoch(sample_epoch(id, 1, 0.50));
  store.record_epoch(sample_epoch(id, 2, 0.80));
  store.record_epoch(sample_epoch(id, 3, 0.70));
  const RunRecord r = *store.get_run(id);
  CHECK(r.best_test_acc == Approx(0.80));
  CHECK(r.final_test_acc == Approx(0.70));
  CHECK(r.epochs_done == 3);
}

TEST_CASE("record_epoch is atomic: a rejected epoch changes nothing", "[store]") {
  TempDir dir;
  const std::string path = dir.file("runs.db");
  RunStore store = RunStore::open(path);
  const auto id = store.begin_run(sample_run("a"));
  store.record_epoch(sample_epoch(id, 1, 0.50));
  store.record_epoch(sample_epoch(id, 2, 0.60));

  SECTION("an epoch recorded twice does not raise the best accuracy") {
    // The run row is updated before the epoch insert fails, so this only passes if both roll back together.
    CHECK_THROWS_AS(store.record_epoch(sample_epoch(id, 1, 0.99)), UserError);
    const RunRecord r = *store.get_run(id);
    CHECK(r.best_test_acc == Approx(0.60));
    CHECK(r.final_test_acc == Approx(0.60));
    const auto epochs = store.epochs(id);
    REQUIRE(epochs.size() == 2);
    CHECK(epochs[0].test_acc == Approx(0.50));
  }
  SECTION("an epoch of an unknown run leaves no orphan row") {
    CHECK_THROWS_WITH(store.record_epoch(sample_epoch(999, 1, 0.5)), Contains("run 999 not found") && Contains(path));
    CHECK(raw_query_int(path, "SELECT count(*) FROM epochs WHERE run_id = 999") == 0);
  }
  SECTION("the store stays usable after a failed write") {
    CHECK_THROWS(store.record_epoch(sample_epoch(id, 2, 0.9)));
    store.record_epoch(sample_epoch(id, 3, 0.65));
    CHECK(store.get_run(id)->best_test_acc == Approx(0.65));
  }
}

TEST_CASE("resuming: claim_run and delete_epochs_from restore a consistent run", "[store]") {
  TempDir dir;
  RunStore store = RunStore::open(dir.file("runs.db"));
  const auto id = store.begin_run(sample_run("a"));
  store.record_epoch(sample_epoch(id, 1, 0.50));
  store.record_epoch(sample_epoch(id, 2, 0.90));
  store.record_epoch(sample_epoch(id, 3, 0.70));
  store.finish_run(id, RunStatus::interrupted, 30.0, "SIGINT");

  const RunClaim claim = store.claim_run(id);
  CHECK(claim.run_id == id);
  CHECK(claim.uid == store.get_run(id)->uid);
  RunRecord r = *store.get_run(id);
  CHECK(r.status == RunStatus::running);
  CHECK(r.finished_at.empty());
  CHECK(r.error.empty());
  CHECK(r.train_seconds == 30.0);  // kept: the trainer adds the resumed time to it

  // The checkpoint was taken after epoch 1: epochs 2 and 3 are redone, and their accuracies are forgotten.
  store.delete_epochs_from(id, 2);
  r = *store.get_run(id);
  CHECK(r.epochs_done == 1);
  CHECK(r.best_test_acc == Approx(0.50));
  CHECK(r.final_test_acc == Approx(0.50));
  store.record_epoch(sample_epoch(id, 2, 0.55));
  store.finish_run(id, RunStatus::completed, 45.0);
  r = *store.get_run(id);
  CHECK(r.status == RunStatus::completed);
  CHECK(r.best_test_acc == Approx(0.55));
  CHECK(r.epochs_done == 2);

  store.delete_epochs_from(id, 1);
  r = *store.get_run(id);
  CHECK_FALSE(r.best_test_acc);
  CHECK_FALSE(r.final_test_acc);
}

TEST_CASE("finish_run rejects statuses that are not final", "[store]") {
  TempDir dir;
  RunStore store = RunStore::open(dir.file("runs.db"));
  const auto id = store.begin_run(sample_run("a"));
  CHECK_THROWS_AS(store.finish_run(id, RunStatus::running, 1.0), std::invalid_argument);
  CHECK_THROWS_WITH(store.finish_run(id + 7, RunStatus::completed, 1.0), Contains("not found"));
  CHECK_THROWS_WITH(store.heartbeat(id + 7), Contains("not found"));
  CHECK(store.get_run(id)->status == RunStatus::running);
}

// ---- schema ---------------------------------------------------------------------------------------------

TEST_CASE("every column of runs is mapped by the one table of columns, and nothing else is", "[store]") {
  TempDir dir;
  const std::string path = dir.file("runs.db");
  RunStore::open(path);
  std::set<std::string> in_table;
  for (int i = 0;; ++i) {
    const std::string name =
        raw_query_text(path, "SELECT name FROM pragma_table_info('runs') LIMIT 1 OFFSET " + std::to_string(i));
    if (name == "<no row>") break;
    in_table.insert(name);
  }
  // id is the row's number and owner the claim token: neither is part of RunRecord.
  std::set<std::string> mapped = {"id", "owner"};
  for (const std::string& c : RunStore::stored_columns()) CHECK(mapped.insert(c).second);  // no column twice
  CHECK(in_table == mapped);
}

TEST_CASE("the schema version is recorded and reopening migrates nothing twice", "[store]") {
  TempDir dir;
  const std::string path = dir.file("runs.db");
  std::int64_t id = 0;
  {
    RunStore store = RunStore::open(path);
    CHECK(store.schema_version() == kSchemaVersion);
    id = store.begin_run(sample_run("a"));
    store.record_epoch(sample_epoch(id, 1, 0.5));
  }
  for (int i = 0; i < 3; ++i) {
    RunStore store = RunStore::open(path);
    CHECK(store.schema_version() == kSchemaVersion);
    CHECK(store.list_runs().size() == 1);
    CHECK(store.epochs(id).size() == 1);
  }
  CHECK(raw_query_int(path, "PRAGMA user_version") == kSchemaVersion);
  CHECK(raw_query_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'runs'") == 1);
  CHECK(RunStore::open_read_only(path).schema_version() == kSchemaVersion);
}

TEST_CASE("the log is in WAL mode so readers never block writers", "[store]") {
  TempDir dir;
  const std::string path = dir.file("runs.db");
  RunStore::open(path);
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_CASE("a log written by a newer incept is refused and left byte-for-byte unchanged", "[store]") {
  TempDir dir;
  const std::string path = dir.file("future.db");
  raw_exec(path, "CREATE TABLE runs(id INTEGER PRIMARY KEY, hologram BLOB); PRAGMA user_version = 7;");
  const std::string before = read_bytes(path);
  const std::string expected = "created by a newer incept (schema 7, this build knows " +
                               std::to_string(kSchemaVersion) + ")";

  CHECK_THROWS_WITH(RunStore::open(path), Contains(expected) && Contains(path));
  CHECK_THROWS_WITH(RunStore::open_read_only(path), Contains(expected));
  CHECK(read_bytes(path) == before);
  CHECK_FALSE(fs::exists(path + "-wal"));
}

TEST_CASE("a file that is not an incept log is refused, not overwritten", "[store]") {
  TempDir dir;
  SECTION("not a database at all") {
    const std::string path = dir.file("notes.db");
    const std::string text(4096, 'x');
    write_bytes(path, text);
    CHECK_THROWS_WITH(RunStore::open(path), Contains(path) && Contains("not a database"));
    CHECK_THROWS_WITH(RunStore::open_read_only(path), Contains(path) && Contains("not a database"));
    CHECK(read_bytes(path) == text);
  }
  SECTION("another application's SQLite database") {
    const std::string path = dir.file("other.db");
    raw_exec(path, "CREATE TABLE contacts(name TEXT)");
    const std::string before = read_bytes(path);
    CHECK_THROWS_WITH(RunStore::open(path), Contains(path) && Contains("not an incept run log"));
    CHECK(read_bytes(path) == before);
  }
}

// ---- environment errors ---------------------------------------------------------------------------------

TEST_CASE("a missing directory is a UserError naming the path and is not created", "[store]") {
  TempDir dir;
  const std::string missing_dir = dir.file("no/such/dir");
  const std::string path = missing_dir + "/runs.db";
  CHECK_THROWS_AS(RunStore::open(path), UserError);
  CHECK_THROWS_WITH(RunStore::open(path),
                    Contains("cannot open database " + path + ": directory " + missing_dir + " does not exist"));
  CHECK_FALSE(fs::exists(dir.file("no")));
}

TEST_CASE("open_read_only of a missing file fails without creating it", "[store]") {
  TempDir dir;
  const std::string path = dir.file("runs.db");
  CHECK_THROWS_WITH(RunStore::open_read_only(path), Contains("no database at " + path));
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("read-only directories and files give a UserError naming the path", "[store]") {
  if (!permissions_apply_here())
    INCEPT_SKIP("running as root without the right to switch to user 'nobody': permissions cannot be tested");
  TempDir dir;
  make_world_accessible(dir.path());
  const fs::path ro_dir = dir.path() / "ro";
  fs::create_directory(ro_dir);

  SECTION("a new log in a read-only directory") {
    const std::string path = (ro_dir / "runs.db").string();
    fs::permissions(ro_dir, kReadOnlyDir);
    const auto msg = user_error_without_privileges([&] { RunStore::open(path); });
    REQUIRE(msg.has_value());
    CHECK_THAT(*msg, Contains(path) && Contains("is not writable"));
    CHECK_FALSE(fs::exists(path));
  }
  SECTION("an existing read-only log file") {
    const std::string path = (ro_dir / "runs.db").string();
    RunStore::open(path).begin_run(sample_run("a"));
    make_world_accessible(ro_dir);
    fs::permissions(path, kReadOnlyFile);
    const auto msg = user_error_without_privileges([&] { RunStore::open(path); });
    REQUIRE(msg.has_value());
    CHECK_THAT(*msg, Contains(path) && Contains("read-only"));
  }
  SECTION("a writable log file in a read-only directory (no room for -wal/-shm)") {
    const std::string path = (ro_dir / "runs.db").string();
    RunStore::open(path).begin_run(sample_run("a"));
    fs::remove(path + "-wal");  // as if the file had been copied here alone
    fs::remove(path + "-shm");
    fs::permissions(path, fs::perms::all & ~(fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec));
    fs::permissions(ro_dir, kReadOnlyDir);
    const auto msg = user_error_without_privileges([&] { RunStore::open(path); });
    REQUIRE(msg.has_value());
    CHECK_THAT(*msg, Contains(path) && Contains("not writable") && Contains("-wal"));
  }
  SECTION("reports can still read a log in a read-only directory") {
    const std::string path = (ro_dir / "runs.db").string();
    RunStore::open(path).begin_run(sample_run("a"));
    make_world_accessible(ro_dir);
    fs::permissions(path, kReadOnlyFile);
    fs::permissions(ro_dir, kReadOnlyDir);
    const auto msg = user_error_without_privileges([&] {
      if (RunStore::open_read_only(path).list_runs().size() != 1) throw UserError("wrong run count");
    });
    REQUIRE(msg.has_value());
    CHECK(*msg == "");
  }
  SECTION("a log copied without its -wal/-shm into a read-only directory gets an actionable error") {
    const std::string path = (ro_dir / "runs.db").string();
    RunStore::open(path).begin_run(sample_run("a"));
    fs::remove(path + "-wal");
    fs::remove(path + "-shm");
    make_world_accessible(ro_dir);
    fs::permissions(path, kReadOnlyFile);
    fs::permissions(ro_dir, kReadOnlyDir);
    const auto msg = user_error_without_privileges([&] { RunStore::open_read_only(path).list_runs(); });
    REQUIRE(msg.has_value());
    CHECK_THAT(*msg, Contains(path) && Contains("-wal and -shm files are missing") && Contains("copy"));
  }
}

TEST_CASE("disk full is a UserError naming the database and the operation", "[store]") {
  TempDir dir;
  const std::string path = dir.file("small.db");
  // max_page_count makes SQLite report SQLITE_FULL exactly as a full disk would.
  sqlite::Connection db = sqlite::Connection::open(path, sqlite::Connection::Mode::ReadWrite);
  db.exec("CREATE TABLE t(b BLOB)", "create a table");
  db.exec("PRAGMA max_page_count = 8", "limit the file size");
  CHECK_THROWS_WITH(db.exec("INSERT INTO t VALUES (zeroblob(1000000))", "store a large blob"),
                    Contains(path) && Contains("store a large blob") && Contains("disk full"));
  // The failed write must not leave the connection stuck in a transaction.
  sqlite::WriteTransaction tx(db, "write a small row");
  db.exec("INSERT INTO t VALUES (x'00')", "store a small blob");
  tx.commit();
}

// ---- stale runs -----------------------------------------------------------------------------------------

TEST_CASE("mark_stale_runs interrupts another host's running runs once their lease has expired", "[store]") {
  TempDir dir;
  const std::string path = dir.file("runs.db");
  RunStore store = RunStore::open(path);
  const auto dead = store.begin_run(sample_run("dead"));
  const auto alive = store.begin_run(sample_run("alive"));
  const auto done = store.begin_run(sample_run("done"));
  store.finish_run(done, RunStatus::completed, 5.0);
  // Forge runs of another host: one that died long ago (and a finished run that is just as old, which must stay
  // finished), one that is alive there.
  raw_exec(path, "UPDATE runs SET host = 'elsewhere.invalid'");
  raw_exec(path, "UPDATE runs SET heartbeat_at = '2020-01-02T03:04:05Z' WHERE id IN (" + std::to_string(dead) +
                     ", " + std::to_string(done) + ")");

  CHECK(store.mark_stale_runs(120) == 1);
  const RunRecord d = *store.get_run(dead);
  CHECK(d.status == RunStatus::interrupted);
  CHECK(d.error == "no heartbeat since 2020-01-02T03:04:05Z");
  CHECK(d.finished_at == "2020-01-02T03:04:05Z");
  CHECK(store.get_run(alive)->status == RunStatus::running);
  CHECK(store.get_run(done)->status == RunStatus::completed);
  CHECK(store.mark_stale_runs(120) == 0);

  // A heartbeat keeps a run alive.
  raw_exec(path, "UPDATE runs SET heartbeat_at = '2020-01-02T03:04:05Z' WHERE id = " + std::to_string(alive));
  store.heartbeat(alive);
  CHECK(store.mark_stale_runs(120) == 0);
  CHECK(store.get_run(alive)->status == RunStatus::running);
}

TEST_CASE("a live process of this host keeps its run however old its heartbeat", "[store]") {
  TempDir dir;
  const std::string path = dir.file("runs.db");
  RunStore store = RunStore::open(path);
  const auto id = store.begin_run(sample_run("stopped for an hour"));  // this process: alive
  raw_exec(path, "UPDATE runs SET heartbeat_at = '2020-01-02T03:04:05Z'");
  CHECK(store.mark_stale_runs(120) == 0);
  CHECK(store.get_run(id)->status == RunStatus::running);
  // A claim on it is refused, naming the holder.
  RunStore other = RunStore::open(path);
  CHECK_THROWS_WITH(other.claim_run(id),
                    Contains("run " + std::to_string(id) + " is being trained by pid " + std::to_string(this_process_id())));
  // The same pid with another start time is another process (the pid was reused): the run's holder is gone.
  raw_exec(path, "UPDATE runs SET process_start = 'another-boot:1'");
  CHECK(store.mark_stale_runs(120) == 1);
  CHECK(store.get_run(id)->status == RunStatus::interrupted);
}

TEST_CASE("writes to a run need its claim: a run taken over is never written by its old holder", "[store]") {
  TempDir dir;
  const std::string path = dir.file("runs.db");
  RunStore first = RunStore::open(path);
  const auto id = first.begin_run(sample_run("a"));
  first.record_epoch(sample_epoch(id, 1, 0.5));
  // Its holder is declared dead (forged: another host, silent for years) and another process takes the run.
  raw_exec(path, "UPDATE runs SET host = 'elsewhere.invalid', heartbeat_at = '2020-01-02T03:04:05Z'");
  RunStore second = RunStore::open(path);
  const RunClaim claim = second.claim_run(id);
  CHECK_FALSE(first.heartbeat(id));
  CHECK_THROWS_WITH(first.record_epoch(sample_epoch(id, 2, 0.9)),
                    Contains("no longer held by this process") && Contains("held by pid"));
  CHECK_THROWS_WITH(first.finish_run(id, RunStatus::completed, 1.0), Contains("no longer held by this process"));
  CHECK(second.heartbeat(id));
  second.record_epoch(sample_epoch(id, 2, 0.6));
  second.finish_run(id, RunStatus::completed, 2.0);
  const RunRecord r = *second.get_run(id);
  CHECK(r.status == RunStatus::completed);
  CHECK(r.epochs_done == 2);
  CHECK(r.best_test_acc == Approx(0.6));
  CHECK(claim.uid == r.uid);
  // A finished run cannot be claimed again; a connection without a claim cannot write.
  CHECK_THROWS_WITH(RunStore::open(path).claim_run(id), Contains("already completed"));
  CHECK_THROWS_WITH(RunStore::open(path).heartbeat(id), Contains("not found among the runs this connection holds"));
}

// ---- merge ----------------------------------------------------------------------------------------------

TEST_CASE("merge copies runs of several logs with new ids, epochs and layers follow, duplicates skipped",
          "[store]") {
  TempDir dir;
  const std::string a = dir.file("a.db"), b = dir.file("b.db"), out = dir.file("merged.db");
  {
    RunStore sa = RunStore::open(a);
    const auto a1 = sa.begin_run(sample_run("a1", "ha1"));
    sa.record_epoch(sample_epoch(a1, 1, 0.4));
    sa.add_layers(a1, sample_layers(2));
    const auto a2 = sa.begin_run(sample_run("a2", "ha2"));
    sa.finish_run(a2, RunStatus::failed, 3.0, "boom");
    RunStore sb = RunStore::open(b);
    const auto b1 = sb.begin_run(sample_run("b1", "hb1"));  // id 1 again: must be renumbered
    for (int e = 1; e <= 3; ++e) sb.record_epoch(sample_epoch(b1, e, 0.1 * e));
    sb.add_layers(b1, sample_layers(4));
  }

  const MergeStats first = RunStore::merge(out, {a, b});
  CHECK(first.copied == 3);
  CHECK(first.skipped == 0);

  const RunStore merged = RunStore::open_read_only(out);
  const auto runs = merged.list_runs();
  REQUIRE(runs.size() == 3);
  CHECK(runs[0].name == "a1");
  CHECK(runs[1].name == "a2");
  CHECK(runs[2].name == "b1");
  CHECK(runs[2].id != 1);
  CHECK(runs[1].status == RunStatus::failed);
  CHECK(runs[1].error == "boom");
  CHECK(merged.epochs(runs[0].id).size() == 1);
  CHECK(merged.layers(runs[0].id).size() == 2);
  const auto b_epochs = merged.epochs(runs[2].id);
  REQUIRE(b_epochs.size() == 3);
  CHECK(b_epochs[2].test_acc == Approx(0.3));
  CHECK(b_epochs[2].run_id == runs[2].id);
  CHECK(merged.layers(runs[2].id).size() == 4);
  CHECK(runs[2].best_test_acc == Approx(0.3));
  CHECK(runs[2].started_at == RunStore::open_read_only(b).get_run(1)->started_at);

  SECTION("merging again adds nothing") {
    const MergeStats again = RunStore::merge(out, {b, a});
    CHECK(again.copied == 0);
    CHECK(again.updated == 0);
    CHECK(again.skipped == 3);
    CHECK(RunStore::open_read_only(out).list_runs().size() == 3);
    CHECK(raw_query_int(out, "SELECT count(*) FROM epochs") == 4);
  }
  SECTION("a missing input is an error naming it") {
    CHECK_THROWS_WITH(RunStore::merge(out, {dir.file("nope.db")}), Contains(dir.file("nope.db")));
  }
  SECTION("a newer state of a run replaces the copy, by uid; merging it again is a no-op") {
    {
      RunStore sb = RunStore::open(b);
      sb.adopt_claim(RunClaim{1, "", raw_query_text(b, "SELECT owner FROM runs WHERE id = 1")});
      sb.record_epoch(sample_epoch(1, 4, 0.8));
      sb.finish_run(1, RunStatus::completed, 9.0);
    }
    const MergeStats newer = RunStore::merge(out, {a, b});
    CHECK(newer.copied == 0);
    CHECK(newer.updated == 1);
    CHECK(newer.skipped == 2);
    const RunStore m = RunStore::open_read_only(out);
    REQUIRE(m.list_runs().size() == 3);
    const RunRecord r = *m.get_run(runs[2].id);  // same row, new state
    CHECK(r.uid == runs[2].uid);
    CHECK(r.status == RunStatus::completed);
    CHECK(r.epochs_done == 4);
    CHECK(r.best_test_acc == Approx(0.8));
    CHECK(raw_query_int(out, "SELECT count(*) FROM epochs WHERE run_id = " + std::to_string(r.id)) == 4);
    const MergeStats again = RunStore::merge(out, {a, b});
    CHECK(again.updated == 0);
    CHECK(again.skipped == 3);
    // An older state never replaces a newer one.
    const MergeStats older = RunStore::merge(b, {out});
    CHECK(older.updated == 0);
  }
  SECTION("a failed merge leaves the output as it was, and creates none") {
    const std::string garbage = dir.file("garbage.db");
    { std::ofstream(garbage) << "not a database"; }
    const std::string fresh = dir.file("fresh.db");
    CHECK_THROWS(RunStore::merge(fresh, {a, garbage}));
    CHECK_FALSE(std::filesystem::exists(fresh));
    CHECK_FALSE(std::filesystem::exists(fresh + "-wal"));
    CHECK_THROWS(RunStore::merge(out, {a, garbage}));
    CHECK(RunStore::open_read_only(out).list_runs().size() == 3);
  }
}

TEST_CASE("calibrations read back by host, cores and workload, newest first, and merges carry them", "[store]") {
  TempDir dir;
  const std::string a = dir.file("a.db"), out = dir.file("out.db");
  Calibration older;
  older.uid = "u1";
  older.measured_at = "2024-01-01T00:00:00Z";
  older.host = "h";
  older.cores = 2;
  older.workload = "w";
  older.config_name = "net";
  older.points = {{1, 2, 1000.5, 100 << 20}, {2, 1, 1500.25, 90 << 20}};
  Calibration newer = older;
  newer.uid = "u2";
  newer.measured_at = "2024-02-01T00:00:00Z";
  newer.points = {{1, 2, 900, 0}, {2, 1, 1700, 0}};
  {
    RunStore s = RunStore::open(a);
    s.record_calibration(newer);
    s.record_calibration(older);
    CHECK_FALSE(s.latest_calibration("h", 4, "w"));
    CHECK_FALSE(s.latest_calibration("other", 2, "w"));
    CHECK_FALSE(s.latest_calibration("h", 2, "x"));
  }
  const auto check = [&](const std::string& path) {
    const std::optional<Calibration> c = RunStore::open_read_only(path).latest_calibration("h", 2, "w");
    REQUIRE(c);
    CHECK(c->uid == "u2");
    CHECK(c->config_name == "net");
    REQUIRE(c->points.size() == 2);
    CHECK(c->points[1].jobs == 2);
    CHECK(c->points[1].threads == 1);
    CHECK(c->points[1].images_per_s == 1700);
  };
  check(a);
  RunStore::merge(out, {a});
  RunStore::merge(out, {a});  // again: nothing doubles
  check(out);
  CHECK(raw_query_int(out, "SELECT count(*) FROM calibrations") == 4);
  // A worker's log seeded with only some runs still gets its host's calibrations.
  const std::string seeded = dir.file("seeded.db");
  RunStore::merge(seeded, {a}, [](const RunRecord&) { return false; });
  check(seeded);
}

// ---- concurrency ----------------------------------------------------------------------------------------

TEST_CASE("four writers with their own connections lose no row and never fail", "[store][concurrency]") {
  TempDir dir;
  const std::string path = dir.file("shared.db");  // created by whichever writer opens first
  constexpr int kWriters = 4, kEpochs = 50;
  std::vector<std::string> errors(kWriters);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      try {
        RunStore store = RunStore::open(path);
        const auto id = store.begin_run(sample_run("writer" + std::to_string(w), "h" + std::to_string(w)));
        store.add_layers(id, sample_layers(5));
        for (int e = 1; e <= kEpochs; ++e) {
          store.record_epoch(sample_epoch(id, e, e / 100.0));
          if (e % 10 == 0) store.heartbeat(id);
        }
        store.finish_run(id, RunStatus::completed, 1.0);
      } catch (const std::exception& ex) {
        errors[w] = ex.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) CHECK(e == "");

  const RunStore store = RunStore::open_read_only(path);
  const auto runs = store.list_runs();
  REQUIRE(runs.size() == kWriters);
  for (const RunRecord& r : runs) {
    CHECK(r.status == RunStatus::completed);
    CHECK(r.epochs_done == kEpochs);
    CHECK(r.best_test_acc == Approx(kEpochs / 100.0));
    CHECK(store.layers(r.id).size() == 5);
  }
  CHECK(raw_query_int(path, "SELECT count(*) FROM epochs") == kWriters * kEpochs);
}

TEST_CASE("a read-only reader lists runs while writers write", "[store][concurrency]") {
  TempDir dir;
  const std::string path = dir.file("shared.db");
  RunStore::open(path);  // the reader needs an existing log
  constexpr int kWriters = 2, kEpochs = 50;
  std::atomic<int> writers_done{0};
  std::vector<std::string> errors(kWriters);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      try {
        RunStore store = RunStore::open(path);
        const auto id = store.begin_run(sample_run("w" + std::to_string(w)));
        for (int e = 1; e <= kEpochs; ++e) store.record_epoch(sample_epoch(id, e, 0.5));
      } catch (const std::exception& ex) {
        errors[w] = ex.what();
      }
      ++writers_done;
    });
  }

  std::string reader_error;
  int reads = 0;
  std::int64_t last_total = 0;
  bool monotonic = true;
  try {
    const RunStore reader = RunStore::open_read_only(path);
    while (writers_done < kWriters) {
      std::int64_t total = 0;
      for (const RunRecord& r : reader.list_runs()) total += r.epochs_done;
      monotonic = monotonic && total >= last_total;
      last_total = total;
      ++reads;
    }
  } catch (const std::exception& ex) {
    reader_error = ex.what();
  }
  for (auto& t : threads) t.join();

  CHECK(reader_error == "");
  for (const auto& e : errors) CHECK(e == "");
  CHECK(reads > 0);
  CHECK(monotonic);
  CHECK(raw_query_int(path, "SELECT count(*) FROM epochs") == kWriters * kEpochs);
}
