#pragma once
// Prefix reuse: the cells of a sweep that one training answers together. Cells that differ only in train.epochs,
// under a schedule that does not read the total (experiment_identity.h decides it, nowhere else), are the same
// computation up to the shorter one's end: one child trains the longest of them (the leader) and records each
// shorter one (its members) from the snapshot at that member's last epoch, as a run of its own.
//
// A group is either fresh trainings (every cell planned `train`), or resumptions of runs that stopped together:
// every run interrupted at the same position with a checkpoint of the same payload (equal MD5: the same model,
// optimizer and RNG state, which is what "trained together" leaves behind). A cell planned `train` and one planned
// `resume` never share: the resumed run's state at the fresh run's end is gone.
#include <cstddef>
#include <vector>

#include "experiments/sweep/plan.h"

namespace incept {

// Whether `member` can be recorded from a training of `leader`: both need the same kind of work (fresh, or resumed
// from the same checkpoint payload), and the leader computes everything the member does, to its last epoch, and
// more (shared_epoch_prefix(leader, member) == member's epochs < leader's epochs).
bool can_record_from(const PlannedVariant& leader, const PlannedVariant& member);

struct PrefixGroup {
  std::size_t leader = 0;            // index of the cell that is trained (the most epochs)
  std::vector<std::size_t> members;  // indices of the cells recorded from it, fewest epochs first
};

// The group `first` would lead or join among `candidates` (indices into `plan`, `first` among them): every
// candidate with the same kind of work and the same prefix as `first`, led by the one with the most epochs.
PrefixGroup group_around(const std::vector<PlannedVariant>& plan, std::size_t first,
                         const std::vector<std::size_t>& candidates);

// Every cell of `plan` that needs work (train or resume), in groups, each group where its first cell stands in
// the plan. Without `reuse` each cell is a group of its own.
std::vector<PrefixGroup> prefix_groups(const std::vector<PlannedVariant>& plan, bool reuse);

}  // namespace incept
