#include "reports/report_tables.h"

#include <fmt/format.h>

#include "framework/side_by_side.h"
#include "framework/text.h"
#include "reports/layer_comparison.h"
#include "reports/report_format.h"

namespace incept {

namespace {

void add_column(ReportTable& t, const std::string& title, bool numeric) {
  t.titles.push_back(title);
  t.numeric.push_back(numeric);
}

std::string block_change(const LayerCostRow& row) {
  if (row.total) return "";
  if (row.base_block.empty()) return row.other_block + " (only here)";
  if (row.other_block.empty()) return row.base_block + " (only in baseline)";
  if (row.base_block == row.other_block) return row.base_block;
  return row.base_block + " → " + row.other_block;
}

}  // namespace

ReportTable variants_table(const Report& r) {
  ReportTable t;
  add_column(t, "variant", false);
  for (const SettingGroup& g : r.setting_groups) add_column(t, g.title, false);
  for (const std::string& title : {std::string("params"), std::string("MACs"), std::string("test acc %"),
                                   "Δ vs " + r.variants[r.baseline].label, std::string("s/epoch"),
                                   std::string("images/s")})
    add_column(t, title, true);
  add_column(t, "runs", false);

  for (std::size_t i = 0; i < r.variants.size(); ++i) {
    const VariantSummary& v = r.variants[i];
    const bool is_baseline = i == r.baseline;
    std::vector<std::string> cells = {is_baseline ? v.label + " (baseline)" : v.label};
    // A group's keys hold the same value in every variant, so its first key speaks for all of them.
    for (const SettingGroup& g : r.setting_groups) cells.push_back(setting_text(v.settings[g.keys.front()]));
    cells.insert(cells.end(), {with_commas(v.params), human_count(static_cast<double>(v.macs)),
                               accuracy_text(v.test_acc), is_baseline ? "baseline" : delta_text(v.delta_vs_baseline),
                               seconds_text(v.seconds_per_epoch), rate_text(v.images_per_s),
                               status_text(v.status_counts)});
    t.rows.push_back(std::move(cells));
  }
  return t;
}

std::string variants_legend() {
  return "test acc: final test accuracy of the completed runs, mean ± sample std over seeds (n runs, lowest–highest); "
         "Δ: difference of means in percentage points; s/epoch and images/s: mean over every recorded epoch; "
         "settings: only those that differ between variants, named by their --set path (a/b/c: paths that change "
         "together, one column).";
}

std::string pareto_summary(const Report& r) {
  std::vector<std::string> by_params, by_macs;
  for (const VariantSummary& v : r.variants) {
    if (v.pareto_params) by_params.push_back(v.label);
    if (v.pareto_macs) by_macs.push_back(v.label);
  }
  if (by_params.empty() && by_macs.empty()) return "";
  return fmt::format("by params: {}; by MACs: {}", by_params.empty() ? "-" : join(by_params, ", "),
                     by_macs.empty() ? "-" : join(by_macs, ", "));
}

ReportTable unfinished_runs_table(const Report& r) {
  ReportTable t;
  for (const auto& [title, numeric] : std::vector<std::pair<std::string, bool>>{
           {"run", true}, {"variant", false}, {"seed", true}, {"status", false}, {"epochs", true}, {"error", false}})
    add_column(t, title, numeric);
  for (const VariantSummary& v : r.variants)
    for (const ReportRun& run : v.runs) {
      const RunRecord& rec = run.record;
      if (rec.status == RunStatus::completed) continue;
      t.rows.push_back({std::to_string(rec.id), v.label, std::to_string(rec.seed), to_string(rec.status),
                        fmt::format("{}/{}", rec.epochs_done, rec.epochs_planned), rec.error.empty() ? "-" : rec.error});
    }
  // Declared cells that failed before a run existed (missing data, a crash at start-up) are results too.
  for (const VariantSummary& v : r.variants)
    for (const CellError& e : v.cell_errors)
      t.rows.push_back({"-", v.label, std::to_string(e.seed), to_string(RunStatus::failed), "0",
                        "before any run existed: " + e.error});
  return t;
}

ReportTable reused_runs_table(const Report& r) {
  ReportTable t;
  for (const auto& [title, numeric] :
       std::vector<std::pair<std::string, bool>>{{"variant", false}, {"seed", true}, {"run", true}, {"origin", false}})
    add_column(t, title, numeric);
  for (const VariantSummary& v : r.variants)
    for (const ReportRun& run : v.runs)
      if (!run.reuse_note.empty())
        t.rows.push_back({v.label, std::to_string(run.record.seed), std::to_string(run.record.id), run.reuse_note});
  return t;
}

ReportTable layer_table(const VariantSummary& base, const VariantSummary& other) {
  ReportTable t;
  add_column(t, "layer", false);
  add_column(t, "block", false);
  for (const std::string& title : {"params " + base.label, "params " + other.label, std::string("ratio"),
                                   "MACs " + base.label, "MACs " + other.label, std::string("ratio")})
    add_column(t, title, true);
  for (const LayerCostRow& l : compare_layers(base.layers, other.layers))
    t.rows.push_back({l.name, block_change(l), count_text(l.base_params), count_text(l.other_params),
                      ratio_text(cost_ratio(l.base_params, l.other_params)), count_text(l.base_macs),
                      count_text(l.other_macs), ratio_text(cost_ratio(l.base_macs, l.other_macs))});
  return t;
}

namespace {

const NodeReport* layer_report(const ModelSpec& m, const std::string& name, std::string* block) {
  for (const LayerSpec& l : m.layers)
    if (l.name == name) {
      *block = l.block;
      return &l.report;
    }
  for (const AuxSpec& a : m.aux)
    if (a.head.name == name) {
      *block = a.head.block;
      return &a.head.report;
    }
  return nullptr;
}

std::optional<std::int64_t> params_of(const NodeReport* r) {
  return r ? std::optional<std::int64_t>(r->cost.params) : std::nullopt;
}
std::optional<std::int64_t> macs_of(const NodeReport* r) {
  return r ? std::optional<std::int64_t>(r->cost.macs) : std::nullopt;
}

std::string change(const std::string& base, const std::string& other) {
  if (base.empty()) return other + " (only here)";
  if (other.empty()) return base + " (only in baseline)";
  return base == other ? base : base + " → " + other;
}

void add_cost_row(ReportTable& t, const std::string& name, const std::string& what, const NodeReport* b,
                  const NodeReport* o) {
  t.rows.push_back({name, what, count_text(params_of(b)), count_text(params_of(o)),
                    ratio_text(cost_ratio(params_of(b), params_of(o))), count_text(macs_of(b)), count_text(macs_of(o)),
                    ratio_text(cost_ratio(macs_of(b), macs_of(o)))});
}

// The parts of two versions of one node, matched by name, as rows `path.part`. A node with at most two parts wraps
// a structure rather than being a set of branches (a residual layer: its body and shortcut; a body: its branches and
// the 1x1 projection), so a part of it that has parts of its own is opened too, down to the branches a reader
// compares; a block of three or more branches lists just its branches.
void add_part_rows(ReportTable& t, const std::string& path, const NodeReport* b, const NodeReport* o, int depth) {
  std::vector<std::string> base_names, other_names;
  if (b)
    for (const NodeReport& c : b->children) base_names.push_back(c.name);
  if (o)
    for (const NodeReport& c : o->children) other_names.push_back(c.name);
  const bool wrapper = (b && b->children.size() <= 2) || (o && o->children.size() <= 2);
  for (const AlignedRow& row : align_by_name({base_names, other_names})) {
    const NodeReport* bc = row.index[0] ? &b->children[*row.index[0]] : nullptr;
    const NodeReport* oc = row.index[1] ? &o->children[*row.index[1]] : nullptr;
    const std::string part = path + "." + row.name;
    add_cost_row(t, part, change(bc ? bc->what : "", oc ? oc->what : ""), bc, oc);
    const bool has_parts = (bc && bc->children.size() > 1) || (oc && oc->children.size() > 1);
    if (wrapper && has_parts && depth < 4) add_part_rows(t, part, bc, oc, depth + 1);
  }
}

}  // namespace

ReportTable branch_table(const VariantSummary& base, const VariantSummary& other) {
  ReportTable t;
  add_column(t, "layer / branch", false);
  add_column(t, "structure", false);
  for (const std::string& title : {"params " + base.label, "params " + other.label, std::string("ratio"),
                                   "MACs " + base.label, "MACs " + other.label, std::string("ratio")})
    add_column(t, title, true);
  if (!base.model || !other.model) return t;
  for (const std::string& layer : other.differing_layers) {
    std::string base_block, other_block;
    const NodeReport* b = layer_report(*base.model, layer, &base_block);
    const NodeReport* o = layer_report(*other.model, layer, &other_block);
    add_cost_row(t, layer, change(base_block, other_block), b, o);
    add_part_rows(t, layer, b, o, 1);
  }
  return t;
}

std::string accuracy_comparison(const VariantSummary& base, const VariantSummary& other) {
  return fmt::format("{} vs {} ({})", accuracy_text(other.test_acc), accuracy_text(base.test_acc),
                     delta_text(other.delta_vs_baseline));
}

std::vector<std::size_t> layer_compared_variants(const Report& r) {
  std::vector<std::size_t> out;
  const VariantSummary& base = r.variants[r.baseline];
  for (std::size_t i = 0; i < r.variants.size(); ++i)
    if (i != r.baseline && !(base.layers.empty() && r.variants[i].layers.empty())) out.push_back(i);
  return out;
}

}  // namespace incept
