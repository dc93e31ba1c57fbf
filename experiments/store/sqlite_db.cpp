#include "experiments/store/sqlite_db.h"

#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "framework/diagnostics.h"

namespace incept::sqlite {
namespace {

namespace fs = std::filesystem;

fs::path directory_of(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  return dir.empty() ? fs::path(".") : dir;
}

bool is_busy(int rc) {
  const int primary = rc & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

// A reader needs the -wal and -shm files of a WAL database; if they are missing (the file was copied
// without them) and cannot be created, that is what the user must fix, not the file's permissions.
std::string explain_unreadable(const std::string& path) {
  std::error_code ec;
  const fs::path dir = directory_of(path);
  if (fs::exists(path + "-wal", ec) || ::access(dir.c_str(), W_OK) == 0) return "";
  return fmt::format("its {}-wal and -shm files are missing and directory {} is not writable; copy the "
                     "database to a writable directory to read it",
                     fs::path(path).filename().string(), dir.string());
}

// Plain words for the result codes a user can act on; the SQLite message is kept as detail.
std::string reason(int rc, sqlite3* db, const std::string& path, Connection::Mode mode) {
  const std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return fmt::format("disk full (SQLITE_FULL: {})", detail);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return fmt::format("database is locked by another process; gave up after {} s (SQLITE_BUSY)",
                         kBusyTimeoutMs / 1000);
    case SQLITE_NOTADB:
      return "file is not a database (SQLITE_NOTADB)";
    case SQLITE_CORRUPT:
      return fmt::format("database file is corrupt (SQLITE_CORRUPT: {})", detail);
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM: {
      const std::string why =
          mode == Connection::Mode::ReadOnly ? explain_unreadable(path) : explain_unwritable(path);
      return why.empty() ? detail : fmt::format("{} ({})", why, detail);
    }
    case SQLITE_IOERR:
      return fmt::format("I/O error (SQLITE_IOERR: {})", detail);
    default:
      return detail;
  }
}

}  // namespace

std::string explain_unwritable(const std::string& path) {
  std::error_code ec;
  const fs::path dir = directory_of(path);
  if (!fs::is_directory(dir, ec)) return fmt::format("directory {} does not exist", dir.string());
  if (fs::is_directory(path, ec)) return fmt::format("{} is a directory", path);
  const bool exists = fs::exists(path, ec);
  if (exists) {
    if (::access(path.c_str(), R_OK) != 0) return "file is not readable";
    if (::access(path.c_str(), W_OK) != 0) return "file is read-only";
    for (const char* suffix : {"-wal", "-shm"}) {
      const std::string companion = path + suffix;
      if (fs::exists(companion, ec) && ::access(companion.c_str(), W_OK) != 0)
        return fmt::format("its companion file {} is read-only", companion);
    }
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    if (!exists) return fmt::format("directory {} is not writable", dir.string());
    // Writing a WAL database means creating its -wal and -shm companions in the same directory.
    return fmt::format("directory {} is not writable, and SQLite must create {}-wal and -shm there",
                       dir.string(), fs::path(path).filename().string());
  }
  return "";
}

// ---------------------------------------------------------------------------------------------------------
// Connection

Connection Connection::open(const std::string& path, Mode mode) {
  std::error_code ec;
  const fs::path dir = directory_of(path);
  if (!fs::is_directory(dir, ec))
    throw UserError(fmt::format("cannot open database {}: directory {} does not exist", path, dir.string()));
  if (mode == Mode::ReadOnly && !fs::exists(path, ec)) throw UserError(fmt::format("no database at {}", path));

  const int flags = mode == Mode::ReadWrite ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) : SQLITE_OPEN_READONLY;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Connection conn(raw, path, mode);  // owns the handle even on failure: SQLite allocates one to carry the error
  if (rc != SQLITE_OK) throw UserError(fmt::format("cannot open database {}: {}", path, reason(rc, raw, path, mode)));

  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  // SQLite silently falls back to read-only when it cannot write the file; a writer must learn that now,
  // not at its first epoch.
  if (mode == Mode::ReadWrite && sqlite3_db_readonly(raw, "main") == 1) {
    const std::string why = explain_unwritable(path);
    throw UserError(fmt::format("cannot open database {} for writing: {}", path,
                                why.empty() ? "file is read-only" : why));
  }
  conn.exec("PRAGMA foreign_keys = ON", "enable foreign keys");
  return conn;
}

Connection::Connection(Connection&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)), mode_(other.mode_) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
    mode_ = other.mode_;
  }
  return *this;
}

Connection::~Connection() {
  if (db_) sqlite3_close_v2(db_);
}

void Connection::exec(const std::string& sql, const std::string& what) {
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(rc, what);
}

void Connection::exec_retrying_busy(const std::string& sql, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  for (;;) {
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return;
    if (!is_busy(rc) || std::chrono::steady_clock::now() >= deadline) fail(rc, what);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::int64_t Connection::query_int(const std::string& sql, const std::string& what) {
  Statement st(*this, sql.c_str(), what);
  return st.step() ? st.int64(0) : 0;
}

void Connection::keep_wal_files() {
  int on = 1;
  const int rc = sqlite3_file_control(db_, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
  if (rc != SQLITE_OK) fail(rc, "keep the WAL files");
}

std::int64_t Connection::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }

int Connection::changes() const { return sqlite3_changes(db_); }

void Connection::fail(int rc, const std::string& what) const {
  throw UserError(fmt::format("database {}: cannot {}: {}", path_, what, reason(rc, db_, path_, mode_)));
}

// ---------------------------------------------------------------------------------------------------------
// Statement

Statement::Statement(Connection& db, const char* sql, std::string what) : db_(&db), what_(std::move(what)) {
  const int rc = sqlite3_prepare_v2(db.handle(), sql, -1, &stmt_, nullptr);
  if (rc != SQLITE_OK) db.fail(rc, what_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), what_(std::move(other.what_)) {}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

void Statement::check_bind(int rc) {
  if (rc != SQLITE_OK) db_->fail(rc, what_);
}

Statement& Statement::bind(int idx, std::int64_t v) {
  check_bind(sqlite3_bind_int64(stmt_, idx, v));
  return *this;
}

Statement& Statement::bind(int idx, double v) {
  check_bind(std::isnan(v) ? sqlite3_bind_null(stmt_, idx) : sqlite3_bind_double(stmt_, idx, v));
  return *this;
}

Statement& Statement::bind(int idx, const std::optional<double>& v) {
  check_bind(v ? sqlite3_bind_double(stmt_, idx, *v) : sqlite3_bind_null(stmt_, idx));
  return *this;
}

Statement& Statement::bind(int idx, const std::string& v) {
  check_bind(sqlite3_bind_text(stmt_, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->fail(rc, what_);
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }

double Statement::real(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nan("");
  return sqlite3_column_double(stmt_, col);
}

std::optional<double> Statement::opt_real(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_double(stmt_, col);
}

std::string Statement::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  if (!p) return "";
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

// ---------------------------------------------------------------------------------------------------------
// WriteTransaction

WriteTransaction::WriteTransaction(Connection& db, std::string what) : db_(db), what_(std::move(what)) {
  if (sqlite3_get_autocommit(db_.handle()) == 0) return;  // inside an enclosing transaction, which decides
  db_.exec_retrying_busy("BEGIN IMMEDIATE", what_);
  open_ = true;
}

WriteTransaction::~WriteTransaction() {
  // SQLite already rolls back by itself after some errors (SQLITE_FULL, I/O errors); only roll back what is left.
  if (open_ && sqlite3_get_autocommit(db_.handle()) == 0) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void WriteTransaction::commit() {
  if (!open_) return;
  db_.exec("COMMIT", what_);
  open_ = false;
}

}  // namespace incept::sqlite
