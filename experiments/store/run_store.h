#pragma once
// The experiment log: one SQLite file holding every training run, its per-epoch metrics and its layer table.
// Several training processes may write the same file at once (WAL mode, BEGIN IMMEDIATE, 30 s busy
// timeout), and reports read it without blocking them. Every failure (missing directory, read-only file,
// disk full, a file from a newer incept) is an incept::UserError naming the file.
//
// A RunStore is one SQLite connection: use it from one thread at a time; give each thread its own.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "experiments/store/process_identity.h"
#include "experiments/store/run_status.h"

namespace incept {

namespace sqlite {
class Connection;
}

// The checkpoint a run's log vouches for: the file, the position it holds and the MD5 of its payload. A resume
// loads nothing that does not match it (see experiments/train/checkpoint.h).
struct CheckpointRef {
  std::string path;
  std::int64_t epochs_done = 0;  // completed epochs at the checkpoint
  std::int64_t next_batch = 0;   // batches already done in the next epoch (0 at an epoch boundary)
  std::string md5;               // "" for checkpoints recorded before schema 3 (they carry no identity)
};

struct RunRecord {
  std::int64_t id = 0;   // this log's number for the run (merges renumber)
  std::string uid;       // globally unique, kept by merges; set by begin_run (ignored on insert)
  std::string name;
  RunStatus status = RunStatus::running;
  std::string config_toml;  // the resolved config
  std::string config_hash;
  // The experiment the run belongs to (experiment_hash(), seed included): what sweeps and reports compare.
  // begin_run computes it from config_toml when it is empty.
  std::string experiment_hash;
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
  std::string claimed_at;  // when its current (or last) holder claimed it
  std::string error;
  CheckpointRef checkpoint;  // path "" = none yet
  std::int64_t epochs_planned = 0;
  // Prefix reuse: the uid of the run whose training recorded this run's epochs (the same computation up to this
  // run's last epoch, trained once to the longer run's end); "" for a run trained on its own.
  std::string trained_with;
  // Packing: the uid of the first run of the packed network it trained in ("" when it trained alone), the number of
  // runs in that pack, and whether its steps replayed a CUDA graph. A packed run's epoch seconds and images/s are the
  // whole pack's.
  std::string packed_with;
  std::int64_t pack_size = 0;
  bool cuda_graph = false;
  std::int64_t epochs_done = 0;  // read-only: number of epoch rows (filled by queries, ignored on insert)
  // The process that holds (or last held) the run. begin_run and claim_run record the calling process; on insert
  // through merge the fields are copied. Hosts are told apart by name only: machines (or containers with their
  // own pid namespace) sharing one log need distinct names.
  std::int64_t pid = 0;
  std::string host;
  std::string process_start;
  ProcessIdentity holder() const { return {pid, host, process_start}; }
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
  int updated = 0;  // runs the output had in an older state (fewer epochs, not yet finished): replaced
  int skipped = 0;  // runs the output already had as they are (or in a newer state)
};

// A claim on a run: the token its holder writes with. Every write to a claimed run is conditioned on the token,
// so a process that lost its claim (declared dead, run taken over) can never write into the run again.
struct RunClaim {
  std::int64_t run_id = 0;
  std::string uid;
  std::string token;
};

// A sweep's declared work: one (variant, seed) cell.
struct SweepCell {
  std::string sweep;
  std::string variant;
  std::int64_t seed = 0;
  std::int64_t position = 0;     // order in the sweep's plan
  std::string experiment_hash;   // what a run must have trained to answer it
  std::string config_toml;       // the resolved config it trains
  std::int64_t params = 0, macs = 0;
  std::string worker;            // claim token of the sweep process working on it; "" = none
  ProcessIdentity worker_process;
  std::string claimed_at, heartbeat_at;
  std::string error;             // why its last attempt failed before a run existed
};

// A run that answers a sweep cell.
struct SweepMember {
  std::string variant;
  std::int64_t seed = 0;
  std::string run_uid;
  bool reused = false;  // trained outside this cell (alone or by another sweep), reused because identical
  std::string added_at;
};

// What `incept sweep --jobs auto` measured: training throughput of one workload with `jobs` trainings side by side,
// `threads` each, on one host.
struct CalibrationPoint {
  int jobs = 1;
  int threads = 1;
  double images_per_s = 0;     // training images per second, every training together
  std::int64_t peak_rss = 0;   // bytes, the largest resident size of one training (0 = unknown)
};
struct Calibration {
  std::string uid;           // set by record_calibration when empty
  std::string measured_at;   // set by record_calibration when empty
  std::string host;
  int cores = 0;             // the cores the sweep could use
  std::string workload;      // calibration_workload(): the experiment without seed and epochs
  std::string config_name;
  double load = 0;           // the host's 1-minute load average before measuring (other work shares the cores)
  std::vector<CalibrationPoint> points;
};

struct SweepInfo {
  std::string name;
  std::string baseline;  // "" = the first variant
  std::string file;
};

// Who holds a running run, for messages: "pid 123 on host (since ..., last heartbeat ...)".
std::string describe_holder(const RunRecord& r);
// The refusal of a second claimant of a live run: "run N is being trained by <describe_holder>; ...".
std::string held_by_another_message(const RunRecord& r);

// Current UTC time as "YYYY-MM-DDTHH:MM:SSZ" (the format of every timestamp in the log).
std::string utc_timestamp_now();

// The journal a writing connection keeps the log in, from INCEPT_JOURNAL_MODE (any other value is a UserError):
// `wal` (default): readers never block writers, but every process that opens the file must run on one host (WAL
// coordinates through shared memory); `delete`: SQLite's rollback journal, locked with POSIX file locks, which
// network file systems carry between hosts. Slurm sweeps use `delete` for every log their jobs open. A writer
// switches the file to its mode when it opens it; readers leave it as it is.
enum class JournalMode { wal, rollback };
JournalMode journal_mode_setting();

class RunStore {
 public:
  // Read-write; creates the file (never a missing directory) and upgrades its schema.
  static RunStore open(const std::string& path);
  // For reports: never writes, never blocks writers; the file must exist and be at this build's schema.
  static RunStore open_read_only(const std::string& path);
  // For commands that only show a log (runs, show, report): read-only, after two writes when the file and its
  // folder are writable: upgrading an older schema and marking runs whose holder is gone as interrupted. When those
  // writes fail (a full disk), a warning saying so goes to `warnings`: the statuses shown may then be stale, and the
  // reader must know. A missing file is a UserError "no database at PATH".
  static RunStore open_for_reading(const std::string& path, std::ostream& warnings);

  RunStore(RunStore&&) noexcept;
  RunStore& operator=(RunStore&&) noexcept;
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;
  ~RunStore();

  // The columns of `runs` that RunRecord maps (all but id and the claim token), in the order of the one table that
  // drives reads, inserts and merges.
  static std::vector<std::string> stored_columns();

  const std::string& path() const;
  bool read_only() const;
  int schema_version() const;

  // ---- a run's life: every write below to a run needs this connection's claim on it ----
  // Inserts `r` (its id, uid, status, timestamps, metrics and epochs_done are ignored) as status 'running' held
  // by the calling process, with a fresh uid and claim; returns the new id. A run of a sweep (r.sweep) becomes a
  // member of its cell (r.variant, r.seed) in the same transaction.
  std::int64_t begin_run(const RunRecord& r);
  // Takes a stopped run (interrupted, failed, diverged) for the calling process, in one transaction: its status
  // becomes 'running' with a fresh claim, heartbeat and holder. Refused (UserError) when the run does not exist,
  // completed, or is held by a live process ("run N is being trained by pid P on HOST since ..."); a holder that
  // died is recognised first. With `expected_checkpoint_md5`, also refused when the log's checkpoint changed since
  // the caller verified it.
  RunClaim claim_run(std::int64_t run_id, const std::optional<std::string>& expected_checkpoint_md5 = std::nullopt);
  // Gives a claimed run back as it was before claim_run (status and error), for a resume that could not start.
  void release_run(std::int64_t run_id, RunStatus status, const std::string& error);
  // This connection's claim on a run it began or claimed (for another connection of the same process: adopt it).
  RunClaim claim_of(std::int64_t run_id) const;
  void adopt_claim(const RunClaim& claim);

  // All rows in one transaction; `run_id` overrides each layer's run_id.
  void add_layers(std::int64_t run_id, const std::vector<LayerRecord>& layers);
  // One transaction: the epoch row, the run's final/best test accuracy, its heartbeat and (when given) the
  // checkpoint that holds the state after this epoch change together, so the log and its checkpoint never
  // disagree about the position. Recording an epoch twice is an error.
  void record_epoch(const EpochRecord& e, const std::optional<CheckpointRef>& checkpoint = std::nullopt);
  // Whether this connection still holds the run; refreshes its heartbeat when it does. Never throws for a lost
  // claim (the heartbeat thread asks; the trainer decides).
  bool heartbeat(std::int64_t run_id);
  void set_checkpoint(std::int64_t run_id, const CheckpointRef& checkpoint);
  // Records the packed network the run trains in (runs.packed_with: the pack's first run's uid, pack_size) and whether
  // its training steps replay a CUDA graph (runs.cuda_graph).
  void set_packing(std::int64_t run_id, const std::string& packed_with, std::int64_t pack_size, bool cuda_graph);
  // Sets status (any but running), train_seconds, error and finished_at = now; the claim ends.
  void finish_run(std::int64_t run_id, RunStatus status, double train_seconds, const std::string& error = "");
  // Drops epochs >= `epoch` (a checkpoint written before schema 3 may be one epoch behind its log) and recomputes
  // final/best test accuracy.
  void delete_epochs_from(std::int64_t run_id, int epoch);
  // Appends `note` to the error of a run that is not running (a failed or interrupted run told why from outside:
  // "Slurm: array task 12_3 ended TIMEOUT"); a note the error already contains is not added again. Returns
  // whether the error changed.
  bool note_run_error(std::int64_t run_id, const std::string& note);
  // 'running' runs whose holder is gone become 'interrupted' (finished_at = their last heartbeat); returns how
  // many. A run held by a process of this host is gone exactly when that process is (error "process <pid> on
  // <host> ended without finishing the run (last heartbeat <heartbeat_at>)"), however old its heartbeat: a
  // stopped or busy process is alive. Any other run once its heartbeat is older than the lease (error "no
  // heartbeat since <heartbeat_at>").
  int mark_stale_runs(double lease = lease_seconds());

  // ---- sweeps ----
  // Records what a sweep declares: its baseline and every cell (new cells added, known ones given their current
  // position and experiment; members of a cell whose experiment changed are dropped from it).
  void register_sweep(const SweepInfo& sweep, const std::vector<SweepCell>& cells);
  std::optional<SweepInfo> sweep_info(const std::string& sweep) const;
  std::vector<std::string> sweep_names() const;
  std::vector<SweepCell> sweep_cells(const std::string& sweep) const;  // by position
  std::vector<SweepMember> sweep_members(const std::string& sweep) const;  // by added_at
  // Takes a cell for the sweep process `worker` (token) unless another live sweep process holds it; returns
  // whether it did. Another host's worker is alive while its heartbeat is younger than the lease.
  bool claim_cell(const std::string& sweep, const std::string& variant, std::int64_t seed, const std::string& worker);
  // Lets go of a cell `worker` holds, recording `error` (a failure before any run existed; "" clears it).
  void release_cell(const std::string& sweep, const std::string& variant, std::int64_t seed,
                    const std::string& worker, const std::string& error);
  // Refreshes the heartbeat of every cell `worker` holds.
  void heartbeat_cells(const std::string& worker);
  // Records that run `run_uid` answers a cell (no-op when it already does).
  void add_member(const std::string& sweep, const std::string& variant, std::int64_t seed, const std::string& run_uid,
                  bool reused);

  // ---- calibrations (--jobs auto) ----
  void record_calibration(const Calibration& c);
  // The newest calibration of `workload` on `host` with `cores` cores, if this log has one.
  std::optional<Calibration> latest_calibration(const std::string& host, int cores, const std::string& workload) const;

  // Runs `body` in one write transaction: the store's own writes inside it join it, and an exception rolls all
  // of it back. For decisions that must read and write atomically (a sweep claiming its next cell).
  void write_transaction(const std::string& what, const std::function<void()>& body);

  std::vector<RunRecord> list_runs(const std::string& sweep = "") const;  // ordered by id; "" = all
  std::optional<RunRecord> get_run(std::int64_t id) const;
  std::optional<RunRecord> get_run_by_uid(const std::string& uid) const;
  // The runs of one experiment (experiment_hash()), oldest first (by started_at, then id).
  std::vector<RunRecord> runs_of_experiment(const std::string& experiment_hash) const;
  std::vector<EpochRecord> epochs(std::int64_t run_id) const;  // ordered by epoch
  std::vector<LayerRecord> layers(std::int64_t run_id) const;  // ordered by idx

  // Joins `inputs` into `out_path` by run uid, in one transaction: a run the output lacks is copied (with a new
  // id), one it has in an older state (fewer epochs; running or interrupted where the input has finished) is
  // replaced with its epochs and layers, anything else is left alone; sweep cells and members are joined. Merging
  // the same files again changes nothing. On any error the output is left as it was, and is not created when it
  // did not exist. With `only`, just the runs it accepts are joined, and no sweep records: a log seeded with the
  // runs a worker is to resume. Calibrations are joined either way (a worker reuses its host's).
  static MergeStats merge(const std::string& out_path, const std::vector<std::string>& inputs,
                          const std::function<bool(const RunRecord&)>& only = nullptr);

 private:
  explicit RunStore(std::unique_ptr<sqlite::Connection> db);
  const std::string& token_of(std::int64_t run_id) const;  // throws std::logic_error without a claim
  std::unique_ptr<sqlite::Connection> db_;
  std::map<std::int64_t, std::string> claims_;  // run id -> claim token this connection writes with
};

}  // namespace incept
