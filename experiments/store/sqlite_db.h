#pragma once
// A thin RAII layer over the SQLite C API, private to the experiment log.
// Its one job beyond resource handling is turning every SQLite failure into a UserError that names the
// database file and the operation, because a run log lives on shared disks where "database is locked",
// "disk full" and "read-only" are everyday environment problems rather than bugs.
#include <cstdint>
#include <optional>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace incept::sqlite {

// How long a connection waits for another process's write lock before giving up.
constexpr int kBusyTimeoutMs = 30000;

class Connection {
 public:
  enum class Mode { ReadWrite, ReadOnly };

  // ReadWrite creates the file (never its directory); ReadOnly requires the file to exist.
  // Sets busy_timeout and foreign keys; reads nothing, so callers decide what to check first.
  static Connection open(const std::string& path, Mode mode);

  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs one or more statements that return no rows needed by the caller; `what` names the operation in errors.
  void exec(const std::string& sql, const std::string& what);
  // Like exec, but retries for up to kBusyTimeoutMs while SQLite reports SQLITE_BUSY without having waited
  // (it skips the busy handler in a few cases, e.g. while another connection recovers the WAL).
  void exec_retrying_busy(const std::string& sql, const std::string& what);
  // A single integer, e.g. a PRAGMA value.
  std::int64_t query_int(const std::string& sql, const std::string& what);

  // SQLITE_FCNTL_PERSIST_WAL: the -wal and -shm files outlive this connection.
  void keep_wal_files();

  std::int64_t last_insert_id() const;
  int changes() const;  // rows modified by the last statement
  bool read_only() const { return mode_ == Mode::ReadOnly; }
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  // Throws UserError "database PATH: WHAT failed: REASON" for the SQLite result code `rc`.
  [[noreturn]] void fail(int rc, const std::string& what) const;

 private:
  Connection(sqlite3* db, std::string path, Mode mode) : db_(db), path_(std::move(path)), mode_(mode) {}
  sqlite3* db_ = nullptr;
  std::string path_;
  Mode mode_ = Mode::ReadWrite;
};

// A prepared statement bound to one connection; errors carry the connection's path and `what`.
class Statement {
 public:
  Statement(Connection& db, const char* sql, std::string what);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQL (?1, ?2, ...).
  Statement& bind(int idx, std::int64_t v);
  Statement& bind(int idx, int v) { return bind(idx, static_cast<std::int64_t>(v)); }
  Statement& bind(int idx, double v);  // NaN is stored as NULL (SQLite has no NaN)
  Statement& bind(int idx, const std::optional<double>& v);
  Statement& bind(int idx, const std::string& v);
  Statement& bind(int idx, const char* v) { return bind(idx, std::string(v)); }

  bool step();  // true while a row is available
  void run();   // executes a statement that returns no rows
  void reset();  // ready to step again with new bindings

  std::int64_t int64(int col) const;  // 0-based columns; NULL reads as 0
  double real(int col) const;         // NULL reads as NaN (the value that was stored as NULL)
  std::optional<double> opt_real(int col) const;
  std::string text(int col) const;    // NULL reads as ""

 private:
  void check_bind(int rc);
  Connection* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string what_;
};

// A write transaction taken with BEGIN IMMEDIATE, so the write lock is acquired up front (where waiting
// is safe) instead of when a read transaction tries to upgrade (where SQLite fails at once with
// SQLITE_BUSY). Rolls back unless commit() is called. Inside an enclosing transaction it does nothing: the
// enclosing one commits or rolls back the whole (an exception from the inner part reaches it and rolls back).
class WriteTransaction {
 public:
  WriteTransaction(Connection& db, std::string what);
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  ~WriteTransaction();
  void commit();

 private:
  Connection& db_;
  std::string what_;
  bool open_ = false;
};

// Why a database file cannot be opened for writing, judged from the file system, e.g.
// "directory /x does not exist", "directory /x is not writable", "file is read-only"; "" if no reason found.
std::string explain_unwritable(const std::string& path);

}  // namespace incept::sqlite
