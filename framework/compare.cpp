#include "framework/compare.h"

#include <algorithm>
#include <functional>
#include <map>

#include <fmt/format.h>

#include "framework/json.h"
#include "framework/summary.h"
#include "framework/text.h"

namespace incept {

namespace {

std::string ratio(double value, double base) {
  if (base == 0) return value == 0 ? "1.00x" : "n/a";
  return fmt::format("{:.2f}x", value / base);
}

// Row key -> report, for each model, keeping the first model's row order and appending rows only others have.
struct Aligned {
  std::vector<std::string> keys;
  std::vector<std::map<std::string, const NodeReport*>> by_model;
};

Aligned align(const std::vector<NamedModel>& models, int depth) {
  Aligned a;
  a.by_model.resize(models.size());
  for (std::size_t m = 0; m < models.size(); ++m) {
    for (const auto& layer : models[m].spec.layers) {
      std::function<void(const NodeReport&, int, const std::string&)> walk = [&](const NodeReport& r, int level,
                                                                                 const std::string& prefix) {
        std::string key = prefix.empty() ? r.name : prefix + "." + r.name;
        if (!a.by_model[m].count(key)) {
          if (std::find(a.keys.begin(), a.keys.end(), key) == a.keys.end()) a.keys.push_back(key);
          a.by_model[m][key] = &r;
        }
        if (level + 1 >= depth) return;
        for (const auto& c : r.children) walk(c, level + 1, key);
      };
      walk(layer.report, 0, "");
    }
  }
  return a;
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
    double base = static_cast<double>(get(models[0].spec));
    for (const auto& m : models) {
      double v = static_cast<double>(get(m.spec));
      std::string cell = with_commas(static_cast<std::int64_t>(v));
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

  Aligned a = align(models, depth);
  out += "\nPer layer and branch (ratios relative to [1]; '-' where a config has no such row)\n\n";
  auto header = fmt::format("{:<28}", "layer");
  for (std::size_t m = 0; m < models.size(); ++m) header += fmt::format(" {:>18}", fmt::format("[{}] params", m + 1));
  for (std::size_t m = 0; m < models.size(); ++m) header += fmt::format(" {:>18}", fmt::format("[{}] MACs", m + 1));
  header += "   blocks";
  out += header + "\n" + std::string(header.size() + 20, '-') + "\n";
  for (const auto& key : a.keys) {
    int level = static_cast<int>(std::count(key.begin(), key.end(), '.'));
    out += fmt::format("{:<28}", std::string(static_cast<std::size_t>(level) * 2, ' ') + split(key, '.').back());
    const NodeReport* base = a.by_model[0].count(key) ? a.by_model[0].at(key) : nullptr;
    auto cell = [&](std::size_t m, bool macs) {
      auto it = a.by_model[m].find(key);
      if (it == a.by_model[m].end()) return std::string("-");
      double v = static_cast<double>(macs ? it->second->cost.macs : it->second->cost.params);
      std::string text = human_count(v);
      if (m > 0 && base) text += " " + ratio(v, static_cast<double>(macs ? base->cost.macs : base->cost.params));
      return text;
    };
    for (std::size_t m = 0; m < models.size(); ++m) out += fmt::format(" {:>18}", cell(m, false));
    for (std::size_t m = 0; m < models.size(); ++m) out += fmt::format(" {:>18}", cell(m, true));
    std::vector<std::string> blocks;
    for (std::size_t m = 0; m < models.size(); ++m) {
      auto it = a.by_model[m].find(key);
      blocks.push_back(it == a.by_model[m].end() ? "-" : block_name(models[m], key, it->second));
    }
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
    w.key("params_ratio").value(static_cast<double>(c.params + aux.params) /
                                static_cast<double>(std::max<std::int64_t>(1, models[0].spec.cost().params +
                                                                                  models[0].spec.aux_cost().params)));
    w.key("macs_ratio").value(static_cast<double>(c.macs) /
                              static_cast<double>(std::max<std::int64_t>(1, models[0].spec.cost().macs)));
    w.end_object();
  }
  w.end_array();
  Aligned a = align(models, depth);
  w.key("layers").begin_array();
  for (const auto& key : a.keys) {
    w.begin_object();
    w.key("name").value(key);
    w.key("per_config").begin_array();
    for (std::size_t m = 0; m < models.size(); ++m) {
      auto it = a.by_model[m].find(key);
      if (it == a.by_model[m].end()) {
        w.null();
        continue;
      }
      w.begin_object();
      w.key("block").value(block_name(models[m], key, it->second));
      w.key("output_shape").value(it->second->output.dims);
      w.key("params").value(it->second->cost.params);
      w.key("macs").value(it->second->cost.macs);
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
