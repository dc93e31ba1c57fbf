#include "experiments/train/prefix_members.h"

#include <cstdio>
#include <utility>

#include <fmt/format.h>

#include "experiments/config/experiment_identity.h"

namespace incept {

std::optional<std::string> prefix_member_mismatch(const toml::table& leader, const toml::table& member) {
  const EpochPrefix l = epoch_prefix(leader), m = epoch_prefix(member);
  if (m.key.empty() || l.key.empty())
    return std::string("its learning-rate schedule depends on the number of epochs (only constant, step and "
                       "exponential schedules are shared)");
  if (l.key != m.key) return std::string("it differs from the training in more than train.epochs");
  if (m.epochs >= l.epochs)
    return fmt::format("it has {} epochs, not fewer than the training's {}", m.epochs, l.epochs);
  if (shared_epoch_prefix(l, m) != m.epochs) return std::string("it does not share its epochs with the training");
  return std::nullopt;
}

PrefixMembers::PrefixMembers(RunStore& store, std::string db_path) : store_(store), db_path_(std::move(db_path)) {}

void PrefixMembers::begin(const PrefixMemberConfig& c, const RunRecord& base, const std::string& leader_uid,
                          const std::vector<LayerRecord>& layers) {
  const ExperimentConfig& cfg = c.config;
  RunRecord r = base;
  r.name = cfg.name;
  r.config_toml = cfg.toml_text;
  r.config_hash = cfg.hash;
  r.experiment_hash = experiment_hash(cfg.resolved);
  r.variant = c.variant;
  r.seed = static_cast<std::int64_t>(cfg.train.seed);
  r.params = cfg.model.cost().params + cfg.model.aux_cost().params;
  r.macs = cfg.model.cost().macs;
  r.epochs_planned = cfg.train.epochs;
  r.trained_with = leader_uid;
  Member m;
  m.run_id = store_.begin_run(r);
  m.uid = store_.claim_of(m.run_id).uid;
  m.config_hash = cfg.hash;
  m.epochs = cfg.train.epochs;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    riding_.insert(m.run_id);
  }
  members_.push_back(std::move(m));
  store_.add_layers(members_.back().run_id, layers);
}

void PrefixMembers::resume(const RunRecord& record, std::int64_t epochs_done) {
  store_.claim_run(record.id, record.checkpoint.md5);
  Member m;
  m.run_id = record.id;
  m.uid = record.uid;
  m.config_hash = record.config_hash;
  m.epochs = record.epochs_planned;
  m.checkpoint = record.checkpoint;
  m.train_seconds = record.train_seconds;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    riding_.insert(m.run_id);
  }
  members_.push_back(std::move(m));
  Member& added = members_.back();
  store_.delete_epochs_from(record.id, static_cast<int>(epochs_done) + 1);
  // Stopped after its last epoch was recorded (an interrupt just then): nothing is left to train for it.
  if (added.epochs <= epochs_done) end(added, RunStatus::completed, record.train_seconds, "");
}

std::vector<std::int64_t> PrefixMembers::riding_runs() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {riding_.begin(), riding_.end()};
}

void PrefixMembers::claim_lost(std::int64_t run_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (riding_.count(run_id)) lost_.insert(run_id);
}

bool PrefixMembers::riding(const Member& m) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return riding_.count(m.run_id) > 0;
}

void PrefixMembers::checkpointed(const std::optional<EpochRecord>& epoch, const SaveCheckpoint& save,
                                 double train_seconds) {
  for (Member& m : members_) {
    if (!riding(m)) continue;
    bool lost = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      lost = lost_.count(m.run_id) > 0;
      if (lost) riding_.erase(m.run_id);
    }
    if (lost) {
      // Another process holds it now: nothing more may be written into it from here.
      m.status = RunStatus::failed;
      m.error = fmt::format("run {} was taken over by another process (its claim was lost); this process stopped "
                            "recording it",
                            m.run_id);
      continue;
    }
    try {
      const CheckpointRef ref = save(m.uid, m.config_hash);
      if (epoch) {
        EpochRecord e = *epoch;
        e.run_id = m.run_id;
        store_.record_epoch(e, ref);
      } else {
        store_.set_checkpoint(m.run_id, ref);
      }
      const std::string previous = m.checkpoint.path;
      m.checkpoint = ref;
      if (!previous.empty() && previous != ref.path) std::remove(previous.c_str());
      if (epoch && epoch->epoch >= m.epochs) end(m, RunStatus::completed, train_seconds, "");
    } catch (const std::exception& e) {
      end(m, RunStatus::failed, train_seconds, e.what());
    }
  }
}

void PrefixMembers::record_epoch_without_checkpoint(const EpochRecord& epoch) {
  for (Member& m : members_) {
    if (!riding(m)) continue;
    EpochRecord e = epoch;
    e.run_id = m.run_id;
    try {
      store_.record_epoch(e);
    } catch (const std::exception&) {
      // The training fails with its own error right after; finish() records it for this member too.
    }
  }
}

void PrefixMembers::finish(RunStatus status, double train_seconds,
                           const std::function<std::string(const Member&)>& error_for) {
  for (Member& m : members_) {
    if (!riding(m)) continue;
    // Every member ends before the training does; one still riding when it completed never had its last epoch
    // recorded, and is not completed.
    if (status == RunStatus::completed)
      end(m, RunStatus::failed, train_seconds,
          fmt::format("the training it was recorded from completed without recording its epoch {}", m.epochs));
    else
      end(m, status, train_seconds, error_for(m));
  }
}

void PrefixMembers::end(Member& m, RunStatus status, double train_seconds, const std::string& error) {
  {
    // Out of the heartbeat's set first: a beat after the claim ended must not count as a lost claim.
    std::lock_guard<std::mutex> lock(mutex_);
    riding_.erase(m.run_id);
  }
  m.status = status;
  m.error = error;
  m.train_seconds = train_seconds;
  try {
    store_.finish_run(m.run_id, status, train_seconds, error);
  } catch (const std::exception& e) {
    // A lost claim or a broken disk: the outcome the log holds is not this process's to decide.
    m.status = RunStatus::failed;
    m.error = error.empty() ? e.what() : fmt::format("{} (and the log could not record it: {})", error, e.what());
  }
}

void PrefixMembers::stop_at_once(RunStore& store, double train_seconds, const std::string& leader_note) const {
  for (std::int64_t id : riding_runs()) {
    try {
      store.finish_run(id, RunStatus::interrupted, train_seconds,
                       fmt::format("stopped at once by a second interrupt, with {}; its last checkpoint is kept; "
                                   "continue with: incept resume {} --db {}",
                                   leader_note, id, db_path_));
    } catch (const std::exception&) {
    }
  }
}

}  // namespace incept
