#include "cli/compare.h"

#include <algorithm>
#include <functional>

#include <fmt/format.h>

#include "cli/summary.h"
#include "framework/json.h"
#include "framework/side_by_side.h"
#include "framework/text.h"

namespace incept {

namespace {

// "1.25x": value / base, as the tables print it; a zero base gives "1.00x" for a zero value, else "n/a".
std::string ratio(std::int64_t value, std::int64_t base) {
  if (auto r = cost_ratio(base, value)) return fmt::format("{:.2f}x", *r);
  return value == 0 ? "1.00x" : "n/a";
}

// One comparison row: a layer, or one of its branches (dotted key), with each model's report (null where it has none).
struct Row {
  std::string key;
  std::vector<const NodeReport*> by_model;
};

// Each model's layers and, down to `depth`, their branches, matched by key.
std::vector<Row> align(const std::vector<NamedModel>& models, int depth) {
  std::vector<std::vector<std::string>> keys(models.size());
  std::vector<std::vector<const NodeReport*>> reports(models.size());
  for (std::size_t m = 0; m < models.size(); ++m) {
    std::function<void(const NodeReport&, int, const std::string&)> walk = [&](const NodeReport& r, int level,
                                                                               const std::string& prefix) {
      std::string key = prefix.empty() ? r.name : prefix + "." + r.name;
      keys[m].push_back(key);
      reports[m].push_back(&r);
      if (level + 1 >= depth) return;
      for (const auto& c : r.children) walk(c, level + 1, key);
    };
    for (const auto& layer : models[m].spec.layers) walk(layer.report, 0, "");
  }
  std::vector<Row> rows;
  for (const AlignedRow& aligned : align_by_name(keys)) {
    Row row{aligned.name, {}};
    for (std::size_t m = 0; m < models.size(); ++m)
      row.by_model.push_back(aligned.index[m] ? reports[m][*aligned.index[m]] : nullptr);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string block_name(const NamedModel& m, const std::string& key, const NodeReport* r) {
  for (const auto& l : m.spec.layers)
    if (l.name == key) return l.block;
  return r ? r->what : "";
}

}  // namespace

std::string compare_text(const std::vector<NamedModel>& models, int depth) {
  if (models.empty()) return "";
  std::string out = "Totals (ratios relative to the first config)\n\n";
  out += fmt::format("{:<22}", "");
  for (std::size_t m = 0; m < models.size(); ++m) out += fmt::format(" {:>26}", fmt::format("[{}]", m + 1));
  out += "\n";
  auto total_row = [&](const std::string& label, auto get) {
    out += fmt::format("{:<22}", label);
    std::int64_t base = get(models[0].spec);
    for (const auto& m : models) {
      std::int64_t v = get(m.spec);
      std::string cell = with_commas(v);
      if (&m != &models[0]) cell += " (" + ratio(v, base) + ")";
      out += fmt::format(" {:>26}", cell);
    }
    out += "\n";
  };
  total_row("params", [](const ModelSpec& s) { return s.cost().params + s.aux_cost().params; });
  total_row("MACs", [](const ModelSpec& s) { return s.cost().macs; });
  total_row("FLOPs (2 x MACs)", [](const ModelSpec& s) { return 2 * s.cost().macs; });
  total_row("aux MACs", [](const ModelSpec& s) { return s.aux_cost().macs; });
  total_row("other ops", [](const ModelSpec& s) { return s.cost().other_ops; });
  total_row("activations (elems)", [](const ModelSpec& s) { return s.activation_elems(); });
  out += fmt::format("{:<22}", "output shape");
  for (const auto& m : models) out += fmt::format(" {:>26}", m.spec.output().str());
  out += "\n\n";
  for (std::size_t m = 0; m < models.size(); ++m) out += fmt::format("[{}] {}\n", m + 1, models[m].label);

  out += "\nPer layer and branch (ratios relative to [1]; '-' where a config has no such row)\n\n";
  auto header = fmt::format("{:<28}", "layer");
  for (std::size_t m = 0; m < models.size(); ++m) header += fmt::format(" {:>18}", fmt::format("[{}] params", m + 1));
  for (std::size_t m = 0; m < models.size(); ++m) header += fmt::format(" {:>18}", fmt::format("[{}] MACs", m + 1));
  header += "   blocks";
  out += header + "\n" + std::string(header.size() + 20, '-') + "\n";
  for (const Row& row : align(models, depth)) {
    const std::string& key = row.key;
    int level = static_cast<int>(std::count(key.begin(), key.end(), '.'));
    out += fmt::format("{:<28}", std::string(static_cast<std::size_t>(level) * 2, ' ') + split(key, '.').back());
    const NodeReport* base = row.by_model[0];
    auto cell = [&](std::size_t m, bool macs) {
      const NodeReport* r = row.by_model[m];
      if (!r) return std::string("-");
      std::int64_t v = macs ? r->cost.macs : r->cost.params;
      std::string text = human_count(static_cast<double>(v));
      if (m > 0 && base) text += " " + ratio(v, macs ? base->cost.macs : base->cost.params);
      return text;
    };
    for (std::size_t m = 0; m < models.size(); ++m) out += fmt::format(" {:>18}", cell(m, false));
    for (std::size_t m = 0; m < models.size(); ++m) out += fmt::format(" {:>18}", cell(m, true));
    std::vector<std::string> blocks;
    for (std::size_t m = 0; m < models.size(); ++m)
      blocks.push_back(row.by_model[m] ? block_name(models[m], key, row.by_model[m]) : "-");
    bool same = std::all_of(blocks.begin(), blocks.end(), [&](const std::string& b) { return b == blocks[0]; });
    out += "   " + (same ? blocks[0] : join(blocks, " | ")) + "\n";
  }
  return out;
}

std::string compare_json(const std::vector<NamedModel>& models, int depth) {
  JsonWriter w;
  w.begin_object();
  w.key("configs").begin_array();
  for (const auto& m : models) {
    Cost c = m.spec.cost(), aux = m.spec.aux_cost();
    w.begin_object();
    w.key("config").value(m.label);
    w.key("params").value(c.params + aux.params);
    w.key("macs").value(c.macs);
    w.key("aux_macs").value(aux.macs);
    w.key("other_ops").value(c.other_ops);
    // A ratio to a base of zero (a network of pools has no params or MACs) has no value: null, never value/1.
    auto ratio_or_null = [&](const char* key, std::int64_t base, std::int64_t value) {
      w.key(key);
      if (auto r = cost_ratio(base, value)) w.value(*r);
      else w.null();
    };
    ratio_or_null("params_ratio", models[0].spec.cost().params + models[0].spec.aux_cost().params, c.params + aux.params);
    ratio_or_null("macs_ratio", models[0].spec.cost().macs, c.macs);
    w.end_object();
  }
  w.end_array();
  w.key("layers").begin_array();
  for (const Row& row : align(models, depth)) {
    w.begin_object();
    w.key("name").value(row.key);
    w.key("per_config").begin_array();
    for (std::size_t m = 0; m < models.size(); ++m) {
      const NodeReport* r = row.by_model[m];
      if (!r) {
        w.null();
        continue;
      }
      w.begin_object();
      w.key("block").value(block_name(models[m], row.key, r));
      w.key("output_shape").value(r->output.dims);
      w.key("params").value(r->cost.params);
      w.key("macs").value(r->cost.macs);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.str() + "\n";
}

}  // namespace incept
