#include "experiments/sweep/prefix_groups.h"

#include <algorithm>

namespace incept {

namespace {

bool needs_work(const PlannedVariant& p) { return p.action != PlanAction::skip; }

// Fresh with fresh; resumed with resumed from the same state at the same position.
bool same_kind_of_work(const PlannedVariant& a, const PlannedVariant& b) {
  if (a.action != b.action || !needs_work(a)) return false;
  if (a.action == PlanAction::train) return true;
  if (!a.earlier || !b.earlier) return false;
  const CheckpointRef& x = a.earlier->checkpoint;
  const CheckpointRef& y = b.earlier->checkpoint;
  return !x.md5.empty() && x.md5 == y.md5 && x.epochs_done == y.epochs_done && x.next_batch == y.next_batch;
}

}  // namespace

bool can_record_from(const PlannedVariant& leader, const PlannedVariant& member) {
  const EpochPrefix& l = leader.variant.prefix;
  const EpochPrefix& m = member.variant.prefix;
  return same_kind_of_work(leader, member) && m.epochs < l.epochs && shared_epoch_prefix(l, m) == m.epochs;
}

PrefixGroup group_around(const std::vector<PlannedVariant>& plan, std::size_t first,
                         const std::vector<std::size_t>& candidates) {
  std::vector<std::size_t> family;
  for (std::size_t j : candidates) {
    const PlannedVariant& p = plan[first];
    const PlannedVariant& q = plan[j];
    if (j == first || (same_kind_of_work(p, q) && shared_epoch_prefix(p.variant.prefix, q.variant.prefix) > 0))
      family.push_back(j);
  }
  PrefixGroup g;
  g.leader = first;
  for (std::size_t j : family)
    if (plan[j].variant.prefix.epochs > plan[g.leader].variant.prefix.epochs) g.leader = j;
  for (std::size_t j : family)
    if (j != g.leader && can_record_from(plan[g.leader], plan[j])) g.members.push_back(j);
  std::stable_sort(g.members.begin(), g.members.end(), [&](std::size_t a, std::size_t b) {
    return plan[a].variant.prefix.epochs < plan[b].variant.prefix.epochs;
  });
  return g;
}

std::vector<PrefixGroup> prefix_groups(const std::vector<PlannedVariant>& plan, bool reuse) {
  std::vector<bool> grouped(plan.size(), false);
  std::vector<PrefixGroup> out;
  for (std::size_t i = 0; i < plan.size();) {
    if (grouped[i] || !needs_work(plan[i])) {
      ++i;
      continue;
    }
    std::vector<std::size_t> candidates;
    for (std::size_t j = i; j < plan.size(); ++j)
      if (!grouped[j] && (reuse || j == i)) candidates.push_back(j);
    PrefixGroup g = group_around(plan, i, candidates);
    grouped[g.leader] = true;
    for (std::size_t m : g.members) grouped[m] = true;
    out.push_back(std::move(g));
    // A cell the group it started left out (it cannot be recorded from that leader) starts another group.
  }
  return out;
}

}  // namespace incept
