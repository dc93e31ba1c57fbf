#include "experiments/sweep/claims.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

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

SweepClaims::SweepClaims(const std::string& db_path, const Sweep& sweep, std::vector<ResolvedVariant> variants)
    : sweep_(sweep.name), variants_(std::move(variants)), token_(random_token()), store_(RunStore::open(db_path)),
      newest_before_(variants_.size(), 0) {
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
    for (std::size_t i = 0; i < variants_.size(); ++i) {
      if (!visited_.insert(i).second) continue;
      const ResolvedVariant& v = variants_[i];
      const std::vector<RunRecord> runs = store_.runs_of_experiment(v.hash);
      PlannedVariant p = plan_variant(v, runs, file_exists);
      const bool reused = p.earlier && (p.earlier->sweep != sweep_ || p.earlier->variant != v.variant.name);
      if (p.action == PlanAction::skip) {
        if (p.earlier && p.earlier->status != RunStatus::running)
          store_.add_member(sweep_, v.variant.name, v.variant.seed, p.earlier->uid, reused);
        out.settled.push_back(std::move(p));
        continue;
      }
      if (!store_.claim_cell(sweep_, v.variant.name, v.variant.seed, token_)) {
        p.action = PlanAction::skip;
        p.earlier.reset();
        p.reason = "another sweep process is working on it";
        out.settled.push_back(std::move(p));
        continue;
      }
      if (p.action == PlanAction::resume) store_.add_member(sweep_, v.variant.name, v.variant.seed, p.earlier->uid, reused);
      newest_before_[i] = newest_id(runs);
      held_.insert(i);
      out.claimed = std::move(p);
      return;
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

void SweepClaims::release(const PlannedVariant& planned, RunStatus status, const std::string& error) {
  const SweepVariant& v = planned.variant.variant;
  const auto it = std::find_if(variants_.begin(), variants_.end(),
                               [&](const ResolvedVariant& r) { return r.variant.index == v.index; });
  const std::size_t i = static_cast<std::size_t>(it - variants_.begin());
  // A run begun (or resumed) for the cell carries its own error; the cell's records only failures without one.
  const bool run_exists = planned.action == PlanAction::resume ||
                          newest_id(store_.runs_of_experiment(planned.variant.hash)) > newest_before_.at(i);
  const std::string cell_error = status == RunStatus::failed && !run_exists ? error : "";
  store_.release_cell(sweep_, v.name, v.seed, token_, cell_error);
  held_.erase(i);
}

}  // namespace incept
