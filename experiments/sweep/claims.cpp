#include "experiments/sweep/claims.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "experiments/sweep/prefix_groups.h"

namespace incept {

namespace {

bool file_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

std::int64_t newest_id(const std::vector<RunRecord>& runs) {
  std::int64_t id = 0;
  for (const RunRecord& r : runs) id = std::max(id, r.id);
  return id;
}

}  // namespace

SweepCell sweep_cell(const ResolvedVariant& v) {
  SweepCell c;
  c.variant = v.variant.name;
  c.seed = v.variant.seed;
  c.position = static_cast<std::int64_t>(v.variant.index);
  c.experiment_hash = v.hash;
  c.config_toml = v.config_toml;
  c.params = v.params;
  c.macs = v.macs;
  return c;
}

SweepClaims::SweepClaims(const std::string& db_path, const Sweep& sweep, std::vector<ResolvedVariant> variants,
                         bool prefix_reuse)
    : sweep_(sweep.name), variants_(std::move(variants)), prefix_reuse_(prefix_reuse), token_(random_token()),
      store_(RunStore::open(db_path)), newest_before_(variants_.size(), 0) {
  std::vector<SweepCell> cells;
  for (const ResolvedVariant& v : variants_) cells.push_back(sweep_cell(v));
  store_.register_sweep(SweepInfo{sweep.name, sweep.baseline, sweep.path}, cells);
  auto beat_store = std::make_shared<RunStore>(RunStore::open(db_path));
  heartbeat_ = std::make_unique<HeartbeatThread>(
      [beat_store, token = token_] {
        try {
          beat_store->heartbeat_cells(token);
        } catch (const std::exception&) {
          // A busy or full disk: the next beat tries again; the lease covers many missed beats.
        }
      },
      kHeartbeatSeconds);
}

SweepClaims::~SweepClaims() {
  heartbeat_.reset();
  for (std::size_t i : held_) {
    const SweepVariant& v = variants_[i].variant;
    try {
      store_.release_cell(sweep_, v.name, v.seed, token_, "");
    } catch (const std::exception&) {
      // The holder's death is recognised by the next worker anyway (pid on this host, lease elsewhere).
    }
  }
}

SweepClaims::Next SweepClaims::next() {
  Next out;
  store_.write_transaction(fmt::format("claim the next cell of sweep {}", sweep_), [&] {
    store_.mark_stale_runs();
    std::vector<std::vector<RunRecord>> runs(variants_.size());
    std::vector<PlannedVariant> plan(variants_.size());
    auto plan_of = [&](std::size_t i) -> PlannedVariant& {
      runs[i] = store_.runs_of_experiment(variants_[i].hash);
      return plan[i] = plan_variant(variants_[i], runs[i], file_exists);
    };
    auto claim = [&](std::size_t i) {
      const SweepVariant& v = variants_[i].variant;
      if (!store_.claim_cell(sweep_, v.name, v.seed, token_)) return false;
      const PlannedVariant& p = plan[i];
      const bool reused = p.earlier && (p.earlier->sweep != sweep_ || p.earlier->variant != v.name);
      if (p.action == PlanAction::resume) store_.add_member(sweep_, v.name, v.seed, p.earlier->uid, reused);
      newest_before_[i] = newest_id(runs[i]);
      held_.insert(i);
      visited_.insert(i);
      return true;
    };
    for (std::size_t i = 0; i < variants_.size(); ++i) {
      if (visited_.count(i)) continue;
      const ResolvedVariant& v = variants_[i];
      PlannedVariant p = plan_of(i);
      const bool reused = p.earlier && (p.earlier->sweep != sweep_ || p.earlier->variant != v.variant.name);
      if (p.action == PlanAction::skip) {
        visited_.insert(i);
        if (p.earlier && p.earlier->status != RunStatus::running)
          store_.add_member(sweep_, v.variant.name, v.variant.seed, p.earlier->uid, reused);
        out.settled.push_back(std::move(p));
        continue;
      }
      if (!claim(i)) {
        visited_.insert(i);
        p.action = PlanAction::skip;
        p.earlier.reset();
        p.reason = "another sweep process is working on it";
        out.settled.push_back(std::move(p));
        continue;
      }
      // Its group: the cells not visited yet that one training answers with it, each claimed here or left to the
      // process that holds it. The leader, when it is not `i`, is claimed first: without it nothing is shared.
      std::vector<std::size_t> candidates{i};
      if (prefix_reuse_ && !v.prefix.key.empty())
        for (std::size_t j = 0; j < variants_.size(); ++j)
          if (j != i && !visited_.count(j) && variants_[j].prefix.key == v.prefix.key &&
              plan_of(j).action != PlanAction::skip)
            candidates.push_back(j);
      PrefixGroup g;
      for (;;) {
        g = group_around(plan, i, candidates);
        if (g.leader == i || claim(g.leader)) break;
        candidates.erase(std::find(candidates.begin(), candidates.end(), g.leader));
      }
      if (g.leader != i && std::find(g.members.begin(), g.members.end(), i) == g.members.end())
        throw std::logic_error("sweep: a claimed cell left out of its own prefix group");
      out.claimed = plan[g.leader];
      for (std::size_t m : g.members)
        if (m == i || claim(m)) out.members.push_back(plan[m]);
      return;
    }
  });
  return out;
}

bool SweepClaims::in_prefix_group(std::size_t i) const {
  const EpochPrefix& p = variants_[i].prefix;
  if (!prefix_reuse_ || p.key.empty()) return false;
  for (std::size_t j = 0; j < variants_.size(); ++j)
    if (j != i && variants_[j].prefix.key == p.key) return true;
  return false;
}

std::vector<PlannedVariant> SweepClaims::claim_pack_mates(const PlannedVariant& leader, std::size_t max_mates) {
  std::vector<PlannedVariant> out;
  const std::size_t l = index_of(leader);
  const std::string& key = variants_[l].pack_key;
  if (max_mates == 0 || key.empty() || leader.action == PlanAction::skip || in_prefix_group(l)) return out;
  // Runs to resume go together only from one position (their checkpoints'): the pack continues from there.
  const auto same_start = [&](const PlannedVariant& p) {
    if (p.action != leader.action) return false;
    if (p.action == PlanAction::train) return true;
    return p.earlier && leader.earlier && p.earlier->checkpoint.epochs_done == leader.earlier->checkpoint.epochs_done &&
           p.earlier->checkpoint.next_batch == leader.earlier->checkpoint.next_batch;
  };
  store_.write_transaction(fmt::format("claim cells of sweep {} to pack", sweep_), [&] {
    for (std::size_t i = 0; i < variants_.size() && out.size() < max_mates; ++i) {
      if (visited_.count(i) || variants_[i].pack_key != key || in_prefix_group(i)) continue;
      const std::vector<RunRecord> runs = store_.runs_of_experiment(variants_[i].hash);
      PlannedVariant p = plan_variant(variants_[i], runs, file_exists);
      if (!same_start(p)) continue;  // done, held elsewhere, or another start: next() takes it
      const SweepVariant& v = variants_[i].variant;
      if (!store_.claim_cell(sweep_, v.name, v.seed, token_)) continue;
      if (p.action == PlanAction::resume)
        store_.add_member(sweep_, v.name, v.seed, p.earlier->uid,
                          p.earlier->sweep != sweep_ || p.earlier->variant != v.name);
      newest_before_[i] = newest_id(runs);
      held_.insert(i);
      visited_.insert(i);
      out.push_back(std::move(p));
    }
  });
  return out;
}

void take_back_worker_log(const std::string& db_path, const std::string& sweep) {
  RunStore store = RunStore::open(db_path);
  // A lease a second in the future: a heartbeat written this very second is an earlier holder's too.
  store.mark_stale_runs(-1);
  for (const SweepCell& c : store.sweep_cells(sweep))
    if (!c.worker.empty()) store.release_cell(sweep, c.variant, c.seed, c.worker, c.error);
}

std::size_t SweepClaims::index_of(const PlannedVariant& planned) const {
  const auto it = std::find_if(variants_.begin(), variants_.end(), [&](const ResolvedVariant& r) {
    return r.variant.index == planned.variant.variant.index;
  });
  if (it == variants_.end()) throw std::logic_error("sweep: a released cell is not among this worker's cells");
  return static_cast<std::size_t>(it - variants_.begin());
}

void SweepClaims::release(const PlannedVariant& planned, RunStatus status, const std::string& error) {
  const SweepVariant& v = planned.variant.variant;
  const std::size_t i = index_of(planned);
  // A run begun (or resumed) for the cell carries its own error; the cell's records only failures without one.
  const bool run_exists = planned.action == PlanAction::resume ||
                          newest_id(store_.runs_of_experiment(planned.variant.hash)) > newest_before_.at(i);
  const std::string cell_error = status == RunStatus::failed && !run_exists ? error : "";
  store_.release_cell(sweep_, v.name, v.seed, token_, cell_error);
  held_.erase(i);
}

RunStatus SweepClaims::recorded_status(const PlannedVariant& planned, RunStatus fallback) const {
  const std::size_t i = index_of(planned);
  std::optional<RunRecord> run;
  for (const RunRecord& r : store_.runs_of_experiment(planned.variant.hash)) {
    const bool this_attempt = planned.action == PlanAction::resume ? planned.earlier && r.id == planned.earlier->id
                                                                    : r.id > newest_before_.at(i);
    if (this_attempt && (!run || r.id > run->id)) run = r;
  }
  if (!run || run->status == RunStatus::running) return fallback;
  return run->status;
}

}  // namespace incept
