#include "experiments/store/run_store.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iterator>
#include <ostream>
#include <stdexcept>
#include <string_view>
#include <tuple>

#include <fmt/format.h>

#include "experiments/config/experiment_identity.h"
#include "experiments/store/schema.h"
#include "experiments/store/sqlite_db.h"
#include "framework/diagnostics.h"
#include "framework/text.h"

namespace incept {
namespace {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::WriteTransaction;

std::string utc_timestamp(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// ---- runs: one table of columns drives the reads, the inserts and the merge ---------------------------------

// A stored column of `runs` and how it maps to RunRecord. Adding a field: the struct, a migration in schema.cpp,
// and one row here; reads, inserts and merges follow.
struct RunColumn {
  const char* name;
  void (*bind)(Statement& st, int idx, const RunRecord& r);
  void (*read)(const Statement& st, int col, RunRecord& r);
};

#define INCEPT_TEXT_COLUMN(field)                                                                 \
  RunColumn {                                                                                     \
    #field, [](Statement& st, int i, const RunRecord& r) { st.bind(i, r.field); },                \
        [](const Statement& st, int c, RunRecord& r) { r.field = st.text(c); }                    \
  }
#define INCEPT_INT_COLUMN(field)                                                                  \
  RunColumn {                                                                                     \
    #field, [](Statement& st, int i, const RunRecord& r) { st.bind(i, r.field); },                \
        [](const Statement& st, int c, RunRecord& r) { r.field = st.int64(c); }                   \
  }
#define INCEPT_OPT_REAL_COLUMN(field)                                                             \
  RunColumn {                                                                                     \
    #field, [](Statement& st, int i, const RunRecord& r) { st.bind(i, r.field); },                \
        [](const Statement& st, int c, RunRecord& r) { r.field = st.opt_real(c); }                \
  }

const RunColumn kRunColumns[] = {
    INCEPT_TEXT_COLUMN(uid),
    INCEPT_TEXT_COLUMN(name),
    {"status", [](Statement& st, int i, const RunRecord& r) { st.bind(i, to_string(r.status)); },
     [](const Statement& st, int c, RunRecord& r) {
       // A status this build does not know (a hand edit) reads as failed rather than as a success.
       r.status = parse_run_status(st.text(c)).value_or(RunStatus::failed);
     }},
    INCEPT_TEXT_COLUMN(config_toml),
    INCEPT_TEXT_COLUMN(config_hash),
    INCEPT_TEXT_COLUMN(experiment_hash),
    INCEPT_TEXT_COLUMN(device),
    INCEPT_TEXT_COLUMN(torch_version),
    INCEPT_TEXT_COLUMN(sweep),
    INCEPT_TEXT_COLUMN(variant),
    INCEPT_INT_COLUMN(seed),
    INCEPT_INT_COLUMN(params),
    INCEPT_INT_COLUMN(macs),
    INCEPT_OPT_REAL_COLUMN(final_test_acc),
    INCEPT_OPT_REAL_COLUMN(best_test_acc),
    {"train_seconds", [](Statement& st, int i, const RunRecord& r) { st.bind(i, r.train_seconds); },
     [](const Statement& st, int c, RunRecord& r) { r.train_seconds = st.opt_real(c).value_or(0); }},
    INCEPT_TEXT_COLUMN(started_at),
    INCEPT_TEXT_COLUMN(finished_at),
    INCEPT_TEXT_COLUMN(heartbeat_at),
    INCEPT_TEXT_COLUMN(claimed_at),
    INCEPT_TEXT_COLUMN(error),
    {"checkpoint_path", [](Statement& st, int i, const RunRecord& r) { st.bind(i, r.checkpoint.path); },
     [](const Statement& st, int c, RunRecord& r) { r.checkpoint.path = st.text(c); }},
    {"checkpoint_epoch", [](Statement& st, int i, const RunRecord& r) { st.bind(i, r.checkpoint.epochs_done); },
     [](const Statement& st, int c, RunRecord& r) { r.checkpoint.epochs_done = st.int64(c); }},
    {"checkpoint_batch", [](Statement& st, int i, const RunRecord& r) { st.bind(i, r.checkpoint.next_batch); },
     [](const Statement& st, int c, RunRecord& r) { r.checkpoint.next_batch = st.int64(c); }},
    {"checkpoint_md5", [](Statement& st, int i, const RunRecord& r) { st.bind(i, r.checkpoint.md5); },
     [](const Statement& st, int c, RunRecord& r) { r.checkpoint.md5 = st.text(c); }},
    INCEPT_INT_COLUMN(epochs_planned),
    INCEPT_TEXT_COLUMN(trained_with),
    INCEPT_TEXT_COLUMN(packed_with),
    INCEPT_INT_COLUMN(pack_size),
    {"cuda_graph", [](Statement& st, int i, const RunRecord& r) { st.bind(i, static_cast<std::int64_t>(r.cuda_graph)); },
     [](const Statement& st, int c, RunRecord& r) { r.cuda_graph = st.int64(c) != 0; }},
    INCEPT_INT_COLUMN(pid),
    INCEPT_TEXT_COLUMN(host),
    INCEPT_TEXT_COLUMN(process_start),
};

#undef INCEPT_TEXT_COLUMN
#undef INCEPT_INT_COLUMN
#undef INCEPT_OPT_REAL_COLUMN

constexpr int kColumnCount = static_cast<int>(std::size(kRunColumns));

std::string column_list() { return join(RunStore::stored_columns(), ", "); }

// id, every column, then epochs_done, computed so it can never disagree with the epochs table.
std::string select_runs(const char* where_and_order) {
  return fmt::format("SELECT id, {}, (SELECT count(*) FROM epochs e WHERE e.run_id = runs.id) FROM runs {}",
                     column_list(), where_and_order);
}

RunRecord read_run(const Statement& st) {
  RunRecord r;
  r.id = st.int64(0);
  for (int i = 0; i < kColumnCount; ++i) kRunColumns[i].read(st, i + 1, r);
  r.epochs_done = st.int64(kColumnCount + 1);
  return r;
}

std::vector<RunRecord> collect_runs(Statement& st) {
  std::vector<RunRecord> out;
  while (st.step()) out.push_back(read_run(st));
  return out;
}

std::string placeholders(int first, int count) {
  std::vector<std::string> p;
  for (int i = 0; i < count; ++i) p.push_back(fmt::format("?{}", first + i));
  return join(p, ", ");
}

// Stores every column of `r` and its claim token; returns the new id.
std::int64_t insert_run(Connection& db, const RunRecord& r, const std::string& owner, const std::string& what) {
  const std::string sql = fmt::format("INSERT INTO runs ({}, owner) VALUES ({})", column_list(),
                                      placeholders(1, kColumnCount + 1));
  Statement st(db, sql.c_str(), what);
  for (int i = 0; i < kColumnCount; ++i) kRunColumns[i].bind(st, i + 1, r);
  st.bind(kColumnCount + 1, owner);
  st.run();
  return db.last_insert_id();
}

// Overwrites every column of run `id` with `r` (a merge bringing a newer state); the claim is not copied.
void overwrite_run(Connection& db, std::int64_t id, const RunRecord& r, const std::string& what) {
  std::vector<std::string> sets;
  for (int i = 0; i < kColumnCount; ++i) sets.push_back(fmt::format("{} = ?{}", kRunColumns[i].name, i + 2));
  const std::string sql = fmt::format("UPDATE runs SET {}, owner = '' WHERE id = ?1", join(sets, ", "));
  Statement st(db, sql.c_str(), what);
  st.bind(1, id);
  for (int i = 0; i < kColumnCount; ++i) kRunColumns[i].bind(st, i + 2, r);
  st.run();
}

// For single-run updates: a run id that matches nothing is an error, not a silent no-op.
void require_changed_run(const Connection& db, std::int64_t run_id) {
  if (db.changes() == 0) throw UserError(fmt::format("database {}: run {} not found", db.path(), run_id));
}

}  // namespace

std::string describe_holder(const RunRecord& r) {
  std::string who = r.pid > 0 ? fmt::format("pid {} on {}", r.pid, r.host.empty() ? "an unknown host" : r.host)
                              : "another process";
  std::string since = r.claimed_at.empty() ? r.started_at : r.claimed_at;
  return fmt::format("{} (since {}, last heartbeat {})", who, since, r.heartbeat_at);
}

std::string held_by_another_message(const RunRecord& r) {
  return fmt::format("run {} is being trained by {}; wait for it to finish, or stop that process first", r.id,
                     describe_holder(r));
}

namespace {

std::optional<RunRecord> run_by_id(Connection& db, std::int64_t id) {
  Statement st(db, select_runs("WHERE id = ?1").c_str(), fmt::format("read run {}", id));
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return read_run(st);
}

// Runs one UPDATE of a run this connection holds, in its own write transaction. `sql` binds the run id as ?1 and
// the claim token as ?2 (WHERE id = ?1 AND owner = ?2). A claim lost to another process is an error that says who
// holds the run now: this process must not write into it any more.
template <typename BindRest>
void update_claimed_run(Connection& db, std::int64_t run_id, const std::string& token, const std::string& sql,
                        const std::string& what, BindRest bind_rest) {
  WriteTransaction tx(db, what);
  Statement st(db, sql.c_str(), what);
  st.bind(1, run_id).bind(2, token);
  bind_rest(st);
  st.run();
  if (db.changes() == 0) {
    const std::optional<RunRecord> now = run_by_id(db, run_id);
    if (!now) throw UserError(fmt::format("database {}: run {} not found", db.path(), run_id));
    throw UserError(fmt::format("database {}: run {} is no longer held by this process (it is {}{}); nothing more "
                                "is recorded for it here",
                                db.path(), run_id, to_string(now->status),
                                now->status == RunStatus::running ? ", held by " + describe_holder(*now) : ""));
  }
  tx.commit();
}

// ---- epochs and layers ----------------------------------------------------------------------------------

void insert_epoch(Connection& db, const EpochRecord& e, const std::string& what) {
  Statement st(db,
               "INSERT INTO epochs (run_id, epoch, train_loss, train_acc, test_loss, test_acc, lr, seconds, "
               "images_per_s) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
               what);
  st.bind(1, e.run_id).bind(2, e.epoch).bind(3, e.train_loss).bind(4, e.train_acc).bind(5, e.test_loss);
  st.bind(6, e.test_acc).bind(7, e.lr).bind(8, e.seconds).bind(9, e.images_per_s);
  st.run();
}

void insert_layers(Connection& db, std::int64_t run_id, const std::vector<LayerRecord>& layers,
                   const std::string& what) {
  Statement st(db,
               "INSERT INTO layers (run_id, idx, name, block, output_shape, params, macs) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
               what);
  for (const LayerRecord& l : layers) {
    st.reset();
    st.bind(1, run_id).bind(2, l.idx).bind(3, l.name).bind(4, l.block).bind(5, l.output_shape);
    st.bind(6, l.params).bind(7, l.macs);
    st.run();
  }
}

// ---- sweeps ---------------------------------------------------------------------------------------------

constexpr const char* kCellColumns =
    "sweep, variant, seed, position, experiment_hash, worker, worker_pid, worker_host, worker_start, claimed_at, "
    "heartbeat_at, error, config_toml, params, macs";

SweepCell read_cell(const Statement& st) {
  SweepCell c;
  c.sweep = st.text(0);
  c.variant = st.text(1);
  c.seed = st.int64(2);
  c.position = st.int64(3);
  c.experiment_hash = st.text(4);
  c.worker = st.text(5);
  c.worker_process = {st.int64(6), st.text(7), st.text(8)};
  c.claimed_at = st.text(9);
  c.heartbeat_at = st.text(10);
  c.error = st.text(11);
  c.config_toml = st.text(12);
  c.params = st.int64(13);
  c.macs = st.int64(14);
  return c;
}

// Whether the sweep process holding a cell still works on it: by its process on this host, by its lease elsewhere.
bool worker_alive(const SweepCell& c, const std::string& lease_cutoff) {
  if (c.worker.empty()) return false;
  if (c.worker_process.host == this_host_name() && c.worker_process.pid > 0)
    return process_alive_here(c.worker_process);
  return c.heartbeat_at >= lease_cutoff;
}

void add_member_row(Connection& db, const std::string& sweep, const std::string& variant, std::int64_t seed,
                    const std::string& run_uid, bool reused, const std::string& added_at, const std::string& what) {
  Statement st(db,
               "INSERT OR IGNORE INTO sweep_members (sweep, variant, seed, run_uid, reused, added_at) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
               what);
  st.bind(1, sweep).bind(2, variant).bind(3, seed).bind(4, run_uid).bind(5, reused ? 1 : 0).bind(6, added_at);
  st.run();
}

// ---- merge ----------------------------------------------------------------------------------------------

// Whether `candidate` is a later state of the same run than `current`: a finished run over one still running or
// interrupted, then more epochs, then the later heartbeat. Equal states are not newer, so merging twice is a no-op.
bool is_newer_state(const RunRecord& candidate, const RunRecord& current) {
  const auto key = [](const RunRecord& r) {
    return std::make_tuple(is_final(r.status) ? 1 : 0, r.epochs_done, r.heartbeat_at);
  };
  return key(candidate) > key(current);
}

void copy_epochs_and_layers(const RunStore& in, const RunRecord& r, Connection& out, std::int64_t out_id,
                            const std::string& what) {
  for (EpochRecord e : in.epochs(r.id)) {
    e.run_id = out_id;
    insert_epoch(out, e, what);
  }
  insert_layers(out, out_id, in.layers(r.id), what);
}

void merge_sweeps(const RunStore& in, Connection& out, const std::string& what) {
  for (const std::string& name : in.sweep_names()) {
    const SweepInfo info = *in.sweep_info(name);
    Statement s(out,
                "INSERT INTO sweeps (name, baseline, file) VALUES (?1, ?2, ?3) ON CONFLICT(name) DO UPDATE SET "
                "baseline = CASE WHEN sweeps.baseline = '' THEN excluded.baseline ELSE sweeps.baseline END, "
                "file = CASE WHEN sweeps.file = '' THEN excluded.file ELSE sweeps.file END",
                what);
    s.bind(1, info.name).bind(2, info.baseline).bind(3, info.file);
    s.run();
    for (const SweepCell& c : in.sweep_cells(name)) {
      // The worker of another log's cell means nothing here; a failure recorded later replaces an older one.
      Statement st(out,
                   "INSERT INTO sweep_cells (sweep, variant, seed, position, experiment_hash, heartbeat_at, error, "
                   "config_toml, params, macs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
                   "ON CONFLICT(sweep, variant, seed) DO UPDATE SET "
                   "error = excluded.error, heartbeat_at = excluded.heartbeat_at "
                   "WHERE excluded.heartbeat_at > sweep_cells.heartbeat_at",
                   what);
      st.bind(1, c.sweep).bind(2, c.variant).bind(3, c.seed).bind(4, c.position).bind(5, c.experiment_hash);
      st.bind(6, c.heartbeat_at).bind(7, c.error).bind(8, c.config_toml).bind(9, c.params).bind(10, c.macs);
      st.run();
    }
    for (const SweepMember& m : in.sweep_members(name))
      add_member_row(out, name, m.variant, m.seed, m.run_uid, m.reused, m.added_at, what);
  }
}

// ---- calibrations ----------------------------------------------------------------------------------------

void insert_calibration(Connection& db, const Calibration& c, const std::string& what) {
  Statement st(db,
               "INSERT OR IGNORE INTO calibrations (uid, measured_at, host, cores, workload, config_name, jobs, "
               "threads, images_per_s, peak_rss, load) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
               what);
  for (const CalibrationPoint& p : c.points) {
    st.reset();
    st.bind(1, c.uid).bind(2, c.measured_at).bind(3, c.host).bind(4, c.cores).bind(5, c.workload);
    st.bind(6, c.config_name).bind(7, p.jobs).bind(8, p.threads).bind(9, p.images_per_s).bind(10, p.peak_rss);
    st.bind(11, c.load);
    st.run();
  }
}

std::vector<Calibration> read_calibrations(Connection& db, const char* where, const std::string& what,
                                           const std::function<void(Statement&)>& bind) {
  const std::string sql = fmt::format(
      "SELECT uid, measured_at, host, cores, workload, config_name, jobs, threads, images_per_s, peak_rss, load "
      "FROM calibrations {} ORDER BY measured_at, uid, jobs, threads",
      where);
  Statement st(db, sql.c_str(), what);
  bind(st);
  std::vector<Calibration> out;
  while (st.step()) {
    if (out.empty() || out.back().uid != st.text(0)) {
      Calibration c;
      c.uid = st.text(0);
      c.measured_at = st.text(1);
      c.host = st.text(2);
      c.cores = static_cast<int>(st.int64(3));
      c.workload = st.text(4);
      c.config_name = st.text(5);
      c.load = st.real(10);
      out.push_back(std::move(c));
    }
    out.back().points.push_back(CalibrationPoint{static_cast<int>(st.int64(6)), static_cast<int>(st.int64(7)),
                                                 st.real(8), st.int64(9)});
  }
  return out;
}

}  // namespace

std::string utc_timestamp_now() { return utc_timestamp(std::time(nullptr)); }

// ---- lifetime -------------------------------------------------------------------------------------------

JournalMode journal_mode_setting() {
  const char* text = std::getenv("INCEPT_JOURNAL_MODE");
  if (!text || !*text || std::string_view(text) == "wal") return JournalMode::wal;
  if (std::string_view(text) == "delete") return JournalMode::rollback;
  throw UserError(fmt::format("INCEPT_JOURNAL_MODE='{}': expected wal or delete", text));
}

RunStore RunStore::open(const std::string& path) {
  const bool wal = journal_mode_setting() == JournalMode::wal;
  auto db = std::make_unique<Connection>(Connection::open(path, Connection::Mode::ReadWrite));
  store_schema::upgrade(*db, wal);
  return RunStore(std::move(db));
}

RunStore RunStore::open_read_only(const std::string& path) {
  auto db = std::make_unique<Connection>(Connection::open(path, Connection::Mode::ReadOnly));
  store_schema::check_readable(*db);
  return RunStore(std::move(db));
}

RunStore RunStore::open_for_reading(const std::string& path, std::ostream& warnings) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw UserError(fmt::format("no database at {}", path));
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  // SQLite needs the directory too, for its -wal and -shm files. Someone reading a colleague's log cannot write it.
  if (::access(path.c_str(), W_OK) == 0 && ::access(dir.c_str(), W_OK) == 0) {
    try {
      open(path).mark_stale_runs();
    } catch (const UserError& e) {
      warnings << fmt::format("warning: runs whose process died could not be marked interrupted, so a status shown "
                              "as 'running' may be stale: {}\n",
                              e.what());
    }
  }
  return open_read_only(path);
}

RunStore::RunStore(std::unique_ptr<Connection> db) : db_(std::move(db)) {}
RunStore::RunStore(RunStore&&) noexcept = default;
RunStore& RunStore::operator=(RunStore&&) noexcept = default;
RunStore::~RunStore() = default;

std::vector<std::string> RunStore::stored_columns() {
  std::vector<std::string> names;
  for (const RunColumn& c : kRunColumns) names.emplace_back(c.name);
  return names;
}

const std::string& RunStore::path() const { return db_->path(); }

bool RunStore::read_only() const { return db_->read_only(); }

int RunStore::schema_version() const {
  return static_cast<int>(db_->query_int("PRAGMA user_version", "read the schema version"));
}

void RunStore::write_transaction(const std::string& what, const std::function<void()>& body) {
  WriteTransaction tx(*db_, what);
  body();
  tx.commit();
}

// ---- a run's life ---------------------------------------------------------------------------------------

const std::string& RunStore::token_of(std::int64_t run_id) const {
  auto it = claims_.find(run_id);
  if (it == claims_.end())
    throw std::logic_error(fmt::format("database {}: run {} not found among the runs this connection holds "
                                       "(begin_run or claim_run it first)",
                                       path(), run_id));
  return it->second;
}

RunClaim RunStore::claim_of(std::int64_t run_id) const {
  const std::optional<RunRecord> r = get_run(run_id);
  return {run_id, r ? r->uid : "", token_of(run_id)};
}

void RunStore::adopt_claim(const RunClaim& claim) { claims_[claim.run_id] = claim.token; }

std::int64_t RunStore::begin_run(const RunRecord& r) {
  RunRecord row = r;
  const ProcessIdentity me = this_process();
  row.uid = random_token();
  row.status = RunStatus::running;
  row.started_at = row.heartbeat_at = row.claimed_at = utc_timestamp_now();
  row.finished_at.clear();
  row.error.clear();
  row.final_test_acc.reset();
  row.best_test_acc.reset();
  row.train_seconds = 0;
  row.checkpoint = CheckpointRef{};
  row.pid = me.pid;
  row.host = me.host;
  row.process_start = me.start;
  if (row.experiment_hash.empty()) row.experiment_hash = stored_experiment_hash(row.config_toml);
  const std::string token = random_token();
  const std::string what = fmt::format("begin run '{}'", r.name);
  WriteTransaction tx(*db_, what);
  const std::int64_t id = insert_run(*db_, row, token, what);
  if (!row.sweep.empty())
    add_member_row(*db_, row.sweep, row.variant, row.seed, row.uid, false, row.started_at, what);
  tx.commit();
  claims_[id] = token;
  return id;
}

RunClaim RunStore::claim_run(std::int64_t run_id, const std::optional<std::string>& expected_checkpoint_md5) {
  const std::string what = fmt::format("claim run {}", run_id);
  const ProcessIdentity me = this_process();
  const std::string token = random_token();
  WriteTransaction tx(*db_, what);
  mark_stale_runs();
  const std::optional<RunRecord> r = run_by_id(*db_, run_id);
  if (!r) throw UserError(fmt::format("run {} not found in {}", run_id, path()));
  if (r->status == RunStatus::completed) throw UserError(fmt::format("run {} already completed", run_id));
  if (r->status == RunStatus::running)
    throw UserError(held_by_another_message(*r));
  if (expected_checkpoint_md5 && r->checkpoint.md5 != *expected_checkpoint_md5)
    throw UserError(fmt::format("run {}: its checkpoint changed while it was being checked; try again", run_id));
  const std::string now = utc_timestamp_now();
  Statement st(*db_,
               "UPDATE runs SET status = 'running', owner = ?2, pid = ?3, host = ?4, process_start = ?5, "
               "claimed_at = ?6, heartbeat_at = ?6, finished_at = '', error = '' WHERE id = ?1",
               what);
  st.bind(1, run_id).bind(2, token).bind(3, me.pid).bind(4, me.host).bind(5, me.start).bind(6, now);
  st.run();
  tx.commit();
  claims_[run_id] = token;
  return {run_id, r->uid, token};
}

void RunStore::release_run(std::int64_t run_id, RunStatus status, const std::string& error) {
  update_claimed_run(*db_, run_id, token_of(run_id),
                     "UPDATE runs SET status = ?3, error = ?4, owner = '', finished_at = heartbeat_at "
                     "WHERE id = ?1 AND owner = ?2",
                     fmt::format("release run {}", run_id),
                     [&](Statement& st) { st.bind(3, to_string(status)).bind(4, error); });
  claims_.erase(run_id);
}

void RunStore::add_layers(std::int64_t run_id, const std::vector<LayerRecord>& layers) {
  const std::string what = fmt::format("add the layer table of run {}", run_id);
  WriteTransaction tx(*db_, what);
  insert_layers(*db_, run_id, layers, what);
  tx.commit();
}

void RunStore::record_epoch(const EpochRecord& e, const std::optional<CheckpointRef>& checkpoint) {
  const std::string what = fmt::format("record epoch {} of run {}", e.epoch, e.run_id);
  WriteTransaction tx(*db_, what);
  // The run is updated first so that a failing insert (an epoch recorded twice) also undoes the new
  // accuracies: a reader must never see a best accuracy without the epoch that produced it.
  update_claimed_run(*db_, e.run_id, token_of(e.run_id),
                     "UPDATE runs SET final_test_acc = ?3, heartbeat_at = ?4, "
                     "best_test_acc = CASE WHEN ?3 IS NOT NULL AND (best_test_acc IS NULL OR ?3 > best_test_acc) "
                     "THEN ?3 ELSE best_test_acc END WHERE id = ?1 AND owner = ?2",
                     what, [&](Statement& st) { st.bind(3, e.test_acc).bind(4, utc_timestamp_now()); });
  insert_epoch(*db_, e, what);
  if (checkpoint) set_checkpoint(e.run_id, *checkpoint);
  tx.commit();
}

bool RunStore::heartbeat(std::int64_t run_id) {
  const std::string what = fmt::format("record a heartbeat of run {}", run_id);
  WriteTransaction tx(*db_, what);
  Statement st(*db_, "UPDATE runs SET heartbeat_at = ?3 WHERE id = ?1 AND owner = ?2 AND status = 'running'", what);
  st.bind(1, run_id).bind(2, token_of(run_id)).bind(3, utc_timestamp_now());
  st.run();
  const bool held = db_->changes() > 0;
  tx.commit();
  return held;
}

void RunStore::set_checkpoint(std::int64_t run_id, const CheckpointRef& c) {
  update_claimed_run(*db_, run_id, token_of(run_id),
                     "UPDATE runs SET checkpoint_path = ?3, checkpoint_epoch = ?4, checkpoint_batch = ?5, "
                     "checkpoint_md5 = ?6, heartbeat_at = ?7 WHERE id = ?1 AND owner = ?2",
                     fmt::format("record the checkpoint of run {}", run_id), [&](Statement& st) {
                       st.bind(3, c.path).bind(4, c.epochs_done).bind(5, c.next_batch).bind(6, c.md5);
                       st.bind(7, utc_timestamp_now());
                     });
}

void RunStore::set_packing(std::int64_t run_id, const std::string& packed_with, std::int64_t pack_size,
                           bool cuda_graph) {
  update_claimed_run(*db_, run_id, token_of(run_id),
                     "UPDATE runs SET packed_with = ?3, pack_size = ?4, cuda_graph = ?5 WHERE id = ?1 AND owner = ?2",
                     fmt::format("record the packing of run {}", run_id), [&](Statement& st) {
                       st.bind(3, packed_with).bind(4, pack_size).bind(5, static_cast<std::int64_t>(cuda_graph));
                     });
}

void RunStore::finish_run(std::int64_t run_id, RunStatus status, double train_seconds, const std::string& error) {
  if (status == RunStatus::running) throw std::invalid_argument("finish_run: 'running' is not a final run status");
  const std::string now = utc_timestamp_now();
  update_claimed_run(*db_, run_id, token_of(run_id),
                     "UPDATE runs SET status = ?3, train_seconds = ?4, error = ?5, finished_at = ?6, "
                     "heartbeat_at = ?6, owner = '' WHERE id = ?1 AND owner = ?2",
                     fmt::format("finish run {}", run_id), [&](Statement& st) {
                       st.bind(3, to_string(status)).bind(4, train_seconds).bind(5, error).bind(6, now);
                     });
  claims_.erase(run_id);
}

void RunStore::delete_epochs_from(std::int64_t run_id, int epoch) {
  const std::string what = fmt::format("delete epochs >= {} of run {}", epoch, run_id);
  WriteTransaction tx(*db_, what);
  Statement del(*db_, "DELETE FROM epochs WHERE run_id = ?1 AND epoch >= ?2", what);
  del.bind(1, run_id).bind(2, epoch);
  del.run();
  // The accuracies summarise the epochs, so they must follow the deletion.
  Statement up(*db_,
               "UPDATE runs SET "
               "best_test_acc = (SELECT max(test_acc) FROM epochs WHERE run_id = ?1), "
               "final_test_acc = (SELECT test_acc FROM epochs WHERE run_id = ?1 ORDER BY epoch DESC LIMIT 1) "
               "WHERE id = ?1",
               what);
  up.bind(1, run_id);
  up.run();
  require_changed_run(*db_, run_id);
  tx.commit();
}

bool RunStore::note_run_error(std::int64_t run_id, const std::string& note) {
  const std::string what = fmt::format("note on run {}", run_id);
  WriteTransaction tx(*db_, what);
  Statement st(*db_,
               "UPDATE runs SET error = CASE WHEN error = '' THEN ?2 ELSE error || ' ' || ?2 END "
               "WHERE id = ?1 AND status != 'running' AND instr(error, ?2) = 0",
               what);
  st.bind(1, run_id).bind(2, note);
  st.run();
  const bool changed = db_->changes() > 0;
  tx.commit();
  return changed;
}

int RunStore::mark_stale_runs(double lease) {
  // Timestamps are fixed-width UTC, so string order is time order.
  const std::string cutoff = utc_timestamp(std::time(nullptr) - std::llround(lease));
  const std::string what = "mark runs whose process is gone as interrupted";
  const std::string host = this_host_name();
  WriteTransaction tx(*db_, what);
  std::vector<std::int64_t> dead_here, silent_elsewhere;
  {
    Statement st(*db_, "SELECT id, pid, host, process_start, heartbeat_at FROM runs WHERE status = 'running'", what);
    while (st.step()) {
      const ProcessIdentity holder{st.int64(1), st.text(2), st.text(3)};
      if (!host.empty() && holder.host == host && holder.pid > 0) {
        if (!process_alive_here(holder)) dead_here.push_back(st.int64(0));
      } else if (st.text(4) < cutoff) {
        silent_elsewhere.push_back(st.int64(0));
      }
    }
  }
  // The last heartbeat is the best estimate of when the process died.
  Statement by_pid(*db_,
                   "UPDATE runs SET status = 'interrupted', finished_at = heartbeat_at, owner = '', error = 'process ' "
                   "|| pid || ' on ' || host || ' ended without finishing the run (last heartbeat ' || heartbeat_at || "
                   "')' WHERE id = ?1 AND status = 'running'",
                   what);
  Statement by_lease(*db_,
                     "UPDATE runs SET status = 'interrupted', owner = '', error = 'no heartbeat since ' || "
                     "heartbeat_at, finished_at = heartbeat_at WHERE id = ?1 AND status = 'running'",
                     what);
  int count = 0;
  for (auto [ids, st] : {std::pair{&dead_here, &by_pid}, std::pair{&silent_elsewhere, &by_lease}}) {
    for (std::int64_t id : *ids) {
      st->reset();
      st->bind(1, id);
      st->run();
      count += db_->changes();
    }
  }
  tx.commit();
  return count;
}

// ---- sweeps ---------------------------------------------------------------------------------------------

void RunStore::register_sweep(const SweepInfo& sweep, const std::vector<SweepCell>& cells) {
  const std::string what = fmt::format("record the cells of sweep {}", sweep.name);
  WriteTransaction tx(*db_, what);
  Statement s(*db_,
              "INSERT INTO sweeps (name, baseline, file, updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(name) DO "
              "UPDATE SET baseline = excluded.baseline, file = excluded.file, updated_at = excluded.updated_at",
              what);
  s.bind(1, sweep.name).bind(2, sweep.baseline).bind(3, sweep.file).bind(4, utc_timestamp_now());
  s.run();
  Statement cell(*db_,
                 "INSERT INTO sweep_cells (sweep, variant, seed, position, experiment_hash, config_toml, params, macs) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(sweep, variant, seed) DO UPDATE SET "
                 "position = excluded.position, experiment_hash = excluded.experiment_hash, "
                 "config_toml = excluded.config_toml, params = excluded.params, macs = excluded.macs",
                 what);
  // A cell whose definition changed (same variant name, another experiment) is answered by other runs now.
  Statement drop(*db_,
                 "DELETE FROM sweep_members WHERE sweep = ?1 AND variant = ?2 AND seed = ?3 AND run_uid NOT IN "
                 "(SELECT uid FROM runs WHERE experiment_hash = ?4)",
                 what);
  for (const SweepCell& c : cells) {
    cell.reset();
    cell.bind(1, sweep.name).bind(2, c.variant).bind(3, c.seed).bind(4, c.position).bind(5, c.experiment_hash);
    cell.bind(6, c.config_toml).bind(7, c.params).bind(8, c.macs);
    cell.run();
    drop.reset();
    drop.bind(1, sweep.name).bind(2, c.variant).bind(3, c.seed).bind(4, c.experiment_hash);
    drop.run();
  }
  tx.commit();
}

std::optional<SweepInfo> RunStore::sweep_info(const std::string& sweep) const {
  Statement st(*db_, "SELECT name, baseline, file FROM sweeps WHERE name = ?1", fmt::format("read sweep {}", sweep));
  st.bind(1, sweep);
  if (!st.step()) return std::nullopt;
  return SweepInfo{st.text(0), st.text(1), st.text(2)};
}

std::vector<std::string> RunStore::sweep_names() const {
  Statement st(*db_, "SELECT name FROM sweeps ORDER BY name", "list sweeps");
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.text(0));
  return out;
}

std::vector<SweepCell> RunStore::sweep_cells(const std::string& sweep) const {
  const std::string sql =
      fmt::format("SELECT {} FROM sweep_cells WHERE sweep = ?1 ORDER BY position, variant, seed", kCellColumns);
  Statement st(*db_, sql.c_str(), fmt::format("read the cells of sweep {}", sweep));
  st.bind(1, sweep);
  std::vector<SweepCell> out;
  while (st.step()) out.push_back(read_cell(st));
  return out;
}

std::vector<SweepMember> RunStore::sweep_members(const std::string& sweep) const {
  Statement st(*db_,
               "SELECT variant, seed, run_uid, reused, added_at FROM sweep_members WHERE sweep = ?1 "
               "ORDER BY added_at, variant, seed",
               fmt::format("read the members of sweep {}", sweep));
  st.bind(1, sweep);
  std::vector<SweepMember> out;
  while (st.step()) out.push_back({st.text(0), st.int64(1), st.text(2), st.int64(3) != 0, st.text(4)});
  return out;
}

bool RunStore::claim_cell(const std::string& sweep, const std::string& variant, std::int64_t seed,
                          const std::string& worker) {
  const std::string what = fmt::format("claim cell {} seed {} of sweep {}", variant, seed, sweep);
  const std::string cutoff = utc_timestamp(std::time(nullptr) - std::llround(lease_seconds()));
  WriteTransaction tx(*db_, what);
  const std::string sql = fmt::format("SELECT {} FROM sweep_cells WHERE sweep = ?1 AND variant = ?2 AND seed = ?3",
                                      kCellColumns);
  Statement st(*db_, sql.c_str(), what);
  st.bind(1, sweep).bind(2, variant).bind(3, seed);
  if (!st.step()) throw std::logic_error(fmt::format("claim_cell: sweep {} has no cell {} seed {}", sweep, variant, seed));
  const SweepCell cell = read_cell(st);
  if (cell.worker != worker && worker_alive(cell, cutoff)) return false;
  const ProcessIdentity me = this_process();
  const std::string now = utc_timestamp_now();
  Statement up(*db_,
               "UPDATE sweep_cells SET worker = ?4, worker_pid = ?5, worker_host = ?6, worker_start = ?7, "
               "claimed_at = ?8, heartbeat_at = ?8 WHERE sweep = ?1 AND variant = ?2 AND seed = ?3",
               what);
  up.bind(1, sweep).bind(2, variant).bind(3, seed).bind(4, worker).bind(5, me.pid).bind(6, me.host);
  up.bind(7, me.start).bind(8, now);
  up.run();
  tx.commit();
  return true;
}

void RunStore::release_cell(const std::string& sweep, const std::string& variant, std::int64_t seed,
                            const std::string& worker, const std::string& error) {
  const std::string what = fmt::format("release cell {} seed {} of sweep {}", variant, seed, sweep);
  WriteTransaction tx(*db_, what);
  Statement st(*db_,
               "UPDATE sweep_cells SET worker = '', error = ?5, heartbeat_at = ?6 "
               "WHERE sweep = ?1 AND variant = ?2 AND seed = ?3 AND worker = ?4",
               what);
  st.bind(1, sweep).bind(2, variant).bind(3, seed).bind(4, worker).bind(5, error).bind(6, utc_timestamp_now());
  st.run();
  tx.commit();
}

void RunStore::heartbeat_cells(const std::string& worker) {
  const std::string what = "record a heartbeat of this sweep's cells";
  WriteTransaction tx(*db_, what);
  Statement st(*db_, "UPDATE sweep_cells SET heartbeat_at = ?2 WHERE worker = ?1", what);
  st.bind(1, worker).bind(2, utc_timestamp_now());
  st.run();
  tx.commit();
}

void RunStore::add_member(const std::string& sweep, const std::string& variant, std::int64_t seed,
                          const std::string& run_uid, bool reused) {
  const std::string what = fmt::format("record a run of sweep {}", sweep);
  WriteTransaction tx(*db_, what);
  add_member_row(*db_, sweep, variant, seed, run_uid, reused, utc_timestamp_now(), what);
  tx.commit();
}

// ---- calibrations ----------------------------------------------------------------------------------------

void RunStore::record_calibration(const Calibration& c) {
  Calibration row = c;
  if (row.uid.empty()) row.uid = random_token();
  if (row.measured_at.empty()) row.measured_at = utc_timestamp_now();
  const std::string what = "record a calibration";
  WriteTransaction tx(*db_, what);
  insert_calibration(*db_, row, what);
  tx.commit();
}

std::optional<Calibration> RunStore::latest_calibration(const std::string& host, int cores,
                                                        const std::string& workload) const {
  std::vector<Calibration> all =
      read_calibrations(*db_, "WHERE host = ?1 AND cores = ?2 AND workload = ?3", "read calibrations",
                        [&](Statement& st) { st.bind(1, host).bind(2, cores).bind(3, workload); });
  if (all.empty()) return std::nullopt;
  return all.back();
}

// ---- reads ----------------------------------------------------------------------------------------------

std::vector<RunRecord> RunStore::list_runs(const std::string& sweep) const {
  if (sweep.empty()) {
    Statement st(*db_, select_runs("ORDER BY id").c_str(), "list runs");
    return collect_runs(st);
  }
  Statement st(*db_, select_runs("WHERE sweep = ?1 ORDER BY id").c_str(), fmt::format("list runs of sweep {}", sweep));
  st.bind(1, sweep);
  return collect_runs(st);
}

std::optional<RunRecord> RunStore::get_run(std::int64_t id) const { return run_by_id(*db_, id); }

std::optional<RunRecord> RunStore::get_run_by_uid(const std::string& uid) const {
  Statement st(*db_, select_runs("WHERE uid = ?1").c_str(), fmt::format("read run {}", uid));
  st.bind(1, uid);
  if (!st.step()) return std::nullopt;
  return read_run(st);
}

std::vector<RunRecord> RunStore::runs_of_experiment(const std::string& experiment_hash) const {
  Statement st(*db_, select_runs("WHERE experiment_hash = ?1 ORDER BY started_at, id").c_str(),
               "look up the runs of an experiment");
  st.bind(1, experiment_hash);
  return collect_runs(st);
}

std::vector<EpochRecord> RunStore::epochs(std::int64_t run_id) const {
  Statement st(*db_,
               "SELECT epoch, train_loss, train_acc, test_loss, test_acc, lr, seconds, images_per_s "
               "FROM epochs WHERE run_id = ?1 ORDER BY epoch",
               fmt::format("read the epochs of run {}", run_id));
  st.bind(1, run_id);
  std::vector<EpochRecord> out;
  while (st.step()) {
    EpochRecord e;
    e.run_id = run_id;
    e.epoch = static_cast<int>(st.int64(0));
    e.train_loss = st.real(1);
    e.train_acc = st.real(2);
    e.test_loss = st.real(3);
    e.test_acc = st.real(4);
    e.lr = st.real(5);
    e.seconds = st.real(6);
    e.images_per_s = st.real(7);
    out.push_back(e);
  }
  return out;
}

std::vector<LayerRecord> RunStore::layers(std::int64_t run_id) const {
  Statement st(*db_,
               "SELECT idx, name, block, output_shape, params, macs FROM layers WHERE run_id = ?1 ORDER BY idx",
               fmt::format("read the layers of run {}", run_id));
  st.bind(1, run_id);
  std::vector<LayerRecord> out;
  while (st.step()) {
    LayerRecord l;
    l.run_id = run_id;
    l.idx = static_cast<int>(st.int64(0));
    l.name = st.text(1);
    l.block = st.text(2);
    l.output_shape = st.text(3);
    l.params = st.int64(4);
    l.macs = st.int64(5);
    out.push_back(l);
  }
  return out;
}

// ---- merge ----------------------------------------------------------------------------------------------

MergeStats RunStore::merge(const std::string& out_path, const std::vector<std::string>& inputs,
                           const std::function<bool(const RunRecord&)>& only) {
  namespace fs = std::filesystem;
  // Every input is checked before the output is touched.
  std::vector<RunStore> ins;
  for (const std::string& input : inputs) ins.push_back(open_read_only(input));
  std::error_code ec;
  const bool existed = fs::exists(out_path, ec);
  MergeStats stats;
  try {
    RunStore out = open(out_path);
    Connection& db = *out.db_;
    const std::string what = fmt::format("merge {} into {}", join(inputs, ", "), out_path);
    WriteTransaction tx(db, what);
    for (const RunStore& in : ins) {
      for (const RunRecord& r : in.list_runs()) {
        if (only && !only(r)) continue;
        const std::optional<RunRecord> have = out.get_run_by_uid(r.uid);
        if (!have) {
          copy_epochs_and_layers(in, r, db, insert_run(db, r, "", what), what);
          ++stats.copied;
        } else if (is_newer_state(r, *have)) {
          overwrite_run(db, have->id, r, what);
          for (const char* table : {"epochs", "layers"}) {
            Statement del(db, fmt::format("DELETE FROM {} WHERE run_id = ?1", table).c_str(), what);
            del.bind(1, have->id);
            del.run();
          }
          copy_epochs_and_layers(in, r, db, have->id, what);
          ++stats.updated;
        } else {
          ++stats.skipped;
        }
      }
      if (!only) merge_sweeps(in, db, what);
      for (const Calibration& c : read_calibrations(*in.db_, "", what, [](Statement&) {}))
        insert_calibration(db, c, what);
    }
    tx.commit();
  } catch (...) {
    // A merge that fails leaves nothing behind that was not there before.
    if (!existed)
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(out_path + suffix, ec);
    throw;
  }
  return stats;
}

}  // namespace incept
