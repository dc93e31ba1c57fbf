// Reading a sweep file: every key checked (unknown keys with "did you mean", wrong types, unequal zip lists, a path
// on two axes), all problems reported at once with the sweep file's line and column.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include <fmt/format.h>

#include "experiments/sweep/sweep.h"
#include "experiments/sweep/sweep_axes.h"
#include "experiments/sweep/value_text.h"
#include "framework/text.h"
#include "framework/toml_util.h"

namespace incept {

namespace {

namespace fs = std::filesystem;

const std::string kSeedPath = "train.seed";

bool before(const SourcePos& a, const SourcePos& b) { return std::tie(a.line, a.column) < std::tie(b.line, b.column); }

// A value under some table of the sweep file, with the config path it assigns.
struct Leaf {
  std::string path;
  const toml::node* node = nullptr;
  NodeAddress address;
};

// Quoted keys ("model.bn" = ...), dotted keys (model.bn = ...) and sub-tables all name the same config path; a
// table value is an override table, merged key by key.
void collect_leaves(const toml::table& t, const std::string& prefix, const NodeAddress& address,
                    std::vector<Leaf>& out) {
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    std::string path = prefix.empty() ? key : prefix + "." + key;
    if (const auto* sub = v.as_table()) collect_leaves(*sub, path, address.key(key), out);
    else out.push_back(Leaf{path, &v, address.key(key)});
  }
}

// In file order (toml++ tables iterate in key order).
std::vector<Leaf> leaves_of(const toml::table& t, const NodeAddress& address) {
  std::vector<Leaf> out;
  collect_leaves(t, "", address, out);
  std::stable_sort(out.begin(), out.end(),
                   [](const Leaf& a, const Leaf& b) { return before(pos_of(*a.node), pos_of(*b.node)); });
  return out;
}

// A grid key or one key of a zip group: a config path and the list of values it takes.
struct AxisList {
  std::string path;
  NodeAddress address;
  SourcePos pos;
  std::vector<Leaf> values;  // one per element; `path` of each is the axis path
};

// Where each path is set, to catch a path on two axes.
struct PathUse {
  std::string what;  // "grid", "[[zip]]", "seeds", "[set]", "variants.<name>"
  SourcePos pos;
};

class SweepFileReader {
 public:
  SweepFileReader(const std::string& path, toml::table& root, Diagnostics& diags)
      : path_(path), root_(root), diags_(diags) {}

  Sweep read(const std::vector<std::string>& command_line) {
    Sweep sweep;
    sweep.path = path_;
    sweep.command_line = command_line;
    TableReader top(&root_, "", SourcePos{path_}, diags_);
    sweep.name = top.text("name", fs::path(path_).stem().string());
    if (sweep.name.empty()) diags_.error(top.pos("name"), "name must not be empty");
    sweep.description = top.text("description", "");
    sweep.base_pos = top.present("base") ? top.pos("base") : SourcePos{path_, 1, 1};
    std::string given_base = top.text("base", "");
    if (top.present("base") && root_["base"].is_string()) sweep.base = config_path(given_base, sweep.base_pos);
    sweep.baseline = top.text("baseline", "");
    SourcePos baseline_pos = top.pos("baseline");
    SweepAxes axes;
    axes.base_pos = sweep.base_pos;
    axes.base = sweep.base;
    axes.seeds = read_seeds(top.take("seeds"), sweep.seeds);
    sweep.common = read_common(top.take("set"));
    std::vector<AxisList> grid = read_grid(top.take("grid"));
    std::vector<std::vector<AxisList>> zips = read_zips(top.take("zip"));
    named_ = read_named_variants(top.take("variants"));
    top.finish();
    check_every_variant_has_a_base(sweep, top.present("base"));

    check_paths_used_once(sweep, grid, zips, axes.seeds);
    build_axes(grid, zips, named_, axes);
    std::vector<std::string> common;
    for (const SweepSetting& s : sweep.common) common.push_back(s.assignment());
    common.insert(common.end(), command_line.begin(), command_line.end());
    sweep.variants = expand_axes(axes, common);
    check_names(sweep, baseline_pos);
    return sweep;
  }

 private:
  // A config file named in the sweep file, relative to it; "" (after a diagnostic) when it does not exist.
  std::string config_path(const std::string& given, const SourcePos& pos) {
    if (given.empty()) {
      diags_.error(pos, "base must name a config file");
      return "";
    }
    fs::path p = fs::path(given).is_absolute() ? fs::path(given) : fs::path(path_).parent_path() / given;
    std::string path = p.lexically_normal().string();
    if (!fs::is_regular_file(path)) {
      diags_.error(pos, fmt::format("base config '{}' does not exist (looked for {})", given, path));
      return "";
    }
    return path;
  }

  // The sweep's `base` may only be left out when every named variant brings its own.
  void check_every_variant_has_a_base(const Sweep& sweep, bool sweep_has_base) {
    if (sweep_has_base) return;
    bool all_own = !named_.empty();
    for (const AxisChoice& c : named_) all_own = all_own && !c.base.empty();
    if (!all_own)
      diags_.error(SourcePos{path_}, "base = \"config.toml\" is required: the config every variant starts from "
                                     "(relative to the sweep file)");
  }

  std::vector<SweepSetting> read_seeds(const toml::node* node, std::vector<std::int64_t>& seeds) {
    std::vector<SweepSetting> out;
    if (!node) return out;
    const toml::array* a = node->as_array();
    if (!a || a->empty()) {
      diags_.error(pos_of(*node), "seeds must be a non-empty array of integers, e.g. seeds = [0, 1, 2]");
      return out;
    }
    for (std::size_t i = 0; i < a->size(); ++i) {
      const toml::node& e = *a->get(i);
      const auto v = integer_value(e);
      if (!v || *v < 0) {
        diags_.error(pos_of(e), fmt::format("seeds: expected a non-negative integer, got {}",
                                            e.is_integer() ? toml_value_text(e) : toml_type_name(e.type())));
        continue;
      }
      if (std::find(seeds.begin(), seeds.end(), *v) != seeds.end()) {
        diags_.error(pos_of(e), fmt::format("seeds: {} is listed twice", *v));
        continue;
      }
      seeds.push_back(*v);
      out.push_back(SweepSetting{kSeedPath, std::to_string(*v), pos_of(e), NodeAddress{}.key("seeds").index(i),
                                 NodeAddress{}.key("seeds")});
    }
    return out;
  }

  const toml::table* table_or_error(const toml::node* node, const std::string& what, const std::string& example) {
    if (!node) return nullptr;
    if (const auto* t = node->as_table()) return t;
    diags_.error(pos_of(*node), fmt::format("{} must be a table, e.g. {}; got {}", what, example,
                                            toml_type_name(node->type())));
    return nullptr;
  }

  // The settings that assign `value` to `path`: one, or one per key when the value is an override table.
  // `list` is the address of the list `value` is an element of, if it is one.
  void settings_for(const std::string& path, const toml::node& value, const NodeAddress& address,
                    std::vector<SweepSetting>& out, const NodeAddress& list = {}) {
    if (const auto* t = value.as_table()) {
      for (const Leaf& l : leaves_of(*t, address)) settings_for(path + "." + l.path, *l.node, l.address, out, list);
      return;
    }
    std::vector<std::string> parts = split(path, '.');
    if (std::find(parts.begin(), parts.end(), "") != parts.end()) {
      diags_.error(pos_of(value), fmt::format("'{}' has an empty path component", path));
      return;
    }
    out.push_back(SweepSetting{path, toml_value_text(value), pos_of(value), address, list.empty() ? address : list});
  }

  std::vector<SweepSetting> read_common(const toml::node* node) {
    std::vector<SweepSetting> out;
    const toml::table* t = table_or_error(node, "set", "[set] with \"train.epochs\" = 2");
    if (!t) return out;
    for (const Leaf& l : leaves_of(*t, NodeAddress{}.key("set"))) settings_for(l.path, *l.node, l.address, out);
    return out;
  }

  // The keys of one table whose values are lists (grid, or one zip group).
  std::vector<AxisList> read_lists(const toml::table& t, const NodeAddress& address, const std::string& what) {
    std::vector<AxisList> out;
    for (const Leaf& l : leaves_of(t, address)) {
      const toml::array* a = l.node->as_array();
      if (!a || a->empty()) {
        diags_.error(pos_of(*l.node), fmt::format("{}: '{}' must be a non-empty list of values, e.g. [16, 32]; got "
                                                  "{}", what, l.path, a ? "an empty array" : toml_type_name(l.node->type())));
        continue;
      }
      AxisList list{l.path, l.address, pos_of(*l.node), {}};
      for (std::size_t i = 0; i < a->size(); ++i) list.values.push_back(Leaf{l.path, a->get(i), l.address.index(i)});
      out.push_back(std::move(list));
    }
    return out;
  }

  std::vector<AxisList> read_grid(const toml::node* node) {
    const toml::table* t = table_or_error(node, "grid", "[grid] with \"model.bn\" = [false, true]");
    if (!t) return {};
    return read_lists(*t, NodeAddress{}.key("grid"), "grid");
  }

  std::vector<std::vector<AxisList>> read_zips(const toml::node* node) {
    std::vector<std::vector<AxisList>> out;
    if (!node) return out;
    // [[zip]] makes an array of groups; a single [zip] table is one group.
    if (const auto* t = node->as_table()) {
      read_zip_group(*t, NodeAddress{}.key("zip"), out);
      return out;
    }
    const toml::array* a = node->as_array();
    if (!a) {
      diags_.error(pos_of(*node), fmt::format("zip must be one or more [[zip]] tables; got {}",
                                              toml_type_name(node->type())));
      return out;
    }
    for (std::size_t i = 0; i < a->size(); ++i) {
      const toml::node& g = *a->get(i);
      if (const auto* t = g.as_table()) read_zip_group(*t, NodeAddress{}.key("zip").index(i), out);
      else diags_.error(pos_of(g), fmt::format("zip[{}] must be a table of lists", i));
    }
    return out;
  }

  void read_zip_group(const toml::table& t, const NodeAddress& address, std::vector<std::vector<AxisList>>& out) {
    std::vector<AxisList> group = read_lists(t, address, "zip");
    if (group.empty()) {
      if (t.empty()) diags_.error(pos_of(t), "a [[zip]] table needs at least one list");
      return;
    }
    bool equal = true;
    for (const AxisList& l : group) {
      if (l.values.size() == group[0].values.size()) continue;
      diags_.error(l.pos, fmt::format("zip: '{}' has {} values but '{}' has {}; the lists of one [[zip]] table vary "
                                      "together and need equal lengths",
                                      l.path, l.values.size(), group[0].path, group[0].values.size()));
      equal = false;
    }
    if (equal) out.push_back(std::move(group));
  }

  Axis read_named_variants(const toml::node* node) {
    Axis out;
    const toml::table* t = table_or_error(node, "variants", "[variants.naive] with \"model.inception1.block\" = "
                                                            "\"inception_naive\"");
    if (!t) return out;
    for (auto&& [k, v] : *t) {
      std::string name(k.str());
      const auto* overrides = v.as_table();
      if (!overrides) {
        diags_.error(pos_of(v), fmt::format("variants.{} must be a table of overrides ([variants.{}]); got {}", name,
                                            name, toml_type_name(v.type())));
        continue;
      }
      if (name.empty() || name.find_first_of(" \t,=") != std::string::npos) {
        diags_.error(pos_of(k), fmt::format("variant name '{}' must be a non-empty word without spaces, ',' or '='",
                                            name));
        continue;
      }
      AxisChoice c{name, "", {}, pos_of(k)};
      // `base` in a variant is its own base config (comparing two config files); every other key is an override.
      if (const toml::node* base = overrides->get("base")) {
        if (base->is_string()) c.base = config_path(*base->value<std::string>(), pos_of(*base));
        else diags_.error(pos_of(*base), fmt::format("variants.{}.base: expected a config file name, got {}", name,
                                                     toml_type_name(base->type())));
      }
      NodeAddress address = NodeAddress{}.key("variants").key(name);
      for (const Leaf& l : leaves_of(*overrides, address))
        if (l.path != "base") settings_for(l.path, *l.node, l.address, c.settings);
      out.push_back(std::move(c));
    }
    std::stable_sort(out.begin(), out.end(), [](const AxisChoice& a, const AxisChoice& b) { return before(a.pos, b.pos); });
    return out;
  }

  // A path may be on one axis only (which value would a variant get otherwise?); [set] and the command line's
  // --set cannot touch a varied path either, since the axis would silently win. Named variants may override [set].
  void check_paths_used_once(const Sweep& sweep, const std::vector<AxisList>& grid,
                             const std::vector<std::vector<AxisList>>& zips, const std::vector<SweepSetting>& seeds) {
    std::map<std::string, PathUse> varied;
    auto vary = [&](const std::string& path, const std::string& what, const SourcePos& pos) {
      auto [it, inserted] = varied.emplace(path, PathUse{what, pos});
      if (!inserted)
        diags_.error(pos, fmt::format("'{}' is already varied by {} ({}); a path can be on one axis only", path,
                                      it->second.what, it->second.pos.str()));
    };
    if (!seeds.empty()) vary(kSeedPath, "seeds", seeds[0].pos);
    for (const auto& group : zips)
      for (const AxisList& l : group) vary(l.path, "[[zip]]", l.pos);
    for (const AxisList& l : grid) vary(l.path, "grid", l.pos);

    for (const SweepSetting& s : sweep.common) {
      auto it = varied.find(s.path);
      if (it != varied.end())
        diags_.error(s.pos, fmt::format("'{}' is varied by {} ({}); it cannot also be in [set]", s.path,
                                        it->second.what, it->second.pos.str()));
    }
    for (const AxisChoice& c : named_) {
      for (const SweepSetting& s : c.settings) {
        auto it = varied.find(s.path);
        if (it != varied.end())
          diags_.error(s.pos, fmt::format("'{}' is varied by {} ({}); variant '{}' cannot also set it", s.path,
                                          it->second.what, it->second.pos.str(), c.label));
      }
    }
    for (const AxisChoice& c : named_)
      for (const SweepSetting& s : c.settings) varied.emplace(s.path, PathUse{"variants." + c.label, s.pos});
    for (const std::string& a : sweep.command_line) {
      std::string path = a.substr(0, a.find('='));
      auto it = varied.find(path);
      if (it != varied.end())
        diags_.error(SourcePos{"--set " + a}, fmt::format("'{}' is varied by the sweep ({} at {}); --set cannot "
                                                          "override it", path, it->second.what, it->second.pos.str()));
    }
  }

  // Named variants, then zip groups, then grid keys; values named by their shortest unambiguous path tails.
  void build_axes(const std::vector<AxisList>& grid, const std::vector<std::vector<AxisList>>& zips, Axis named,
                  SweepAxes& axes) {
    std::vector<std::string> paths;
    for (const auto& group : zips)
      for (const AxisList& l : group) paths.push_back(l.path);
    for (const AxisList& l : grid) paths.push_back(l.path);
    std::vector<std::string> short_names = short_path_names(paths);
    std::size_t next_name = 0;

    if (!named.empty()) axes.axes.push_back(std::move(named));
    for (const auto& group : zips) {
      Axis axis;
      std::vector<std::string> names(short_names.begin() + static_cast<std::ptrdiff_t>(next_name),
                                     short_names.begin() + static_cast<std::ptrdiff_t>(next_name + group.size()));
      next_name += group.size();
      for (std::size_t i = 0; i < group[0].values.size(); ++i) {
        AxisChoice c;
        std::vector<std::string> parts;
        for (std::size_t k = 0; k < group.size(); ++k) {
          const Leaf& v = group[k].values[i];
          parts.push_back(names[k] + "=" + display_value(*v.node));
          settings_for(group[k].path, *v.node, v.address, c.settings, group[k].address);
        }
        c.label = join(parts, ",");
        c.pos = pos_of(*group[0].values[i].node);
        add_choice(axis, std::move(c), "[[zip]]");
      }
      axes.axes.push_back(std::move(axis));
    }
    for (const AxisList& l : grid) {
      Axis axis;
      const std::string& name = short_names[next_name++];
      for (const Leaf& v : l.values) {
        AxisChoice c;
        c.label = name + "=" + display_value(*v.node);
        c.pos = pos_of(*v.node);
        settings_for(l.path, *v.node, v.address, c.settings, l.address);
        add_choice(axis, std::move(c), "grid");
      }
      axes.axes.push_back(std::move(axis));
    }
  }

  void add_choice(Axis& axis, AxisChoice c, const std::string& what) {
    for (const AxisChoice& other : axis) {
      if (other.label != c.label) continue;
      diags_.error(c.pos, fmt::format("{}: {} is listed twice (first at {})", what, c.label, other.pos.str()));
      return;
    }
    axis.push_back(std::move(c));
  }

  void check_names(Sweep& sweep, const SourcePos& baseline_pos) {
    std::vector<std::string> names;
    for (const SweepVariant& v : sweep.variants) {
      if (std::find(names.begin(), names.end(), v.name) != names.end()) continue;
      names.push_back(v.name);
    }
    // Distinct axis choices can only spell the same name through a named variant called like one ("ratio=0.5").
    std::set<std::pair<std::string, std::int64_t>> seen;
    for (const SweepVariant& v : sweep.variants)
      if (!seen.emplace(v.name, v.seed).second)
        diags_.error(v.pos, fmt::format("two variants are both named '{}'; rename the named variant", v.name));
    if (sweep.baseline.empty()) {
      if (!names.empty()) sweep.baseline = names[0];
    } else if (std::find(names.begin(), names.end(), sweep.baseline) == names.end()) {
      diags_.error(baseline_pos, fmt::format("baseline '{}' is not a variant of this sweep{} (variants: {})",
                                             sweep.baseline, did_you_mean(sweep.baseline, names), join(names, ", ")));
    }
  }

  std::string path_;
  toml::table& root_;
  Diagnostics& diags_;
  Axis named_;  // the named variants, in file order
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::string why = fs::exists(path) ? "cannot be read" : "does not exist";
    throw ConfigError(SourcePos{path}, "sweep file " + why);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Sweep load_sweep(const std::string& path, const std::vector<std::string>& command_line_sets) {
  std::string text = read_text(path);
  toml::table root;
  try {
    root = toml::parse(text, std::string_view(path));
  } catch (const toml::parse_error& e) {
    throw ConfigError(pos_of(e.source()), std::string(e.description()));
  }
  Diagnostics diags;
  Sweep sweep = SweepFileReader(path, root, diags).read(command_line_sets);
  diags.throw_if_any();
  sweep.text = std::move(text);
  return sweep;
}

}  // namespace incept
