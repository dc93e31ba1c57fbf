#pragma once
// Helpers for the reliability tests: running the real `incept` binary (in the background, as another user,
// several at once), reading a run log behind RunStore's back, and a tiny config that trains in about a second.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/temp_files.h"
#include "tests/support/tiny_config.h"

namespace incept::reliability {

namespace fs = std::filesystem;
using incept::testing::CommandResult;
using incept::testing::TempDir;

inline const char* kTinyConfig = incept::testing::kTinyTrainingConfig;

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// What a crash or an uncaught exception leaves on stderr; a user-facing error must contain none of it.
inline bool looks_like_a_crash(const std::string& err) {
  for (const char* marker : {"frame #", "terminate called", "Exception raised from", "Aborted", "Segmentation",
                             "core dumped", "AddressSanitizer", "runtime error:"})
    if (contains(err, marker)) return true;
  return false;
}

// `incept ARGS` started in the background, stdin from /dev/null, stdout and stderr into files in `log_dir`.
// With `as_nobody` the child drops to uid/gid 65534 first (tests run as root, which ignores permissions); with an
// `address_space_limit` (bytes; 0 = none) its address space is limited before it execs, as `ulimit -v` does.
class InceptProcess {
 public:
  InceptProcess(const std::vector<std::string>& args, const fs::path& cwd, const fs::path& log_dir,
               const std::string& tag, bool as_nobody = false, rlim_t address_space_limit = 0)
      : out_(log_dir / (tag + ".out")), err_(log_dir / (tag + ".err")) {
    std::vector<std::string> argv_s = {INCEPT_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      const int in = ::open("/dev/null", O_RDONLY);
      const int out = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
      const int err = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
      if (in < 0 || out < 0 || err < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(126);
      if (::chdir(cwd.c_str()) != 0) ::_exit(126);
      if (as_nobody && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(125);
      const struct rlimit limit = {address_space_limit, address_space_limit};
      if (address_space_limit > 0 && ::setrlimit(RLIMIT_AS, &limit) != 0) ::_exit(125);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  InceptProcess(const InceptProcess&) = delete;
  InceptProcess& operator=(const InceptProcess&) = delete;
  ~InceptProcess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  pid_t pid() const { return pid_; }
  bool running() {
    if (reaped_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
    record(status);
    return false;
  }
  // Exit status, or 128 + signal number for a killed process (as a shell reports it).
  int wait() {
    if (!reaped_) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      record(status);
    }
    return status_;
  }
  void kill(int sig) { ::kill(pid_, sig); }
  CommandResult result() {
    CommandResult r;
    r.status = wait();
    r.out = slurp(out_);
    r.err = slurp(err_);
    return r;
  }

 private:
  void record(int status) {
    reaped_ = true;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  fs::path out_, err_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = -1;
};

// Runs `incept ARGS` to completion (see InceptProcess).
inline CommandResult run_incept(const std::vector<std::string>& args, const fs::path& cwd, bool as_nobody = false) {
  TempDir logs;
  InceptProcess p(args, cwd, logs.path(), "incept", as_nobody);
  return p.result();
}

// Whether this process can run children as user 'nobody' (it is root and setuid works); permission tests
// skip (INCEPT_SKIP, a visible skip in ctest) where it cannot.
inline bool can_run_as_nobody() {
  if (::geteuid() != 0) return false;
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(::setgid(65534) == 0 && ::setuid(65534) == 0 ? 0 : 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// ---- SQLite behind RunStore's back ------------------------------------------------------------------------

inline std::string sql_text(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out = "<cannot open>";
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 30000);
    sqlite3_stmt* st = nullptr;
    out = "<no row>";
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) out = std::string("<") + sqlite3_errmsg(db) + ">";
    else if (sqlite3_step(st) == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(st, 0);
      out = t ? reinterpret_cast<const char*>(t) : "";
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

// "ok" for an intact database file.
inline std::string integrity_check(const std::string& db_path) { return sql_text(db_path, "PRAGMA integrity_check"); }

inline void sql_exec(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open(db_path.c_str(), &db);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, 30000);
    rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
  const std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error("sql_exec: " + msg);
}

// Polls `done` every 20 ms for up to `seconds`; returns whether it became true.
template <typename Pred>
bool wait_until(Pred done, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace incept::reliability
