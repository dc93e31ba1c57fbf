#include "experiments/sweep/sweep_report.h"

#include <map>

#include <fmt/format.h>

#include "framework/text.h"
#include "framework/text_table.h"

namespace incept {

namespace {

std::string percent(const std::optional<double>& v) { return v ? fmt::format("{:.2f}%", 100 * *v) : "-"; }

std::string plan_text(const PlannedVariant& p) {
  switch (p.action) {
    case PlanAction::skip: return "skip: " + p.reason;
    case PlanAction::resume:
    case PlanAction::train: return p.reason;
  }
  return "";
}

}  // namespace

std::string sweep_headline(const Sweep& sweep, const Shard& shard, std::size_t runs_in_shard) {
  std::size_t seeds = std::max<std::size_t>(1, sweep.seeds.size());
  std::size_t variants = sweep.variants.size() / seeds;
  std::string out = fmt::format("sweep {}: {} variant{} x {} seed{} = {} run{} of {}", sweep.name, variants,
                                variants == 1 ? "" : "s", seeds, seeds == 1 ? "" : "s", sweep.variants.size(),
                                sweep.variants.size() == 1 ? "" : "s",
                                sweep.base.empty() ? "each variant's own base" : sweep.base);
  if (!shard.whole()) out += fmt::format("; shard {}/{}: {} of them", shard.index, shard.count, runs_in_shard);
  return out + "\n";
}

std::string plan_table(const std::vector<PlannedVariant>& plan) {
  TextTable t({"#>", "variant", "seed>", "params>", "MACs>", "plan"});
  for (const PlannedVariant& p : plan) {
    const ResolvedVariant& v = p.variant;
    t.add_row({std::to_string(v.variant.index + 1), v.variant.name, std::to_string(v.variant.seed),
               with_commas(v.params), human_count(static_cast<double>(v.macs)), plan_text(p)});
  }
  return t.str();
}

std::string summary_table(const SweepResult& result) {
  TextTable t({"variant", "seed>", "status", "run>", "params>", "MACs>", "final test acc>", "action"});
  std::map<std::string, int> counts;
  std::vector<std::string> order;
  for (const VariantOutcome& o : result.outcomes) {
    const ResolvedVariant& v = o.planned.variant;
    t.add_row({v.variant.name, std::to_string(v.variant.seed), o.status, o.run ? std::to_string(o.run->id) : "-",
               with_commas(v.params), human_count(static_cast<double>(v.macs)),
               percent(o.run ? o.run->final_test_acc : std::nullopt),
               o.recorded_from.empty() ? o.action : fmt::format("{} (with {})", o.action, o.recorded_from)});
    if (counts[o.status]++ == 0) order.push_back(o.status);
  }
  std::vector<std::string> totals;
  for (const auto& status : order) totals.push_back(fmt::format("{} {}", counts[status], status));
  return t.str() + fmt::format("{} run{}: {}\n", result.outcomes.size(), result.outcomes.size() == 1 ? "" : "s",
                               join(totals, ", "));
}

}  // namespace incept
