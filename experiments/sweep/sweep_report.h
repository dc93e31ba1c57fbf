#pragma once
// What `incept sweep` prints: the plan (for --dry-run) and the summary at the end.
#include <string>
#include <vector>

#include "experiments/sweep/plan.h"
#include "experiments/sweep/runner.h"
#include "experiments/sweep/shard.h"
#include "experiments/sweep/sweep.h"

namespace incept {

// One line about the sweep: its name, size, base and (for a shard) its slice.
std::string sweep_headline(const Sweep& sweep, const Shard& shard, std::size_t runs_in_shard);

// Every variant with its params, MACs and what running the sweep would do with it.
std::string plan_table(const std::vector<PlannedVariant>& plan);

// Variant, seed, status, params, MACs and final test accuracy of each variant, then the totals by status.
std::string summary_table(const SweepResult& result);

}  // namespace incept
