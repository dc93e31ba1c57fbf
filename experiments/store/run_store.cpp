#include "experiments/store/run_store.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <ctime>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <fmt/format.h>

#include "experiments/store/schema.h"
#include "experiments/store/sqlite_db.h"
#include "framework/diagnostics.h"

namespace incept {
namespace {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::WriteTransaction;

constexpr const char* kStatuses[] = {"running", "completed", "failed", "diverged", "interrupted"};

std::string utc_timestamp(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// ---- runs -----------------------------------------------------------------------------------------------

// The column list read_run() decodes, in order; epochs_done is computed so it can never disagree with the
// epochs table.
constexpr const char* kRunColumns =
    "id, name, status, config_toml, config_hash, device, torch_version, sweep, variant, seed, params, macs, "
    "final_test_acc, best_test_acc, train_seconds, started_at, finished_at, heartbeat_at, error, "
    "checkpoint_path, epochs_planned, (SELECT count(*) FROM epochs e WHERE e.run_id = runs.id), pid, host";

RunRecord read_run(const Statement& st) {
  RunRecord r;
  r.id = st.int64(0);
  r.name = st.text(1);
  r.status = st.text(2);
  r.config_toml = st.text(3);
  r.config_hash = st.text(4);
  r.device = st.text(5);
  r.torch_version = st.text(6);
  r.sweep = st.text(7);
  r.variant = st.text(8);
  r.seed = st.int64(9);
  r.params = st.int64(10);
  r.macs = st.int64(11);
  r.final_test_acc = st.opt_real(12);
  r.best_test_acc = st.opt_real(13);
  r.train_seconds = st.opt_real(14).value_or(0);
  r.started_at = st.text(15);
  r.finished_at = st.text(16);
  r.heartbeat_at = st.text(17);
  r.error = st.text(18);
  r.checkpoint_path = st.text(19);
  r.epochs_planned = st.int64(20);
  r.epochs_done = st.int64(21);
  r.pid = st.int64(22);
  r.host = st.text(23);
  return r;
}

std::string select_runs(const char* where_and_order) {
  return fmt::format("SELECT {} FROM runs {}", kRunColumns, where_and_order);
}

std::vector<RunRecord> collect_runs(Statement& st) {
  std::vector<RunRecord> out;
  while (st.step()) out.push_back(read_run(st));
  return out;
}

// Stores every field of `r` but id and epochs_done; returns the new id.
std::int64_t insert_run(Connection& db, const RunRecord& r, const std::string& what) {
  Statement st(db,
               "INSERT INTO runs (name, status, config_toml, config_hash, device, torch_version, sweep, variant, "
               "seed, params, macs, final_test_acc, best_test_acc, train_seconds, started_at, finished_at, "
               "heartbeat_at, error, checkpoint_path, epochs_planned, pid, host) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, "
               "?21, ?22)",
               what);
  st.bind(1, r.name).bind(2, r.status).bind(3, r.config_toml).bind(4, r.config_hash).bind(5, r.device);
  st.bind(6, r.torch_version).bind(7, r.sweep).bind(8, r.variant).bind(9, r.seed).bind(10, r.params);
  st.bind(11, r.macs).bind(12, r.final_test_acc).bind(13, r.best_test_acc).bind(14, r.train_seconds);
  st.bind(15, r.started_at).bind(16, r.finished_at).bind(17, r.heartbeat_at).bind(18, r.error);
  st.bind(19, r.checkpoint_path).bind(20, r.epochs_planned).bind(21, r.pid).bind(22, r.host);
  st.run();
  return db.last_insert_id();
}

// For single-run updates: a run id that matches nothing is an error, not a silent no-op.
void require_changed_run(const Connection& db, std::int64_t run_id) {
  if (db.changes() == 0) throw UserError(fmt::format("database {}: run {} not found", db.path(), run_id));
}

// Runs one UPDATE of one run in its own write transaction. `sql` binds the run id as ?1.
template <typename BindRest>
void update_run(Connection& db, std::int64_t run_id, const char* sql, const std::string& what, BindRest bind_rest) {
  WriteTransaction tx(db, what);
  Statement st(db, sql, what);
  st.bind(1, run_id);
  bind_rest(st);
  st.run();
  require_changed_run(db, run_id);
  tx.commit();
}

bool has_run(Connection& db, const std::string& config_hash, const std::string& started_at) {
  Statement st(db, "SELECT 1 FROM runs WHERE config_hash = ?1 AND started_at = ?2 LIMIT 1",
               "look for an existing copy of a run");
  st.bind(1, config_hash).bind(2, started_at);
  return st.step();
}

// Whether process `pid` of this host still exists. EPERM means it exists but belongs to another user.
// A killed process its parent has not reaped yet keeps its pid as a zombie, but it has stopped for good.
bool process_exists(std::int64_t pid) {
  if (pid <= 0 || pid > INT_MAX) return true;  // not a pid this code recorded: cannot tell, assume alive
  if (::kill(static_cast<pid_t>(pid), 0) != 0) return errno == EPERM;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const std::size_t name_end = line.rfind(')');  // "pid (comm) state ...": comm may contain anything
  return !(name_end != std::string::npos && name_end + 2 < line.size() && line[name_end + 2] == 'Z');
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

// ---- merge ----------------------------------------------------------------------------------------------

// Copies the runs of `in` that `out` lacks, all in one transaction so an interrupted merge adds nothing.
MergeStats copy_new_runs(const RunStore& in, Connection& out) {
  const std::string what = fmt::format("merge runs from {}", in.path());
  const std::vector<RunRecord> runs = in.list_runs();
  MergeStats stats;
  WriteTransaction tx(out, what);
  for (const RunRecord& r : runs) {
    if (has_run(out, r.config_hash, r.started_at)) {
      ++stats.skipped;
      continue;
    }
    const std::int64_t new_id = insert_run(out, r, what);
    for (EpochRecord e : in.epochs(r.id)) {
      e.run_id = new_id;
      insert_epoch(out, e, what);
    }
    insert_layers(out, new_id, in.layers(r.id), what);
    ++stats.copied;
  }
  tx.commit();
  return stats;
}

}  // namespace

bool is_valid_run_status(const std::string& status) {
  return std::find(std::begin(kStatuses), std::end(kStatuses), status) != std::end(kStatuses);
}

std::string utc_timestamp_now() { return utc_timestamp(std::time(nullptr)); }

std::int64_t this_process_id() { return static_cast<std::int64_t>(::getpid()); }

std::string this_host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

// ---- lifetime -------------------------------------------------------------------------------------------

RunStore RunStore::open(const std::string& path) {
  auto db = std::make_unique<Connection>(Connection::open(path, Connection::Mode::ReadWrite));
  store_schema::upgrade(*db);
  return RunStore(std::move(db));
}

RunStore RunStore::open_read_only(const std::string& path) {
  auto db = std::make_unique<Connection>(Connection::open(path, Connection::Mode::ReadOnly));
  store_schema::check_readable(*db);
  return RunStore(std::move(db));
}

RunStore::RunStore(std::unique_ptr<Connection> db) : db_(std::move(db)) {}
RunStore::RunStore(RunStore&&) noexcept = default;
RunStore& RunStore::operator=(RunStore&&) noexcept = default;
RunStore::~RunStore() = default;

const std::string& RunStore::path() const { return db_->path(); }

bool RunStore::read_only() const { return db_->read_only(); }

int RunStore::schema_version() const {
  return static_cast<int>(db_->query_int("PRAGMA user_version", "read the schema version"));
}

// ---- writes ---------------------------------------------------------------------------------------------

std::int64_t RunStore::begin_run(const RunRecord& r) {
  RunRecord row = r;
  row.status = "running";
  row.started_at = row.heartbeat_at = utc_timestamp_now();
  row.finished_at.clear();
  row.error.clear();
  row.final_test_acc.reset();
  row.best_test_acc.reset();
  row.train_seconds = 0;
  const std::string what = fmt::format("begin run '{}'", r.name);
  WriteTransaction tx(*db_, what);
  const std::int64_t id = insert_run(*db_, row, what);
  tx.commit();
  return id;
}

void RunStore::add_layers(std::int64_t run_id, const std::vector<LayerRecord>& layers) {
  const std::string what = fmt::format("add the layer table of run {}", run_id);
  WriteTransaction tx(*db_, what);
  insert_layers(*db_, run_id, layers, what);
  tx.commit();
}

void RunStore::record_epoch(const EpochRecord& e) {
  const std::string what = fmt::format("record epoch {} of run {}", e.epoch, e.run_id);
  WriteTransaction tx(*db_, what);
  // The run is updated first so that a failing insert (an epoch recorded twice) also undoes the new
  // accuracies: a reader must never see a best accuracy without the epoch that produced it.
  Statement up(*db_,
               "UPDATE runs SET final_test_acc = ?2, heartbeat_at = ?3, "
               "best_test_acc = CASE WHEN ?2 IS NOT NULL AND (best_test_acc IS NULL OR ?2 > best_test_acc) "
               "THEN ?2 ELSE best_test_acc END "
               "WHERE id = ?1",
               what);
  up.bind(1, e.run_id).bind(2, e.test_acc).bind(3, utc_timestamp_now());
  up.run();
  require_changed_run(*db_, e.run_id);
  insert_epoch(*db_, e, what);
  tx.commit();
}

void RunStore::heartbeat(std::int64_t run_id) {
  update_run(*db_, run_id, "UPDATE runs SET heartbeat_at = ?2 WHERE id = ?1",
             fmt::format("record a heartbeat of run {}", run_id),
             [](Statement& st) { st.bind(2, utc_timestamp_now()); });
}

void RunStore::set_checkpoint(std::int64_t run_id, const std::string& path) {
  update_run(*db_, run_id, "UPDATE runs SET checkpoint_path = ?2, heartbeat_at = ?3 WHERE id = ?1",
             fmt::format("record the checkpoint of run {}", run_id),
             [&](Statement& st) { st.bind(2, path).bind(3, utc_timestamp_now()); });
}

void RunStore::finish_run(std::int64_t run_id, const std::string& status, double train_seconds,
                          const std::string& error) {
  if (!is_valid_run_status(status) || status == "running")
    throw std::invalid_argument(fmt::format("finish_run: '{}' is not a final run status", status));
  const std::string now = utc_timestamp_now();
  update_run(*db_, run_id,
             "UPDATE runs SET status = ?2, train_seconds = ?3, error = ?4, finished_at = ?5, heartbeat_at = ?5 "
             "WHERE id = ?1",
             fmt::format("finish run {}", run_id),
             [&](Statement& st) { st.bind(2, status).bind(3, train_seconds).bind(4, error).bind(5, now); });
}

void RunStore::reopen_run(std::int64_t run_id) {
  update_run(*db_, run_id,
             "UPDATE runs SET status = 'running', heartbeat_at = ?2, finished_at = '', error = '', pid = ?3, "
             "host = ?4 WHERE id = ?1",
             fmt::format("reopen run {}", run_id), [](Statement& st) {
               st.bind(2, utc_timestamp_now()).bind(3, this_process_id()).bind(4, this_host_name());
             });
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

int RunStore::mark_stale_runs(double heartbeat_timeout_seconds) {
  // Timestamps are fixed-width UTC, so string order is time order.
  const std::string cutoff = utc_timestamp(std::time(nullptr) - std::llround(heartbeat_timeout_seconds));
  const std::string what = "mark runs whose process is gone as interrupted";
  const std::string host = this_host_name();
  WriteTransaction tx(*db_, what);
  int count = 0;
  // Runs of this host whose process no longer exists: known dead now, whatever their heartbeat says.
  std::vector<std::int64_t> dead;
  if (!host.empty()) {
    Statement st(*db_, "SELECT id, pid FROM runs WHERE status = 'running' AND pid > 0 AND host = ?1", what);
    st.bind(1, host);
    while (st.step())
      if (!process_exists(st.int64(1))) dead.push_back(st.int64(0));
  }
  // The last heartbeat is the best estimate of when the process died.
  Statement by_pid(*db_,
                   "UPDATE runs SET status = 'interrupted', finished_at = heartbeat_at, error = 'process ' || pid || "
                   "' on ' || host || ' ended without finishing the run (last heartbeat ' || heartbeat_at || ')' "
                   "WHERE id = ?1 AND status = 'running'",
                   what);
  for (std::int64_t id : dead) {
    by_pid.reset();
    by_pid.bind(1, id);
    by_pid.run();
    count += db_->changes();
  }
  Statement st(*db_,
               "UPDATE runs SET status = 'interrupted', error = 'no heartbeat since ' || heartbeat_at, "
               "finished_at = heartbeat_at WHERE status = 'running' AND heartbeat_at < ?1",
               what);
  st.bind(1, cutoff);
  st.run();
  count += db_->changes();
  tx.commit();
  return count;
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

std::optional<RunRecord> RunStore::get_run(std::int64_t id) const {
  Statement st(*db_, select_runs("WHERE id = ?1").c_str(), fmt::format("read run {}", id));
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return read_run(st);
}

std::optional<RunRecord> RunStore::latest_by_hash(const std::string& config_hash) const {
  Statement st(*db_, select_runs("WHERE config_hash = ?1 ORDER BY started_at DESC, id DESC LIMIT 1").c_str(),
               "look up a run by config hash");
  st.bind(1, config_hash);
  if (!st.step()) return std::nullopt;
  return read_run(st);
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

MergeStats RunStore::merge(const std::string& out_path, const std::vector<std::string>& inputs) {
  RunStore out = open(out_path);
  MergeStats total;
  for (const std::string& input : inputs) {
    const RunStore in = open_read_only(input);
    const MergeStats s = copy_new_runs(in, *out.db_);
    total.copied += s.copied;
    total.skipped += s.skipped;
  }
  return total;
}

}  // namespace incept
