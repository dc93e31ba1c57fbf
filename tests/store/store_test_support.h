#pragma once
// Helpers shared by the experiment-log tests: scratch directories and direct SQLite access for forging
// states the RunStore API cannot produce (an old heartbeat, a file from a newer build).
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "experiments/store/run_store.h"

namespace incept::store_test {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed (permissions restored first) when done.
class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "incept-store-XXXXXX").string();
    if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// Runs SQL on the file with a separate raw connection (behind RunStore's back).
inline void raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open(path.c_str(), &db);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, 30000);
    rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
  const std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error("raw_exec: " + msg);
}

inline std::string raw_query_text(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::string v = "<no row>";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(st, 0);
    v = t ? reinterpret_cast<const char*>(t) : "";
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

inline std::int64_t raw_query_int(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

inline RunRecord sample_run(const std::string& name, const std::string& hash = "hash-a",
                            const std::string& sweep = "") {
  RunRecord r;
  r.name = name;
  r.config_toml = "[model]\nname = \"" + name + "\"\n";
  r.config_hash = hash;
  r.device = "cpu";
  r.torch_version = "1.13.1";
  r.sweep = sweep;
  r.variant = sweep.empty() ? "" : "v-" + name;
  r.seed = 42;
  r.params = 123456;
  r.macs = 7890123;
  r.epochs_planned = 10;
  return r;
}

inline EpochRecord sample_epoch(std::int64_t run_id, int epoch, double test_acc) {
  EpochRecord e;
  e.run_id = run_id;
  e.epoch = epoch;
  e.train_loss = 1.0 / epoch;
  e.train_acc = test_acc + 0.01;
  e.test_loss = 1.5 / epoch;
  e.test_acc = test_acc;
  e.lr = 0.1 / epoch;
  e.seconds = 2.5;
  e.images_per_s = 24000;
  return e;
}

inline std::vector<LayerRecord> sample_layers(int n) {
  std::vector<LayerRecord> out;
  for (int i = 0; i < n; ++i) {
    LayerRecord l;
    l.idx = i;
    l.name = "layer" + std::to_string(i);
    l.block = i % 2 ? "inception_v1" : "conv_bn_relu";
    l.output_shape = "[64, 14, 14]";
    l.params = 1000 * (i + 1);
    l.macs = 100000 * (i + 1);
    out.push_back(l);
  }
  return out;
}

}  // namespace incept::store_test
