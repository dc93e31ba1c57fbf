// Building each variant from the base config, with errors that point at the sweep file.
#include <map>
#include <optional>

#include <fmt/format.h>

#include "experiments/config/experiment_config.h"
#include "experiments/config/experiment_identity.h"
#include "experiments/sweep/sweep.h"
#include "framework/config_loader.h"
#include "framework/text.h"
#include "framework/toml_util.h"

namespace incept {

namespace {

// Puts a sweep-file value at `s.path` of `root` as apply_override does for `--set`, so the result is the config
// `incept train BASE --set <assignment>` builds, but moves the parsed node itself out of `document` (a fresh parse
// of the sweep file): its keys and value keep the sweep file's line and column for every error found later.
void place_setting(toml::table& root, const SweepSetting& s, toml::table& document, Diagnostics& diags) {
  toml::node* value = s.address.find(document);
  toml::node* key_node = s.key_address.find(document);
  if (!value || !key_node) throw std::logic_error("sweep setting " + s.path + " not found in its own file");
  if (auto problem = set_at_path(root, split(s.path, '.'), std::move(*value), key_node->source()))
    diags.error(s.pos, *problem);
}

// The base with [set] and the command line's --set, plus the variant's own settings when there is a variant.
std::optional<ExperimentConfig> build(const Sweep& sweep, const SweepVariant* variant, Diagnostics& diags) {
  const std::string& base = variant ? variant->base : sweep.base;
  toml::table document = toml::parse(sweep.text, std::string_view(sweep.path));
  toml::table root = load_config(base);
  for (const SweepSetting& s : sweep.common) place_setting(root, s, document, diags);
  for (const std::string& a : sweep.command_line) apply_override(root, a);
  if (variant)
    for (const SweepSetting& s : variant->settings) place_setting(root, s, document, diags);
  if (!diags.empty()) return std::nullopt;
  try {
    return resolve_experiment(std::move(root), base);
  } catch (const ConfigError& e) {
    for (const Diagnostic& d : e.diagnostics()) diags.error(d.pos, d.message);
    return std::nullopt;
  }
}

bool same(const Diagnostic& a, const Diagnostic& b) { return a.pos.str() == b.pos.str() && a.message == b.message; }

// Every variant's errors, each reported once: a typo in a grid path breaks every variant the same way.
class VariantErrors {
 public:
  VariantErrors(const Sweep& sweep, Diagnostics base) : sweep_(sweep), base_(std::move(base)) {}

  void add(const SweepVariant& v, Diagnostic d) {
    std::string variant = v.name;
    for (const Diagnostic& b : base_.items()) {
      // Broken without any variant's settings: the base (or [set]) is at fault, and its own position says where.
      if (same(b, d)) variant.clear();
    }
    bool in_sweep_file = d.pos.path == sweep_.path || d.pos.path.rfind("--set ", 0) == 0;
    if (!variant.empty() && !in_sweep_file) {
      // Found in the base config (a shape that no longer fits, say): point at the variant's definition.
      if (!d.pos.path.empty()) d.message += fmt::format(" (at {})", d.pos.str());
      d.pos = v.pos;
    }
    for (Entry& e : entries_) {
      if (!same(e.d, d)) continue;
      if (!variant.empty() && std::find(e.variants.begin(), e.variants.end(), variant) == e.variants.end())
        e.variants.push_back(variant);
      return;
    }
    entries_.push_back(Entry{std::move(d), variant.empty() ? std::vector<std::string>{} : std::vector{variant}});
  }

  void throw_if_any() const {
    Diagnostics out;
    for (const Entry& e : entries_) {
      std::string who;
      if (e.variants.size() == 1) who = fmt::format("variant '{}': ", e.variants[0]);
      if (e.variants.size() > 1)
        who = fmt::format("variant '{}' (and {} more): ", e.variants[0], e.variants.size() - 1);
      out.error(e.d.pos, who + e.d.message);
    }
    out.throw_if_any();
  }

 private:
  struct Entry {
    Diagnostic d;
    std::vector<std::string> variants;
  };
  const Sweep& sweep_;
  Diagnostics base_;
  std::vector<Entry> entries_;
};

}  // namespace

std::vector<ResolvedVariant> resolve_variants(const Sweep& sweep, const std::vector<SweepVariant>& variants) {
  Diagnostics base_problems;
  if (!sweep.base.empty()) build(sweep, nullptr, base_problems);
  VariantErrors errors(sweep, base_problems);
  std::vector<ResolvedVariant> out;
  std::map<std::string, std::string> name_of_hash;
  for (const SweepVariant& v : variants) {
    Diagnostics diags;
    std::optional<ExperimentConfig> cfg = build(sweep, &v, diags);
    for (const Diagnostic& d : diags.items()) errors.add(v, d);
    if (!cfg) continue;
    ResolvedVariant r;
    r.variant = v;
    if (sweep.seeds.empty()) r.variant.seed = static_cast<std::int64_t>(cfg->train.seed);
    r.config_name = cfg->name;
    r.hash = experiment_hash(cfg->resolved);
    if (auto mismatch = data_model_mismatch(*cfg)) errors.add(v, Diagnostic{v.pos, *mismatch});
    toml::table named = cfg->resolved;
    if (!named.contains("name")) named.insert("name", cfg->name);
    r.config_toml = to_toml_text(named);
    // Two names for one experiment would train it twice and split its results.
    auto [same, first] = name_of_hash.emplace(r.hash, v.name);
    if (!first && same->second != v.name)
      errors.add(v, Diagnostic{v.pos, fmt::format("the same experiment as variant '{}' (the overrides give an "
                                                  "identical config); drop one of them", same->second)});
    r.params = cfg->model.cost().params + cfg->model.aux_cost().params;
    r.macs = cfg->model.cost().macs;
    r.prefix = epoch_prefix(cfg->resolved);
    r.pack_key = cfg->train.amp ? "" : packing_key(cfg->resolved);
    r.train_images = known_train_images(cfg->data);
    out.push_back(std::move(r));
  }
  errors.throw_if_any();
  return out;
}

}  // namespace incept
