#include "reports/config_diff.h"

#include <set>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "experiments/config/experiment_identity.h"
#include "framework/diagnostics.h"
#include "framework/text.h"

namespace incept {

namespace {

std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

// Values as a person would write them in a config: 0.1 rather than toml++'s round-trip 0.10000000000000001, and
// strings bare at the top level (quoted inside arrays, where the quotes separate the elements).
std::string display(const toml::node& node, bool top_level = true) {
  if (const auto* s = node.as_string()) return top_level ? s->get() : "\"" + s->get() + "\"";
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* f = node.as_floating_point()) {
    std::string text = fmt::format("{}", f->get());
    if (text.find_first_of(".eEn") == std::string::npos) text += ".0";  // 1.0 must not read as the integer 1
    return text;
  }
  if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  if (const auto* a = node.as_array()) {
    std::vector<std::string> items;
    for (const toml::node& item : *a) items.push_back(display(item, false));
    return "[" + join(items, ", ") + "]";
  }
  if (const auto* t = node.as_table()) {
    std::vector<std::string> items;
    for (const auto& [key, value] : *t) items.push_back(std::string(key.str()) + " = " + display(value, false));
    return "{ " + join(items, ", ") + " }";
  }
  std::ostringstream out;  // dates and times
  node.visit([&out](const auto& n) { out << n; });
  return out.str();
}

const std::string* name_of(const toml::node& node) {
  const toml::table* t = node.as_table();
  if (!t) return nullptr;
  const toml::node* name = t->get("name");
  return name && name->is_string() ? &name->as_string()->get() : nullptr;
}

// An array of tables that each carry a name reads better addressed by name than by position, and stays
// comparable when a variant inserts a layer.
bool is_named_table_array(const toml::array& array) {
  if (array.empty()) return false;
  std::set<std::string> names;
  for (const toml::node& item : array) {
    const std::string* name = name_of(item);
    if (!name || !names.insert(*name).second) return false;
  }
  return true;
}

// Layers and aux heads are addressed as `--set` addresses them, model.<name>.<key>: the path a user writes, in a
// sweep file or on the command line, to change what the report shows.
std::string element_path(const std::string& array_path, const std::string& name) {
  if (array_path == "model.layers" || array_path == "model.aux") return child_path("model", name);
  return child_path(array_path, name);
}

void flatten_into(const toml::node& node, const std::string& path, FlatConfig& out) {
  if (const toml::table* table = node.as_table()) {
    for (const auto& [key, child] : *table) flatten_into(child, child_path(path, std::string(key.str())), out);
    return;
  }
  if (const toml::array* array = node.as_array(); array && is_named_table_array(*array)) {
    for (const toml::node& item : *array) {
      const std::string element = element_path(path, *name_of(item));
      for (const auto& [key, child] : *item.as_table())
        if (key.str() != "name") flatten_into(child, child_path(element, std::string(key.str())), out);
    }
    return;
  }
  out[path] = display(node);
}

// Applies [model.<name>] override tables to the layer or aux head of that name, as the config language does.
void fold_layer_overrides(toml::table& root) {
  toml::table* model = root["model"].as_table();
  if (!model) return;
  std::unordered_map<std::string, toml::table*> named;
  for (const char* list : {"layers", "aux"})
    if (toml::array* items = model->get_as<toml::array>(list))
      for (toml::node& item : *items)
        if (const std::string* name = name_of(item)) named.emplace(*name, item.as_table());

  std::vector<std::string> folded;
  for (const auto& [key, value] : *model) {
    auto target = named.find(std::string(key.str()));
    const toml::table* overrides = value.as_table();
    if (target == named.end() || !overrides) continue;
    for (const auto& [field, setting] : *overrides) target->second->insert_or_assign(field, setting);
    folded.emplace_back(key.str());
  }
  for (const std::string& key : folded) model->erase(key);
}

}  // namespace

bool is_ignored_setting(const std::string& dotted_path) {
  // What is not part of the experiment (experiment_identity.h), and the seed, which varies within a variant.
  return is_execution_setting(dotted_path) || dotted_path == "train.seed";
}

FlatConfig flatten_config(const std::string& toml_text, const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string_view(origin));
  } catch (const toml::parse_error& e) {
    throw UserError(fmt::format("{}: stored config is not valid TOML: {}", origin, e.description()));
  }
  fold_layer_overrides(root);
  FlatConfig flat;
  flatten_into(root, "", flat);
  for (auto it = flat.begin(); it != flat.end();) it = is_ignored_setting(it->first) ? flat.erase(it) : std::next(it);
  return flat;
}

SettingsDiff differing_settings(const std::vector<FlatConfig>& configs) {
  SettingsDiff diff;
  diff.values.resize(configs.size());
  if (configs.size() < 2) return diff;
  std::set<std::string> all_keys;
  for (const FlatConfig& c : configs)
    for (const auto& entry : c) all_keys.insert(entry.first);

  const auto value_in = [](const FlatConfig& c, const std::string& key) -> std::optional<std::string> {
    auto it = c.find(key);
    if (it == c.end()) return std::nullopt;
    return it->second;
  };
  for (const std::string& key : all_keys) {
    const std::optional<std::string> first = value_in(configs.front(), key);
    bool differs = false;
    for (const FlatConfig& c : configs) differs = differs || value_in(c, key) != first;
    if (!differs) continue;
    diff.keys.push_back(key);
    for (std::size_t i = 0; i < configs.size(); ++i) diff.values[i].push_back(value_in(configs[i], key));
  }
  return diff;
}

std::vector<SettingGroup> group_settings(const SettingsDiff& diff) {
  std::vector<SettingGroup> groups;
  const auto column = [&diff](std::size_t key) {
    std::vector<std::optional<std::string>> values;
    for (const auto& config : diff.values) values.push_back(config[key]);
    return values;
  };
  std::vector<bool> taken(diff.keys.size(), false);
  for (std::size_t k = 0; k < diff.keys.size(); ++k) {
    if (taken[k]) continue;
    SettingGroup group;
    const auto values = column(k);
    for (std::size_t other = k; other < diff.keys.size(); ++other)
      if (!taken[other] && column(other) == values) {
        taken[other] = true;
        group.keys.push_back(other);
      }
    std::vector<std::string> paths;
    for (std::size_t i : group.keys) paths.push_back(diff.keys[i]);
    group.title = joint_path(paths);
    groups.push_back(std::move(group));
  }
  return groups;
}

std::string joint_path(const std::vector<std::string>& paths) {
  if (paths.empty()) return "";
  if (paths.size() == 1) return paths.front();
  std::vector<std::vector<std::string>> parts;
  for (const std::string& p : paths) parts.push_back(split(p, '.'));
  const std::size_t length = parts.front().size();
  bool same_length = true;
  for (const auto& p : parts) same_length = same_length && p.size() == length;
  std::optional<std::size_t> differing;
  bool one_component = same_length;
  for (std::size_t c = 0; one_component && c < length; ++c) {
    bool all_equal = true;
    for (const auto& p : parts) all_equal = all_equal && p[c] == parts.front()[c];
    if (all_equal) continue;
    if (differing) one_component = false;
    differing = c;
  }
  if (!one_component || !differing) return join(paths, ", ");
  // The differing component's common start, written once, unless that would leave a variant empty
  // (inception1 and inception10 read as "inception1/inception10", not "inception1/0" with a blank).
  std::vector<std::string> variants;
  for (const auto& p : parts) variants.push_back(p[*differing]);
  std::size_t common = variants.front().size();
  for (const std::string& v : variants) {
    std::size_t n = 0;
    while (n < common && n < v.size() && v[n] == variants.front()[n]) ++n;
    common = n;
  }
  for (const std::string& v : variants)
    if (v.size() == common) common = 0;
  std::vector<std::string> tails;
  for (const std::string& v : variants) tails.push_back(v.substr(common));
  std::vector<std::string> out = parts.front();
  out[*differing] = variants.front().substr(0, common) + join(tails, "/");
  return join(out, ".");
}

}  // namespace incept
