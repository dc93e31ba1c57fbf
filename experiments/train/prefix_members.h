#pragma once
// Prefix reuse, the trainer's side: the runs one training records besides its own. A member is an experiment that
// is the same computation as the training's up to the member's last epoch (experiment_identity.h decides it), so
// its figures are the training's figures and its state is the training's state. Each member is a run of its own
// in the log, with its own uid, claim and checkpoints (written for its uid and config hash), and it ends at its own
// last epoch: completed there, with the checkpoint a run trained alone would have left. When the training stops
// first, every member still riding stops with it, truthfully: interrupted with its checkpoint at the same position
// (so `incept resume` continues it alone, or a sweep with the others), diverged at the same batch (the same
// computation diverges there), failed with the same error.
//
// Torch-free: checkpoints are written by a function the trainer passes in. The log connection is the trainer's;
// the heartbeat thread asks which members to keep alive through riding_runs() and reports lost claims.
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "experiments/config/experiment_config.h"
#include "experiments/store/run_store.h"

namespace incept {

// A member to record, as `incept train` is given it: its own resolved config, sweep variant and the experiment
// the sweep planned for it.
struct PrefixMemberConfig {
  ExperimentConfig config;
  std::string variant;
  std::string expect_experiment;
};

// The reason `member` cannot be recorded from a training of `leader`, or nullopt when it can: the same computation
// up to the member's last epoch, which comes before the leader's last.
std::optional<std::string> prefix_member_mismatch(const toml::table& leader, const toml::table& member);

class PrefixMembers {
 public:
  struct Member {
    std::int64_t run_id = 0;
    std::string uid;
    std::string config_hash;
    std::int64_t epochs = 0;  // its last epoch
    CheckpointRef checkpoint;  // the one its log vouches for
    RunStatus status = RunStatus::running;
    std::string error;
    double train_seconds = 0;
  };
  // A checkpoint of the training's current state, written for another run (uid, config hash).
  using SaveCheckpoint = std::function<CheckpointRef(const std::string& uid, const std::string& config_hash)>;

  PrefixMembers(RunStore& store, std::string db_path);

  // Begins a fresh member's run (with `base` as the leader's run record: device, versions) and its layer table.
  void begin(const PrefixMemberConfig& m, const RunRecord& base, const std::string& leader_uid,
             const std::vector<LayerRecord>& layers);
  // Claims a stopped member for resumption at the leader's position `epochs_done` (its checkpoint holds the same
  // state: checked by the caller). Epochs it recorded after that are dropped, as a resume of it alone would; one
  // that had reached its end already is completed at once.
  void resume(const RunRecord& record, std::int64_t epochs_done);

  bool empty() const { return members_.empty(); }
  const std::vector<Member>& members() const { return members_; }
  // The run ids still riding (thread-safe: for the heartbeat thread).
  std::vector<std::int64_t> riding_runs() const;
  // Called by the heartbeat thread when a riding member's heartbeat found its claim gone.
  void claim_lost(std::int64_t run_id);

  // The training wrote a checkpoint of its state (after an epoch when `epoch` is given, whose figures each riding
  // member records too, in one transaction with its own checkpoint); a member at its last epoch completes.
  // `train_seconds` is the training's time so far, every member's too.
  void checkpointed(const std::optional<EpochRecord>& epoch, const SaveCheckpoint& save, double train_seconds);
  // The training's checkpoint could not be written: the epoch's figures are still recorded for every member.
  void record_epoch_without_checkpoint(const EpochRecord& epoch);
  // The training ended with `status` (not completed: members then have all completed); every member still riding
  // ends the same way, with `error_for(member)`.
  void finish(RunStatus status, double train_seconds, const std::function<std::string(const Member&)>& error_for);
  // A second interrupt: the riding members are marked interrupted through `store` (the heartbeat thread's own
  // connection, which adopted their claims), keeping their last checkpoints.
  void stop_at_once(RunStore& store, double train_seconds, const std::string& leader_note) const;

 private:
  // Ends one member (its claim with it); a member whose log cannot record that is left to mark_stale_runs.
  void end(Member& m, RunStatus status, double train_seconds, const std::string& error);
  bool riding(const Member& m) const;
  RunStore& store_;
  std::string db_path_;
  std::vector<Member> members_;
  mutable std::mutex mutex_;
  std::set<std::int64_t> riding_;  // guarded by mutex_
  std::set<std::int64_t> lost_;    // guarded by mutex_
};

}  // namespace incept
