#pragma once
// The experiment log: one SQLite file holding every training run, its per-epoch metrics and its layer table.
// Several training processes may write the same file at once (WAL mode, BEGIN IMMEDIATE, 30 s busy
// timeout), and reports read it without blocking them. Every failure (missing directory, read-only file,
// disk full, a file from a newer incept) is an incept::UserError naming the file.
//
// A RunStore is one SQLite connection: use it from one thread at a time; give each thread its own.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace incept {

namespace sqlite {
class Connection;
}

struct RunRecord {
  std::int64_t id = 0;
  std::string name;
  std::string status;       // running | completed | failed | diverged | interrupted
  std::string config_toml;  // the resolved config
  std::string config_hash;
  std::string device;
  std::string torch_version;
  std::string sweep;    // sweep name, or ""
  std::string variant;  // variant name within the sweep, or ""
  std::int64_t seed = 0;
  std::int64_t params = 0;
  std::int64_t macs = 0;
  std::optional<double> final_test_acc;  // the last recorded epoch's test accuracy
  std::optional<double> best_test_acc;
  double train_seconds = 0;
  std::string started_at;  // UTC "YYYY-MM-DDTHH:MM:SSZ"
  std::string finished_at;
  std::string heartbeat_at;
  std::string error;
  std::string checkpoint_path;
  std::int64_t epochs_planned = 0;
  std::int64_t epochs_done = 0;  // read-only: number of epoch rows (filled by queries, ignored on insert)
  // The process that runs (or last ran) the run: its id and the host it runs on, so a 'running' run whose
  // process has died on this host is marked interrupted at once. 0 / "" = unknown (then only the heartbeat
  // timeout applies). The trainer fills them with this_process_id() and this_host_name(). Hosts are told apart
  // by name only: machines (or containers with their own pid namespace) sharing one log need distinct names.
  std::int64_t pid = 0;
  std::string host;
};

// Metrics a training step could not compute (a diverged loss) are NaN; they read back as NaN.
struct EpochRecord {
  std::int64_t run_id = 0;
  int epoch = 0;
  double train_loss = 0;
  double train_acc = 0;
  double test_loss = 0;
  double test_acc = 0;
  double lr = 0;
  double seconds = 0;
  double images_per_s = 0;
};

struct LayerRecord {
  std::int64_t run_id = 0;
  int idx = 0;
  std::string name;
  std::string block;
  std::string output_shape;
  std::int64_t params = 0;
  std::int64_t macs = 0;
};

struct MergeStats {
  int copied = 0;   // runs added to the output
  int skipped = 0;  // runs the output already had (same config_hash and started_at)
};

// The statuses a run can have; finish_run accepts all but "running".
bool is_valid_run_status(const std::string& status);

// Current UTC time as "YYYY-MM-DDTHH:MM:SSZ" (the format of every timestamp in the log).
std::string utc_timestamp_now();

// What RunRecord::pid and RunRecord::host hold for the calling process.
std::int64_t this_process_id();
std::string this_host_name();

// A running run heartbeats at least every ten seconds and after every epoch; one silent this long, whose process
// cannot be checked (another host, an old log), has died.
constexpr double kHeartbeatTimeoutSeconds = 120;

class RunStore {
 public:
  // Read-write; creates the file (never a missing directory) and upgrades its schema.
  static RunStore open(const std::string& path);
  // For reports: never writes, never blocks writers; the file must exist and be at this build's schema.
  static RunStore open_read_only(const std::string& path);

  RunStore(RunStore&&) noexcept;
  RunStore& operator=(RunStore&&) noexcept;
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;
  ~RunStore();

  const std::string& path() const;
  bool read_only() const;
  int schema_version() const;

  // Inserts `r` (its id, status, timestamps, metrics and epochs_done are ignored) as status 'running' with
  // started_at = heartbeat_at = now; returns the new id.
  std::int64_t begin_run(const RunRecord& r);
  // All rows in one transaction; `run_id` overrides each layer's run_id.
  void add_layers(std::int64_t run_id, const std::vector<LayerRecord>& layers);
  // One transaction: the epoch row, the run's final/best test accuracy and its heartbeat change together.
  // Recording an epoch twice is an error (use delete_epochs_from when resuming).
  void record_epoch(const EpochRecord& e);
  void heartbeat(std::int64_t run_id);
  void set_checkpoint(std::int64_t run_id, const std::string& path);
  // Sets status (any valid status but "running"), train_seconds, error and finished_at = now.
  void finish_run(std::int64_t run_id, const std::string& status, double train_seconds,
                  const std::string& error = "");
  // For resume: status back to 'running', fresh heartbeat, finished_at and error cleared; the calling
  // process (this_process_id() on this_host_name()) becomes the run's process.
  void reopen_run(std::int64_t run_id);
  // Drops epochs >= `epoch` (resuming from an earlier checkpoint) and recomputes final/best test accuracy.
  void delete_epochs_from(std::int64_t run_id, int epoch);
  // 'running' runs whose process is gone become 'interrupted' (finished_at = their last heartbeat);
  // returns how many. A run recorded with a pid on this host is gone as soon as that process no longer
  // exists (error "process <pid> on <host> ended without finishing the run (last heartbeat <heartbeat_at>)");
  // any other run once its heartbeat is older than the timeout (error "no heartbeat since <heartbeat_at>").
  int mark_stale_runs(double heartbeat_timeout_seconds = kHeartbeatTimeoutSeconds);

  std::vector<RunRecord> list_runs(const std::string& sweep = "") const;  // ordered by id; "" = all
  std::optional<RunRecord> get_run(std::int64_t id) const;
  std::vector<EpochRecord> epochs(std::int64_t run_id) const;  // ordered by epoch
  std::vector<LayerRecord> layers(std::int64_t run_id) const;  // ordered by idx
  // The newest run (by started_at, then id) with that config hash, whatever its status.
  std::optional<RunRecord> latest_by_hash(const std::string& config_hash) const;

  // Copies every run of `inputs` (with new ids) and its epochs and layers into `out_path`, created if
  // missing. A run the output already has (same config_hash and started_at) is skipped, so merging
  // the same files again is harmless. Each input is copied in one transaction.
  static MergeStats merge(const std::string& out_path, const std::vector<std::string>& inputs);

 private:
  explicit RunStore(std::unique_ptr<sqlite::Connection> db);
  std::unique_ptr<sqlite::Connection> db_;
};

}  // namespace incept
