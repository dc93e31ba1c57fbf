#include "framework/model_spec.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "framework/config_loader.h"
#include "framework/text.h"
#include "framework/toml_util.h"

namespace incept {

Cost ModelSpec::cost() const {
  Cost c;
  for (const auto& l : layers) c += l.report.cost;
  return c;
}

Cost ModelSpec::aux_cost() const {
  Cost c;
  for (const auto& a : aux) c += a.head.report.cost;
  return c;
}

std::int64_t ModelSpec::activation_elems() const {
  std::int64_t n = 0;
  for (const auto& l : layers) n += l.report.activation_elems;
  for (const auto& a : aux) n += a.head.report.activation_elems;
  return n;
}

namespace {

// Keys of [model] that are not layer names.
const std::vector<std::string> kModelKeys = {"input", "bn", "bn_eps", "layers", "aux", "defaults"};
const std::vector<std::string> kLayerKeys = {"name", "block"};
const std::vector<std::string> kAuxKeys = {"name", "block", "at", "weight"};

struct ModelDefaults {
  bool bn = false;
  double bn_eps = 1e-3;
};

// A layer's keys gathered from its sources, lowest priority first: [model.defaults.<block>], the layer's own table,
// then [model.<name>] (from an extending file or --set). Pointers into the config keep every source position.
using LayerKeys = std::map<std::string, std::pair<const toml::key*, const toml::node*>>;

LayerKeys layer_keys(const toml::table& layer, const toml::table* defaults_for_block,
                     const toml::table* override_by_name) {
  LayerKeys keys;
  for (const toml::table* t : {defaults_for_block, &layer, override_by_name}) {
    if (!t) continue;
    for (auto&& [k, v] : *t) keys[std::string(k.str())] = {&k, &v};
  }
  return keys;
}

std::vector<ParamDoc> params_of(const BlockDef& def) {
  std::vector<ParamDoc> all = def.params;
  if (def.has_convs) all.insert(all.end(), conv_style_params().begin(), conv_style_params().end());
  return all;
}

// Fills `args` from `table` (already merged) according to the block's documented parameters.
bool read_block_args(const BlockDef& def, const LayerKeys& table, const std::string& context,
                     const std::vector<std::string>& reserved, const ModelDefaults& model, const SourcePos& layer_pos,
                     BlockArgs& args, ConvStyle& style, Diagnostics& diags) {
  std::size_t before = diags.items().size();
  std::vector<ParamDoc> docs = params_of(def);
  std::vector<std::string> known = reserved;
  for (const auto& d : docs) known.push_back(d.name);
  for (const auto& [key, where] : table) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    diags.error(pos_of(*where.first), fmt::format("unknown key '{}' for block '{}' in {}{}", key, def.name, context,
                                       did_you_mean(key, known)));
  }
  for (const auto& doc : docs) {
    auto found = table.find(doc.name);
    const toml::node* n = found == table.end() ? nullptr : found->second.second;
    ParamValue value;
    if (n) {
      if (!read_param(doc, *n, context, value, diags)) continue;
      args.set(doc.name, value);
    } else if (def.has_convs && doc.name == "bn") {
      args.set("bn", model.bn);
    } else if (def.has_convs && doc.name == "bn_eps") {
      args.set("bn_eps", model.bn_eps);
    } else if (def.has_convs && doc.name == "bias") {
      // resolved below, once bn is known
    } else if (doc.required()) {
      diags.error(layer_pos, fmt::format("{}: block '{}' needs '{}' ({})", context, def.name, doc.name, doc.meaning));
    } else {
      // Defaults are documented as text; parse them with the same rules as user input so they cannot drift.
      toml::table t = parse_override_value(doc.default_text, "default of " + def.name + "." + doc.name);
      if (!read_param(doc, *t.get("v"), "default of " + def.name, value, diags)) continue;
      args.set(doc.name, value);
    }
  }
  if (def.has_convs && args.has("bn")) {
    style.bn = args.flag("bn");
    style.bn_eps = args.has("bn_eps") ? args.number("bn_eps") : model.bn_eps;
    if (!args.has("bias")) args.set("bias", !style.bn);
    style.bias = args.flag("bias");
  }
  return diags.items().size() == before;
}

std::string layer_context(const std::string& name) { return fmt::format("layer '{}'", name); }

// Expands and analyzes one layer; a shape problem becomes a diagnostic at the layer's position.
bool expand_layer(const BlockDef& def, LayerSpec& layer, const ConvStyle& style, const Shape& input,
                  Diagnostics& diags) {
  try {
    layer.ir = def.expand(layer.args, BlockContext{input, style});
    layer.ir.name = layer.name;
    layer.report = analyze(layer.ir, input);
    layer.report.name = layer.name;
    layer.report.what = layer.block;
    return true;
  } catch (const ShapeError& e) {
    std::string where = e.where().empty() ? "" : fmt::format(" at {}", e.where());
    diags.error(layer.pos, fmt::format("layer '{}' ({}){} on input {}: {}", layer.name, layer.block, where,
                                       input.str(), e.what()));
    return false;
  }
}

}  // namespace

ModelSpec resolve_model(const toml::table& root, const SourcePos& file, const BlockRegistry& registry,
                        Diagnostics& diags) {
  ModelSpec spec;
  const toml::node* model_node = root.get("model");
  if (!model_node || !model_node->is_table()) {
    diags.error(model_node ? pos_of(*model_node) : file, "the config needs a [model] table");
    return spec;
  }
  const toml::table& model = *model_node->as_table();
  TableReader reader(&model, "model", file, diags);
  const std::size_t errors_before_input = diags.items().size();
  std::vector<std::int64_t> input = reader.integers("input", {}, 1, kMaxInputDim);
  if (!reader.present("input")) diags.error(file, "model.input is required, e.g. input = [1, 28, 28] (C, H, W)");
  else if (diags.items().size() == errors_before_input && input.size() != 3 && input.size() != 1)
    diags.error(reader.pos("input"), "model.input must be [C, H, W] (or [F] for a flat input)");
  spec.input = Shape{input};
  ModelDefaults defaults;
  defaults.bn = reader.flag("bn", false);
  defaults.bn_eps = reader.number("bn_eps", 1e-3, 0.0, 1.0);
  const toml::node* layers_node = reader.take("layers");
  const toml::node* aux_node = reader.take("aux");
  const toml::node* defaults_node = reader.take("defaults");

  // [model.defaults.<block>]: each key must name a block.
  const toml::table* defaults_table = defaults_node ? defaults_node->as_table() : nullptr;
  if (defaults_node && !defaults_table) diags.error(pos_of(*defaults_node), "model.defaults must be a table");
  if (defaults_table) {
    for (auto&& [k, v] : *defaults_table) {
      if (!registry.find(std::string(k.str())))
        diags.error(pos_of(k), fmt::format("model.defaults.{}: unknown block '{}'{}", k.str(), k.str(),
                                           did_you_mean(std::string(k.str()), registry.names())));
      else if (!v.is_table())
        diags.error(pos_of(v), fmt::format("model.defaults.{} must be a table of parameters", k.str()));
    }
  }
  auto defaults_for = [&](const std::string& block) -> const toml::table* {
    if (!defaults_table) return nullptr;
    const toml::node* n = defaults_table->get(block);
    return n ? n->as_table() : nullptr;
  };

  const toml::array* layers = layers_node ? layers_node->as_array() : nullptr;
  if (!layers || layers->empty()) {
    diags.error(layers_node ? pos_of(*layers_node) : file,
                "model.layers must be a non-empty array of tables ([[model.layers]] with name and block)");
    reader.finish();
    return spec;
  }

  // Collect layer names first so that [model.<name>] override tables are recognised.
  std::map<std::string, SourcePos> names;
  std::vector<std::string> layer_names;
  for (const auto& item : *layers) {
    const toml::table* t = item.as_table();
    if (!t) continue;
    const toml::node* name = t->get("name");
    if (!name || !name->is_string()) continue;
    std::string n = *name->value<std::string>();
    auto [it, inserted] = names.emplace(n, pos_of(*name));
    if (!inserted)
      diags.error(pos_of(*name), fmt::format("duplicate layer name '{}' (first defined at {})", n, it->second.str()));
    else
      layer_names.push_back(n);
  }
  auto override_for = [&](const std::string& name) -> const toml::table* {
    const toml::node* n = model.get(name);
    return n ? n->as_table() : nullptr;
  };

  // Pass 1: parameters of every layer, so all key/type/range errors are reported together.
  std::vector<ConvStyle> styles;
  std::vector<const BlockDef*> defs;
  bool params_ok = true;
  for (std::size_t i = 0; i < layers->size(); ++i) {
    const toml::node& item = (*layers)[i];
    const toml::table* t = item.as_table();
    if (!t) {
      diags.error(pos_of(item), fmt::format("model.layers[{}] must be a table", i));
      params_ok = false;
      continue;
    }
    LayerSpec layer;
    layer.pos = pos_of(item);
    const toml::node* name = t->get("name");
    if (!name || !name->is_string() || name->value<std::string>()->empty()) {
      diags.error(name ? pos_of(*name) : layer.pos,
                  fmt::format("model.layers[{}] needs a non-empty string 'name'", i));
      params_ok = false;
      continue;
    }
    layer.name = *name->value<std::string>();
    const toml::table* by_name = override_for(layer.name);
    const toml::node* block = (by_name && by_name->get("block")) ? by_name->get("block") : t->get("block");
    if (!block || !block->is_string()) {
      diags.error(block ? pos_of(*block) : layer.pos,
                  fmt::format("layer '{}' needs a string 'block' naming a registered block", layer.name));
      params_ok = false;
      continue;
    }
    layer.block = *block->value<std::string>();
    const BlockDef* def = registry.find(layer.block);
    if (!def) {
      auto near = nearest(layer.block, registry.names());
      diags.error(pos_of(*block), fmt::format("layer '{}': unknown block '{}'{} (known blocks: {})", layer.name,
                                              layer.block,
                                              near.empty() ? "" : fmt::format("; did you mean '{}'?", near.front()),
                                              join(registry.names(), ", ")));
      params_ok = false;
      continue;
    }
    if (def->aux_head) {
      diags.error(pos_of(*block), fmt::format("layer '{}': block '{}' is an auxiliary head; attach it with "
                                              "[[model.aux]] (name, block, at = \"<layer>\")",
                                              layer.name, layer.block));
      params_ok = false;
      continue;
    }
    LayerKeys merged = layer_keys(*t, defaults_for(layer.block), by_name);
    ConvStyle style;
    if (!read_block_args(*def, merged, layer_context(layer.name), kLayerKeys, defaults, layer.pos, layer.args, style,
                         diags))
      params_ok = false;
    styles.push_back(style);
    defs.push_back(def);
    spec.layers.push_back(std::move(layer));
  }

  // Aux heads: parameters and attachment point.
  std::vector<ConvStyle> aux_styles;
  std::vector<const BlockDef*> aux_defs;
  const toml::array* aux = aux_node ? aux_node->as_array() : nullptr;
  if (aux_node && !aux) diags.error(pos_of(*aux_node), "model.aux must be an array of tables ([[model.aux]])");
  if (aux) {
    for (std::size_t i = 0; i < aux->size(); ++i) {
      const toml::table* t = (*aux)[i].as_table();
      if (!t) {
        diags.error(pos_of((*aux)[i]), fmt::format("model.aux[{}] must be a table", i));
        params_ok = false;
        continue;
      }
      AuxSpec a;
      a.head.pos = pos_of((*aux)[i]);
      TableReader ar(t, fmt::format("model.aux[{}]", i), a.head.pos, diags);
      a.head.name = ar.text("name", fmt::format("aux{}", i + 1));
      a.head.block = ar.text("block", "");
      a.at = ar.text("at", "");
      a.weight = ar.number("weight", 0.3, 0.0, 1e6);
      if (names.count(a.head.name))
        diags.error(ar.pos("name"), fmt::format("aux head name '{}' is already a layer name", a.head.name));
      auto at = std::find(layer_names.begin(), layer_names.end(), a.at);
      if (a.at.empty() || at == layer_names.end()) {
        diags.error(ar.pos("at"), fmt::format("aux head '{}': 'at' must name a layer{}", a.head.name,
                                              did_you_mean(a.at, layer_names)));
        params_ok = false;
        continue;
      }
      a.at_index = static_cast<std::size_t>(at - layer_names.begin());
      const BlockDef* def = registry.find(a.head.block);
      if (!def) {
        diags.error(ar.pos("block"), fmt::format("aux head '{}': unknown block '{}'{}", a.head.name, a.head.block,
                                                 did_you_mean(a.head.block, registry.names())));
        params_ok = false;
        continue;
      }
      LayerKeys merged = layer_keys(*t, defaults_for(a.head.block), override_for(a.head.name));
      ConvStyle style;
      if (!read_block_args(*def, merged, fmt::format("aux head '{}'", a.head.name), kAuxKeys, defaults, a.head.pos,
                           a.head.args, style, diags))
        params_ok = false;
      aux_styles.push_back(style);
      aux_defs.push_back(def);
      spec.aux.push_back(std::move(a));
    }
  }

  // [model.<x>] tables must name a layer or aux head; anything else is a typo.
  std::vector<std::string> allowed = kModelKeys;
  allowed.insert(allowed.end(), layer_names.begin(), layer_names.end());
  for (const auto& a : spec.aux) allowed.push_back(a.head.name);
  reader.finish(allowed);

  if (!params_ok || !diags.empty() || spec.input.dims.empty()) return spec;

  // Pass 2: shapes and costs, in order. The model's totals are checked as they grow, so every total computed
  // from the spec later (summary, compare, the trainer) fits in 64 bits.
  Cost total;
  std::int64_t activations = 0;
  auto add_to_totals = [&](const LayerSpec& l) {
    try {
      const Cost& c = l.report.cost;
      total.params = checked_add(total.params, c.params, "", "the model's parameter count");
      total.macs = checked_add(total.macs, c.macs, "", "the model's MAC count");
      total.other_ops = checked_add(total.other_ops, c.other_ops, "", "the model's count of other ops");
      activations = checked_add(activations, l.report.activation_elems, "", "the model's activation size");
      return true;
    } catch (const ShapeError& e) {
      diags.error(l.pos, fmt::format("layer '{}': {}", l.name, e.what()));
      return false;
    }
  };
  Shape cur = spec.input;
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    if (!expand_layer(*defs[i], spec.layers[i], styles[i], cur, diags)) return spec;
    if (!add_to_totals(spec.layers[i])) return spec;
    cur = spec.layers[i].report.output;
  }
  for (std::size_t i = 0; i < spec.aux.size(); ++i) {
    AuxSpec& a = spec.aux[i];
    if (expand_layer(*aux_defs[i], a.head, aux_styles[i], spec.layers[a.at_index].report.output, diags) &&
        !add_to_totals(a.head))
      return spec;
  }
  return spec;
}

ModelSpec load_model(const std::string& path, const std::vector<std::string>& overrides) {
  toml::table root = load_config(path, overrides);
  Diagnostics diags;
  ModelSpec spec = resolve_model(root, SourcePos{path}, builtin_registry(), diags);
  diags.throw_if_any();
  return spec;
}

}  // namespace incept
