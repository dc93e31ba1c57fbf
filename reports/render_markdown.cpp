#include "reports/render_markdown.h"

#include <fmt/format.h>

#include "framework/text.h"
#include "reports/report_tables.h"

namespace incept {

namespace {

// Text comes from user configs (variant names, setting values, errors): a '|' or a newline would break a
// table, so both are neutralised everywhere.
std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|' || c == '\\') out += '\\';
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out;
}

std::string row(const std::vector<std::string>& cells) {
  std::vector<std::string> escaped;
  for (const std::string& c : cells) escaped.push_back(escape(c));
  return "| " + join(escaped, " | ") + " |\n";
}

std::string table(const ReportTable& t) {
  std::string rule = "|";
  for (bool numeric : t.numeric) rule += numeric ? "---:|" : "---|";
  std::string out = row(t.titles) + rule + "\n";
  for (const auto& cells : t.rows) out += row(cells);
  return out;
}

std::string title(const Report& r) {
  const std::size_t runs = r.run_count(), variants = r.variants.size();
  return fmt::format("# incept report: {}\n\n{} run{} in {} · {} variant{} · baseline: {}\n\n", escape(r.scope), runs,
                     runs == 1 ? "" : "s", escape(r.db_path), variants, variants == 1 ? "" : "s",
                     escape(r.variants[r.baseline].label));
}

std::string variants_section(const Report& r) {
  std::string out = "## Variants\n\n" + table(variants_table(r)) + "\n" + variants_legend() + "\n";
  if (const std::string front = pareto_summary(r); !front.empty())
    out += "\nPareto front (nothing else is as accurate for less): " + escape(front) + ".\n";
  return out;
}

// Failed and diverged runs are part of the result (a variant that diverges is worse), so they are listed.
std::string unfinished_section(const Report& r) {
  const ReportTable t = unfinished_runs_table(r);
  return t.rows.empty() ? "" : "\n## Runs that did not complete\n\n" + table(t);
}

// A reused run is part of the sweep's result, and where it came from is part of the record.
std::string reused_section(const Report& r) {
  const ReportTable t = reused_runs_table(r);
  return t.rows.empty() ? "" : "\n## Reused runs\n\nIdentical experiments trained before, counted in this sweep.\n\n" + table(t);
}

std::string layers_section(const Report& r) {
  const std::vector<std::size_t> compared = layer_compared_variants(r);
  if (compared.empty()) return "";
  const VariantSummary& base = r.variants[r.baseline];
  std::string out = "\n## Per-layer cost vs " + escape(base.label) + "\n";
  if (!base.model_note.empty()) out += "\n" + escape(base.label + ": " + base.model_note) + "\n";
  for (std::size_t i : compared) {
    const VariantSummary& other = r.variants[i];
    out += fmt::format("\n### {} vs {}\n\ntest acc %: {}\n\n", escape(other.label), escape(base.label),
                       accuracy_comparison(base, other));
    if (!other.model_note.empty()) out += escape(other.model_note) + "\n\n";
    out += table(layer_table(base, other));
    const ReportTable branches = branch_table(base, other);
    if (!branches.rows.empty())
      out += "\nBranches of the layers that differ (drawn side by side in the HTML report):\n\n" + table(branches);
  }
  return out;
}

}  // namespace

std::string render_markdown(const Report& report) {
  return title(report) + variants_section(report) + unfinished_section(report) + reused_section(report) +
         layers_section(report);
}

}  // namespace incept
