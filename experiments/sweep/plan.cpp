#include "experiments/sweep/plan.h"

#include <algorithm>
#include <filesystem>
#include <tuple>

#include <fmt/format.h>


namespace incept {

namespace {

const RunRecord* newest_with_status(const std::vector<RunRecord>& runs, RunStatus status) {
  for (auto it = runs.rbegin(); it != runs.rend(); ++it)
    if (it->status == status) return &*it;
  return nullptr;
}

}  // namespace

RunHistory RunHistory::load(const std::string& db_path, bool correct_stale) {
  if (!std::filesystem::exists(db_path)) return RunHistory({});
  if (correct_stale) {
    RunStore store = RunStore::open(db_path);
    store.mark_stale_runs();
    return RunHistory(store.list_runs());
  }
  return RunHistory(RunStore::open_read_only(db_path).list_runs());
}

RunHistory::RunHistory(const std::vector<RunRecord>& runs) {
  for (const RunRecord& r : runs) {
    last_id_ = std::max(last_id_, r.id);
    by_hash_[r.experiment_hash].push_back(r);
  }
  // Merged logs renumber runs, so order by start time first, as RunStore::runs_of_experiment does.
  for (auto& [hash, list] : by_hash_)
    std::stable_sort(list.begin(), list.end(), [](const RunRecord& a, const RunRecord& b) {
      return std::tie(a.started_at, a.id) < std::tie(b.started_at, b.id);
    });
}

std::vector<RunRecord> RunHistory::runs_of(const std::string& hash) const {
  auto it = by_hash_.find(hash);
  return it == by_hash_.end() ? std::vector<RunRecord>{} : it->second;
}

PlannedVariant plan_variant(const ResolvedVariant& variant, const std::vector<RunRecord>& earlier,
                            const std::function<bool(const std::string&)>& file_exists) {
  PlannedVariant p;
  p.variant = variant;
  auto decide = [&](PlanAction action, const RunRecord* run, std::string reason) {
    p.action = action;
    if (run) p.earlier = *run;
    p.reason = std::move(reason);
    return p;
  };
  if (const RunRecord* r = newest_with_status(earlier, RunStatus::completed))
    return decide(PlanAction::skip, r, fmt::format("completed as run {}", r->id));
  if (const RunRecord* r = newest_with_status(earlier, RunStatus::diverged))
    return decide(PlanAction::skip, r, fmt::format("diverged as run {} (not retried)", r->id));
  if (const RunRecord* r = newest_with_status(earlier, RunStatus::running))
    return decide(PlanAction::skip, r, fmt::format("run {} is running in another process", r->id));
  const RunRecord* last = earlier.empty() ? nullptr : &earlier.back();
  if (last && last->status == RunStatus::interrupted) {
    if (!last->checkpoint.path.empty() && file_exists(last->checkpoint.path))
      return decide(PlanAction::resume, last, fmt::format("resume interrupted run {}", last->id));
    return decide(PlanAction::train, last, fmt::format("train again (run {} stopped before a checkpoint)", last->id));
  }
  if (last) return decide(PlanAction::train, last, fmt::format("train again (run {} {})", last->id, to_string(last->status)));
  return decide(PlanAction::train, nullptr, "train");
}

std::vector<PlannedVariant> plan_sweep(const std::vector<ResolvedVariant>& variants, const RunHistory& history) {
  auto exists = [](const std::string& path) { return std::filesystem::exists(path); };
  std::vector<PlannedVariant> out;
  for (const ResolvedVariant& v : variants) out.push_back(plan_variant(v, history.runs_of(v.hash), exists));
  return out;
}

}  // namespace incept
