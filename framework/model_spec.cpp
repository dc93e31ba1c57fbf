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

// Fills `args` from `table` (already merged) according to the block's documented parameters.
bool read_block_args(const BlockDef& def, const LayerKeys& table, const std::string& context,
                     const std::vector<std::string>& reserved, const ModelDefaults& model, const SourcePos& layer_pos,
                     BlockArgs& args, ConvStyle& style, Diagnostics& diags) {
  std::size_t before = diags.items().size();
  std::vector<ParamDoc> docs = all_params(def);
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


// The residual switches (residual_params()): the block's expansion becomes the body of
// x + residual_scale * proj(block(x)) [-> ReLU], proj being a 1x1 conv back to the input's channels with a bias and
// neither BN nor activation (Inception-ResNet's "linear" 1x1, timm's conv2d with bias=True), or the identity.
Node with_residual(Node block, const BlockArgs& args, const ConvStyle& style, const Shape& input,
                   const std::string& name) {
  if (!args.has("residual") || !args.flag("residual")) return block;
  const bool relu = args.text("residual_activation") == "relu";
  const double scale = args.number("residual_scale");
  if (!args.flag("residual_proj")) return residual(name, std::move(block), scale, relu);
  const ConvStyle linear{false, style.bn_eps, true};
  Node proj = conv_unit("proj", linear, input.channels(), {1, 1}, {1, 1}, {0, 0}, /*relu=*/false);
  return residual(name, sequence("body", {std::move(block), std::move(proj)}), scale, relu);
}

// Expands and analyzes one layer; a shape problem becomes a diagnostic at the layer's position.
bool expand_layer(const BlockDef& def, LayerSpec& layer, const ConvStyle& style, const Shape& input,
                  Diagnostics& diags) {
  try {
    layer.ir = with_residual(def.expand(layer.args, BlockContext{input, style}), layer.args, style, input, layer.name);
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

// model.input: [C, H, W], or [F] for a flat input.
Shape read_input(TableReader& reader, const SourcePos& file, Diagnostics& diags) {
  const std::size_t errors_before = diags.items().size();
  std::vector<std::int64_t> input = reader.integers("input", {}, 1, kMaxInputDim);
  if (!reader.present("input")) diags.error(file, "model.input is required, e.g. input = [1, 28, 28] (C, H, W)");
  else if (diags.items().size() == errors_before && input.size() != 3 && input.size() != 1)
    diags.error(reader.pos("input"), "model.input must be [C, H, W] (or [F] for a flat input)");
  return Shape{input};
}

// `name` is how a [model.<name>] table finds its layer and how [model.defaults.<block>] cannot find any: in either
// it would be accepted and ignored, so it is an error (a layer is renamed where it is defined).
void reject_name_in(const toml::table* t, const std::string& where, Diagnostics& diags) {
  if (const toml::node* n = t ? t->get("name") : nullptr)
    diags.error(pos_of(*n), fmt::format("{} cannot set 'name': a layer or aux head is named where it is defined "
                                        "([[model.layers]] or [[model.aux]])",
                                        where));
}

// [model.defaults.<block>]: each key must name a block and hold a table. Returns the table, or null when there is
// none (or it is not a table).
const toml::table* read_block_defaults(const toml::node* node, const BlockRegistry& registry, Diagnostics& diags) {
  const toml::table* table = node ? node->as_table() : nullptr;
  if (node && !table) diags.error(pos_of(*node), "model.defaults must be a table");
  if (!table) return nullptr;
  for (auto&& [k, v] : *table) {
    if (!registry.find(std::string(k.str())))
      diags.error(pos_of(k),
                  fmt::format("model.defaults.{}: {}", k.str(), registry.unknown_block_message(std::string(k.str()))));
    else if (!v.is_table())
      diags.error(pos_of(v), fmt::format("model.defaults.{} must be a table of parameters", k.str()));
    else
      reject_name_in(v.as_table(), fmt::format("[model.defaults.{}]", k.str()), diags);
  }
  return table;
}

// Everything besides a layer's own table that decides its parameters.
struct LayerSources {
  const toml::table& model;
  const toml::table* block_defaults;  // [model.defaults]; null when absent
  ModelDefaults conv;                 // model.bn, model.bn_eps
  const BlockRegistry& registry;

  // [model.defaults.<block>]
  const toml::table* defaults_for(const std::string& block) const {
    const toml::node* n = block_defaults ? block_defaults->get(block) : nullptr;
    return n ? n->as_table() : nullptr;
  }
  // [model.<name>]
  const toml::table* override_for(const std::string& name) const {
    const toml::node* n = model.get(name);
    return n ? n->as_table() : nullptr;
  }
};

// The layer names, each once, in config order; a repeated name is reported at its second definition.
struct LayerNames {
  std::map<std::string, SourcePos> first_defined;
  std::vector<std::string> in_order;
  bool has(const std::string& name) const { return first_defined.count(name) != 0; }
};

// Collected before any layer is read, so that [model.<name>] tables and the aux heads' `at` can be checked.
LayerNames collect_layer_names(const toml::array& layers, Diagnostics& diags) {
  LayerNames names;
  for (const auto& item : layers) {
    const toml::table* t = item.as_table();
    if (!t) continue;
    const toml::node* name = t->get("name");
    if (!name || !name->is_string()) continue;
    std::string n = *name->value<std::string>();
    auto [it, inserted] = names.first_defined.emplace(n, pos_of(*name));
    if (!inserted)
      diags.error(pos_of(*name), fmt::format("duplicate layer name '{}' (first defined at {})", n, it->second.str()));
    else
      names.in_order.push_back(n);
  }
  return names;
}

// What pass 2 needs to expand a layer (or aux head) whose parameters were read.
struct PendingExpansion {
  const BlockDef* def = nullptr;
  ConvStyle style;
};

// The block a main-path layer names ([model.<name>].block wins over the layer's own), recorded in layer.block.
// Null, with the reason reported, when it names none, an unknown one or an aux head.
const BlockDef* main_path_block(const toml::table& item, LayerSpec& layer, const LayerSources& sources,
                                Diagnostics& diags) {
  const toml::table* by_name = sources.override_for(layer.name);
  const toml::node* block = (by_name && by_name->get("block")) ? by_name->get("block") : item.get("block");
  if (!block || !block->is_string()) {
    diags.error(block ? pos_of(*block) : layer.pos,
                fmt::format("layer '{}' needs a string 'block' naming a registered block", layer.name));
    return nullptr;
  }
  layer.block = *block->value<std::string>();
  const BlockDef* def = sources.registry.find(layer.block);
  if (!def) {
    diags.error(pos_of(*block),
                fmt::format("layer '{}': {}", layer.name, sources.registry.unknown_block_message(layer.block)));
    return nullptr;
  }
  if (def->role == BlockRole::AuxHead) {
    diags.error(pos_of(*block), fmt::format("layer '{}': block '{}' is an auxiliary head; attach it with "
                                            "[[model.aux]] (name, block, at = \"<layer>\")",
                                            layer.name, layer.block));
    return nullptr;
  }
  return def;
}

// Pass 1 for [[model.layers]][index]: name, block and parameters. A layer whose block is known is added to
// `layers` even when its parameters have errors (they are in `diags`, which stops the resolution before pass 2).
void read_layer(const toml::node& item, std::size_t index, const LayerSources& sources, Diagnostics& diags,
                std::vector<LayerSpec>& layers, std::vector<PendingExpansion>& pending) {
  const toml::table* t = item.as_table();
  if (!t) {
    diags.error(pos_of(item), fmt::format("model.layers[{}] must be a table", index));
    return;
  }
  LayerSpec layer;
  layer.pos = pos_of(item);
  const toml::node* name = t->get("name");
  if (!name || !name->is_string() || name->value<std::string>()->empty()) {
    diags.error(name ? pos_of(*name) : layer.pos,
                fmt::format("model.layers[{}] needs a non-empty string 'name'", index));
    return;
  }
  layer.name = *name->value<std::string>();
  reject_name_in(sources.override_for(layer.name), fmt::format("[model.{}]", layer.name), diags);
  const BlockDef* def = main_path_block(*t, layer, sources, diags);
  if (!def) return;
  LayerKeys merged = layer_keys(*t, sources.defaults_for(layer.block), sources.override_for(layer.name));
  PendingExpansion p{def, {}};
  read_block_args(*def, merged, layer_context(layer.name), kLayerKeys, sources.conv, layer.pos, layer.args, p.style,
                  diags);
  pending.push_back(p);
  layers.push_back(std::move(layer));
}

// Pass 1 for [[model.aux]][index]: name, block, attachment point, loss weight and parameters. Added to `aux` on
// the same terms as read_layer adds a layer.
void read_aux_head(const toml::node& item, std::size_t index, const LayerSources& sources, const LayerNames& names,
                   Diagnostics& diags, std::vector<AuxSpec>& aux, std::vector<PendingExpansion>& pending) {
  const toml::table* t = item.as_table();
  if (!t) {
    diags.error(pos_of(item), fmt::format("model.aux[{}] must be a table", index));
    return;
  }
  AuxSpec a;
  a.head.pos = pos_of(item);
  TableReader ar(t, fmt::format("model.aux[{}]", index), a.head.pos, diags);
  a.head.name = ar.text("name", fmt::format("aux{}", index + 1));
  // [model.<name>] overrides the head's own keys (block, at, weight and its parameters), as it does a layer's;
  // [model.defaults.<block>] may give the weight of every head of a kind. Each read where it is written, so a bad
  // value is reported at its place.
  const toml::table* by_name = sources.override_for(a.head.name);
  reject_name_in(by_name, fmt::format("[model.{}]", a.head.name), diags);
  TableReader over(by_name, fmt::format("model.{}", a.head.name), a.head.pos, diags);
  a.head.block = over.present("block") ? over.text("block", "") : ar.text("block", "");
  a.at = over.present("at") ? over.text("at", "") : ar.text("at", "");
  TableReader by_block(sources.defaults_for(a.head.block), fmt::format("model.defaults.{}", a.head.block), a.head.pos, diags);
  // All three are read (and so checked), the most specific that is present wins.
  const double weight_by_block = by_block.number("weight", 0.3, 0.0, 1e6);
  const double weight_own = ar.number("weight", weight_by_block, 0.0, 1e6);
  a.weight = over.number("weight", weight_own, 0.0, 1e6);
  if (names.has(a.head.name))
    diags.error(ar.pos("name"), fmt::format("aux head name '{}' is already a layer name", a.head.name));
  auto at = std::find(names.in_order.begin(), names.in_order.end(), a.at);
  if (a.at.empty() || at == names.in_order.end()) {
    diags.error(over.present("at") ? over.pos("at") : ar.pos("at"),
                fmt::format("aux head '{}': 'at' must name a layer{}", a.head.name, did_you_mean(a.at, names.in_order)));
    return;
  }
  a.at_index = static_cast<std::size_t>(at - names.in_order.begin());
  const BlockDef* def = sources.registry.find(a.head.block);
  if (!def) {
    diags.error(over.present("block") ? over.pos("block") : ar.pos("block"),
                fmt::format("aux head '{}': {}", a.head.name, sources.registry.unknown_block_message(a.head.block)));
    return;
  }
  LayerKeys merged = layer_keys(*t, sources.defaults_for(a.head.block), sources.override_for(a.head.name));
  PendingExpansion p{def, {}};
  read_block_args(*def, merged, fmt::format("aux head '{}'", a.head.name), kAuxKeys, sources.conv, a.head.pos,
                  a.head.args, p.style, diags);
  pending.push_back(p);
  aux.push_back(std::move(a));
}

// The keys [model] may have: its own, then a table per layer or aux head ([model.<name>] overrides).
std::vector<std::string> model_table_keys(const LayerNames& names, const std::vector<AuxSpec>& aux) {
  std::vector<std::string> allowed = kModelKeys;
  allowed.insert(allowed.end(), names.in_order.begin(), names.in_order.end());
  for (const auto& a : aux) allowed.push_back(a.head.name);
  return allowed;
}

// The model's totals, checked as they grow, so every total computed from the spec later (summary, compare, the
// trainer) fits in 64 bits.
class CheckedTotals {
 public:
  // False, with the overflow reported at the layer, when adding `layer` would overflow a total.
  bool add(const LayerSpec& layer, Diagnostics& diags) {
    try {
      const Cost& c = layer.report.cost;
      total_.params = checked_add(total_.params, c.params, "", "the model's parameter count");
      total_.macs = checked_add(total_.macs, c.macs, "", "the model's MAC count");
      total_.other_ops = checked_add(total_.other_ops, c.other_ops, "", "the model's count of other ops");
      activations_ = checked_add(activations_, layer.report.activation_elems, "", "the model's activation size");
      return true;
    } catch (const ShapeError& e) {
      diags.error(layer.pos, fmt::format("layer '{}': {}", layer.name, e.what()));
      return false;
    }
  }

 private:
  Cost total_;
  std::int64_t activations_ = 0;
};

// Pass 2: shapes and costs, layer after layer, then each aux head on its layer's output. Stops at the first
// layer that cannot be applied, since the shapes after it are unknown.
void expand_model(ModelSpec& spec, const std::vector<PendingExpansion>& layers,
                  const std::vector<PendingExpansion>& aux, Diagnostics& diags) {
  CheckedTotals totals;
  Shape cur = spec.input;
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    if (!expand_layer(*layers[i].def, spec.layers[i], layers[i].style, cur, diags)) return;
    if (!totals.add(spec.layers[i], diags)) return;
    cur = spec.layers[i].report.output;
  }
  for (std::size_t i = 0; i < spec.aux.size(); ++i) {
    AuxSpec& a = spec.aux[i];
    if (expand_layer(*aux[i].def, a.head, aux[i].style, spec.layers[a.at_index].report.output, diags) &&
        !totals.add(a.head, diags))
      return;
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
  spec.input = read_input(reader, file, diags);
  ModelDefaults conv;
  conv.bn = reader.flag("bn", false);
  conv.bn_eps = reader.number("bn_eps", 1e-3, 0.0, 1.0);
  const toml::node* layers_node = reader.take("layers");
  const toml::node* aux_node = reader.take("aux");
  const toml::node* defaults_node = reader.take("defaults");
  const LayerSources sources{model, read_block_defaults(defaults_node, registry, diags), conv, registry};

  const toml::array* layers = layers_node ? layers_node->as_array() : nullptr;
  if (!layers || layers->empty()) {
    diags.error(layers_node ? pos_of(*layers_node) : file,
                "model.layers must be a non-empty array of tables ([[model.layers]] with name and block)");
    reader.finish();
    return spec;
  }
  const LayerNames names = collect_layer_names(*layers, diags);

  // Pass 1: the parameters of every layer and aux head, so all key/type/range errors are reported together.
  std::vector<PendingExpansion> pending_layers, pending_aux;
  for (std::size_t i = 0; i < layers->size(); ++i)
    read_layer((*layers)[i], i, sources, diags, spec.layers, pending_layers);
  const toml::array* aux = aux_node ? aux_node->as_array() : nullptr;
  if (aux_node && !aux) diags.error(pos_of(*aux_node), "model.aux must be an array of tables ([[model.aux]])");
  if (aux)
    for (std::size_t i = 0; i < aux->size(); ++i)
      read_aux_head((*aux)[i], i, sources, names, diags, spec.aux, pending_aux);
  // [model.<x>] tables must name a layer or aux head; anything else is a typo. One that names one must be a table:
  // `model.conv1 = 5` would otherwise be accepted, stored and ignored.
  reader.finish(model_table_keys(names, spec.aux));
  for (const std::string& key : model_table_keys(names, spec.aux)) {
    if (std::find(kModelKeys.begin(), kModelKeys.end(), key) != kModelKeys.end()) continue;
    if (const toml::node* n = model.get(key); n && !n->is_table())
      diags.error(pos_of(*n), fmt::format("model.{} must be a table of overrides for '{}', not {}", key, key,
                                          toml_type_name(n->type())));
  }

  if (!diags.empty() || spec.input.dims.empty()) return spec;
  expand_model(spec, pending_layers, pending_aux, diags);
  return spec;
}

}  // namespace incept
