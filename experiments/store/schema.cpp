#include "experiments/store/schema.h"

#include <fmt/format.h>

#include <utility>
#include <vector>

#include "experiments/config/experiment_identity.h"
#include "framework/diagnostics.h"

namespace incept::store_schema {
namespace {

// Stamped into the file header (PRAGMA application_id) so `file(1)` and this code can tell an incept run
// log from any other SQLite database. "INCP" in ASCII.
constexpr std::int64_t kApplicationId = 0x494E4350;

struct Migration {
  int version;      // user_version after this migration
  const char* sql;  // statements to run; never edit a released one, append a new migration instead
  // What SQL cannot do, run after `sql` in the same transaction (nullptr: nothing).
  void (*after)(sqlite::Connection& db) = nullptr;
};

void fill_experiment_hashes(sqlite::Connection& db);

// Text columns are NOT NULL with '' meaning "unset", matching RunRecord's strings. Metric columns are
// nullable because SQLite stores NaN (a diverged loss) as NULL.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE runs (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so "run 7" in an old report stays unambiguous
  name            TEXT    NOT NULL,
  status          TEXT    NOT NULL,                   -- running|completed|failed|diverged|interrupted
  config_toml     TEXT    NOT NULL DEFAULT '',
  config_hash     TEXT    NOT NULL DEFAULT '',
  device          TEXT    NOT NULL DEFAULT '',
  torch_version   TEXT    NOT NULL DEFAULT '',
  sweep           TEXT    NOT NULL DEFAULT '',
  variant         TEXT    NOT NULL DEFAULT '',
  seed            INTEGER NOT NULL DEFAULT 0,
  params          INTEGER NOT NULL DEFAULT 0,
  macs            INTEGER NOT NULL DEFAULT 0,
  final_test_acc  REAL,
  best_test_acc   REAL,
  train_seconds   REAL    NOT NULL DEFAULT 0,
  started_at      TEXT    NOT NULL,
  finished_at     TEXT    NOT NULL DEFAULT '',
  heartbeat_at    TEXT    NOT NULL,
  error           TEXT    NOT NULL DEFAULT '',
  checkpoint_path TEXT    NOT NULL DEFAULT '',
  epochs_planned  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_hash   ON runs(config_hash, started_at);  -- resume lookup and merge de-duplication
CREATE INDEX runs_by_sweep  ON runs(sweep);
CREATE INDEX runs_by_status ON runs(status);                   -- stale-run sweep looks at 'running' only

CREATE TABLE epochs (
  run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch        INTEGER NOT NULL,
  train_loss   REAL,
  train_acc    REAL,
  test_loss    REAL,
  test_acc     REAL,
  lr           REAL,
  seconds      REAL,
  images_per_s REAL,
  PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;

CREATE TABLE layers (
  run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  idx          INTEGER NOT NULL,
  name         TEXT    NOT NULL,
  block        TEXT    NOT NULL DEFAULT '',
  output_shape TEXT    NOT NULL DEFAULT '',
  params       INTEGER NOT NULL DEFAULT 0,
  macs         INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, idx)
) WITHOUT ROWID;
)sql"},
    // v2: which process runs a 'running' run, so a run whose process died on this host is recognised at once
    // instead of after the heartbeat timeout. 0 and '' mean unknown (runs recorded before v2).
    {2, R"sql(
ALTER TABLE runs ADD COLUMN pid  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN host TEXT    NOT NULL DEFAULT '';
)sql"},
    // v3: run identity and ownership. Every run gets a globally unique id (kept by merges, named in its
    // checkpoint), the experiment it belongs to (experiment_identity.h), the claim of the process that trains it
    // (a random token; the process's start time tells a live process from a reused pid) and the checkpoint the
    // log vouches for (position and checksum). Sweeps record what they declare (cells) and which runs answer each
    // cell (members), reused runs included.
    {3, R"sql(
ALTER TABLE runs ADD COLUMN uid              TEXT    NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN experiment_hash  TEXT    NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN owner            TEXT    NOT NULL DEFAULT '';  -- claim token of the training process
ALTER TABLE runs ADD COLUMN process_start    TEXT    NOT NULL DEFAULT '';  -- boot id and start time of pid
ALTER TABLE runs ADD COLUMN claimed_at       TEXT    NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN checkpoint_epoch INTEGER NOT NULL DEFAULT 0;   -- epochs done at the checkpoint
ALTER TABLE runs ADD COLUMN checkpoint_batch INTEGER NOT NULL DEFAULT 0;   -- batches done in the next epoch
ALTER TABLE runs ADD COLUMN checkpoint_md5   TEXT    NOT NULL DEFAULT '';  -- '' = written before v3
UPDATE runs SET uid = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX runs_by_uid ON runs(uid);
CREATE INDEX runs_by_experiment ON runs(experiment_hash);

CREATE TABLE sweeps (
  name       TEXT PRIMARY KEY,
  baseline   TEXT NOT NULL DEFAULT '',   -- the variant its reports compare against ('' = the first)
  file       TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE sweep_cells (
  sweep           TEXT    NOT NULL,
  variant         TEXT    NOT NULL,
  seed            INTEGER NOT NULL,
  position        INTEGER NOT NULL DEFAULT 0,   -- order in the sweep's plan
  experiment_hash TEXT    NOT NULL DEFAULT '',
  config_toml     TEXT    NOT NULL DEFAULT '',  -- the resolved config it trains (reports show cells without runs)
  params          INTEGER NOT NULL DEFAULT 0,
  macs            INTEGER NOT NULL DEFAULT 0,
  worker          TEXT    NOT NULL DEFAULT '',  -- claim token of the sweep process working on it ('' = none)
  worker_pid      INTEGER NOT NULL DEFAULT 0,
  worker_host     TEXT    NOT NULL DEFAULT '',
  worker_start    TEXT    NOT NULL DEFAULT '',
  claimed_at      TEXT    NOT NULL DEFAULT '',
  heartbeat_at    TEXT    NOT NULL DEFAULT '',
  error           TEXT    NOT NULL DEFAULT '',  -- why its last attempt failed before a run existed
  PRIMARY KEY (sweep, variant, seed)
) WITHOUT ROWID;
CREATE TABLE sweep_members (
  sweep    TEXT    NOT NULL,
  variant  TEXT    NOT NULL,
  seed     INTEGER NOT NULL,
  run_uid  TEXT    NOT NULL,
  reused   INTEGER NOT NULL DEFAULT 0,  -- 1: trained outside this cell (alone or by another sweep) and reused
  added_at TEXT    NOT NULL DEFAULT '',
  PRIMARY KEY (sweep, variant, seed, run_uid)
) WITHOUT ROWID;

-- Sweeps recorded before v3 declared nothing: their runs are their cells and members.
INSERT OR IGNORE INTO sweeps (name) SELECT DISTINCT sweep FROM runs WHERE sweep <> '';
INSERT OR IGNORE INTO sweep_cells (sweep, variant, seed, position, config_toml, params, macs)
  SELECT sweep, variant, seed, min(id), config_toml, params, macs FROM runs WHERE sweep <> ''
  GROUP BY sweep, variant, seed;
INSERT OR IGNORE INTO sweep_members (sweep, variant, seed, run_uid, added_at)
  SELECT sweep, variant, seed, uid, started_at FROM runs WHERE sweep <> '';
)sql",
     fill_experiment_hashes},
    // v4: sweep throughput. A run recorded from the snapshot of a longer run's training (prefix reuse: the same
    // computation up to its last epoch) names that run; and what `incept sweep --jobs auto` measured, per host,
    // core count and workload, so the next sweep of the same network there reuses it.
    {4, R"sql(
ALTER TABLE runs ADD COLUMN trained_with TEXT NOT NULL DEFAULT '';  -- uid of the run whose training recorded it

CREATE TABLE calibrations (
  uid          TEXT    NOT NULL,             -- one calibration (kept by merges)
  measured_at  TEXT    NOT NULL,
  host         TEXT    NOT NULL,
  cores        INTEGER NOT NULL,             -- the cores the sweep could use
  workload     TEXT    NOT NULL,             -- the experiment measured, without seed and epochs (a hash)
  config_name  TEXT    NOT NULL DEFAULT '',
  jobs         INTEGER NOT NULL,             -- trainings side by side
  threads      INTEGER NOT NULL,             -- threads of each
  images_per_s REAL    NOT NULL,             -- training images per second, all of them together
  peak_rss     INTEGER NOT NULL DEFAULT 0,   -- bytes, the largest of one training
  load         REAL    NOT NULL DEFAULT 0,   -- the host's 1-minute load average before the calibration
  PRIMARY KEY (uid, jobs, threads)
) WITHOUT ROWID;
CREATE INDEX calibrations_by_workload ON calibrations(host, cores, workload, measured_at);
)sql"},
    // v5: packing. A run trained in one packed network with others names the pack (the uid of its first run) and
    // its size, and whether its steps replayed a CUDA graph: its epochs' seconds and images/s are the pack's.
    {5, R"sql(
ALTER TABLE runs ADD COLUMN packed_with TEXT NOT NULL DEFAULT '';    -- uid of the pack's first run; '' alone
ALTER TABLE runs ADD COLUMN pack_size INTEGER NOT NULL DEFAULT 0;    -- runs in its pack; 0 alone
ALTER TABLE runs ADD COLUMN cuda_graph INTEGER NOT NULL DEFAULT 0;   -- 1: its training steps replayed a CUDA graph
)sql"},
};

// The experiment of every run recorded before v3 (and of the cells those runs answer), by the one definition.
void fill_experiment_hashes(sqlite::Connection& db) {
  std::vector<std::pair<std::int64_t, std::string>> hashes;
  {
    sqlite::Statement st(db, "SELECT id, config_toml FROM runs WHERE experiment_hash = ''", "read stored configs");
    while (st.step()) hashes.emplace_back(st.int64(0), stored_experiment_hash(st.text(1)));
  }
  sqlite::Statement up(db, "UPDATE runs SET experiment_hash = ?2 WHERE id = ?1", "record experiment hashes");
  for (const auto& [id, hash] : hashes) {
    up.reset();
    up.bind(1, id).bind(2, hash);
    up.run();
  }
  db.exec("UPDATE sweep_cells SET experiment_hash = coalesce((SELECT r.experiment_hash FROM sweep_members m "
          "JOIN runs r ON r.uid = m.run_uid WHERE m.sweep = sweep_cells.sweep AND m.variant = sweep_cells.variant "
          "AND m.seed = sweep_cells.seed LIMIT 1), '') WHERE experiment_hash = ''",
          "record the experiments of sweep cells");
}

int user_version(sqlite::Connection& db) {
  return static_cast<int>(db.query_int("PRAGMA user_version", "read the schema version"));
}

// Shared by both open modes; reads only, so a refused file is left exactly as it was.
int check_known(sqlite::Connection& db) {
  // One statement, hence one snapshot: read separately, a migration committed by another process in between
  // would make a fresh file look like "version 0 with tables", i.e. someone else's database.
  // This is also the first read of the file, where "not a database" surfaces.
  sqlite::Statement st(db,
                       "SELECT v.user_version, a.application_id, (SELECT count(*) FROM sqlite_master) "
                       "FROM pragma_user_version AS v, pragma_application_id AS a",
                       "read the schema version");
  st.step();
  const int version = static_cast<int>(st.int64(0));
  const std::int64_t app_id = st.int64(1);
  const std::int64_t objects = st.int64(2);
  if (version > latest_version())
    throw UserError(fmt::format("database {}: created by a newer incept (schema {}, this build knows {})",
                                db.path(), version, latest_version()));
  const bool foreign_app = app_id != 0 && app_id != kApplicationId;
  const bool foreign_tables = version == 0 && objects > 0;
  if (foreign_app || foreign_tables)
    throw UserError(fmt::format("database {}: is an SQLite database but not an incept run log", db.path()));
  return version;
}

void apply_pending(sqlite::Connection& db) {
  sqlite::WriteTransaction tx(db, "upgrade the schema");
  // Re-read inside the write lock: another process may have migrated since we looked.
  const int current = user_version(db);
  if (current >= latest_version()) return;  // the transaction rolls back, nothing to do
  for (const Migration& m : kMigrations) {
    if (m.version <= current) continue;
    db.exec(m.sql, fmt::format("apply schema migration {}", m.version));
    if (m.after) m.after(db);
  }
  db.exec(fmt::format("PRAGMA application_id = {}", kApplicationId), "stamp the application id");
  db.exec(fmt::format("PRAGMA user_version = {}", latest_version()), "record the schema version");
  tx.commit();
}

// SQLite opens a file it cannot fully write (e.g. its -wal/-shm cannot be created) without complaint and
// fails at the first write. A trainer should learn that when it opens the log, not after its first epoch.
void probe_write_access(sqlite::Connection& db) {
  sqlite::WriteTransaction probe(db, "open for writing");
}  // rolled back: nothing is written

// Switches to the rollback journal; SQLite leaves a WAL file in WAL mode while another connection has it open.
void use_rollback_journal(sqlite::Connection& db) {
  const std::string what = "switch to the rollback journal";
  sqlite::Statement st(db, "PRAGMA journal_mode = DELETE", what);
  if (!st.step() || st.text(0) != "delete")
    throw UserError(fmt::format("database {}: cannot {}: another process has it open in WAL mode; stop it "
                                "(or unset INCEPT_JOURNAL_MODE) and try again",
                                db.path(), what));
}

}  // namespace

int latest_version() { return std::end(kMigrations)[-1].version; }

void upgrade(sqlite::Connection& db, bool wal) {
  const int version = check_known(db);
  if (wal) {
    // WAL lets report readers run while trainers write, and lets writers from several processes queue up
    // on the busy timeout instead of failing. NORMAL sync is durable across process crashes in WAL mode.
    db.exec_retrying_busy("PRAGMA journal_mode = WAL", "switch to WAL mode");
    db.exec("PRAGMA synchronous = NORMAL", "set the sync mode");
    // Keep -wal and -shm when the last writer closes: without them SQLite cannot read a WAL database in a
    // directory the reader may not write to (a colleague's runs directory). With a size limit set, the kept
    // -wal is truncated to nothing on close instead of keeping its high-water size.
    db.keep_wal_files();
    db.exec("PRAGMA journal_size_limit = 16777216", "limit the WAL size");
  } else {
    // The rollback journal locks with POSIX file locks, which network file systems carry between hosts; WAL
    // coordinates through shared memory (the -shm file), which hosts do not share. Writers then block readers
    // for the length of a commit, which the busy timeout absorbs.
    use_rollback_journal(db);
    db.exec("PRAGMA synchronous = FULL", "set the sync mode");
  }
  if (version < latest_version()) apply_pending(db);
  else probe_write_access(db);
}

void check_readable(sqlite::Connection& db) {
  const int version = check_known(db);
  if (version == 0)
    throw UserError(fmt::format("database {}: is empty (no incept run log schema)", db.path()));
  if (version < latest_version())
    throw UserError(fmt::format(
        "database {}: has schema {}, older than this build's {}; open it once with a command that writes "
        "(e.g. `incept runs --db {}`) to upgrade it",
        db.path(), version, latest_version(), db.path()));
}

}  // namespace incept::store_schema
