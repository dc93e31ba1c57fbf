#pragma once
// The report's tables as plain cells, shared by the Markdown and HTML renderers so both show the same columns.
#include <string>
#include <vector>

#include "reports/report_model.h"

namespace incept {

struct ReportTable {
  std::vector<std::string> titles;
  std::vector<bool> numeric;  // per column: right-aligned
  std::vector<std::vector<std::string>> rows;
};

// One row per variant: label, the differing settings, params, MACs, accuracy, delta, speed, status counts.
ReportTable variants_table(const Report& report);
// What the accuracy, delta and speed columns mean.
std::string variants_legend();
// "by params: a, b; by MACs: a" or "" when no variant has a completed run.
std::string pareto_summary(const Report& report);
// Runs that did not complete (failed, diverged, interrupted, running), with their errors, and a sweep's cells that
// failed before any run existed; no rows if none.
ReportTable unfinished_runs_table(const Report& report);
// A sweep's cells answered by a run trained outside them (alone or by another sweep): which run, from where.
ReportTable reused_runs_table(const Report& report);
// Per-layer params and MACs of `other` next to `base`, with ratios and a total row.
ReportTable layer_table(const VariantSummary& base, const VariantSummary& other);
// Params and MACs of each branch of the layers `other` configures differently from `base`, next to `base`'s, with
// ratios: each such layer (a subtotal), then its branches matched by name. From the variants' rebuilt networks
// (variant_models.h); no rows when nothing differs or either has no network.
ReportTable branch_table(const VariantSummary& base, const VariantSummary& other);
// "98.70 ± 0.05 (n=2) vs 98.50 ± 0.10 (n=3) (+0.20 pp)"
std::string accuracy_comparison(const VariantSummary& base, const VariantSummary& other);
// Indices of the variants that get a per-layer comparison with the baseline (all others that have layers).
std::vector<std::size_t> layer_compared_variants(const Report& report);

}  // namespace incept
