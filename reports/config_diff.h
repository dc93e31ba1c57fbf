#pragma once
// What distinguishes the variants of a sweep: their resolved configs flattened to dotted paths and compared,
// so a report shows only the settings that differ (e.g. model.inception1.block) instead of whole files.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace incept {

// Dotted path -> value as a user would write it (strings bare, everything else as TOML: 0.25, [1, 28, 28]).
// Paths are those `--set` and sweep files take: layers and aux heads by name (model.inception1.out, not
// model.layers.inception1.out), other arrays of named tables by name under their own path. A per-layer override
// table [model.inception1] is folded into the layer it overrides, so an override and an edit of the layer itself
// compare equal.
using FlatConfig = std::map<std::string, std::string>;

// Keys that never distinguish variants: labels, the seed (which varies within a variant by design), and where
// and with how many threads a run was executed.
bool is_ignored_setting(const std::string& dotted_path);

// Parses stored config text; throws UserError naming `origin` if it is not TOML.
FlatConfig flatten_config(const std::string& toml_text, const std::string& origin);

struct SettingsDiff {
  std::vector<std::string> keys;                           // sorted; only keys whose values differ
  std::vector<std::vector<std::optional<std::string>>> values;  // [config][key]; nullopt = not set there
};

// Compares every config with every other; with fewer than two configs nothing differs.
SettingsDiff differing_settings(const std::vector<FlatConfig>& configs);

// Settings that change together: keys whose values are equal in every config (inception1, 2 and 3 switched to
// the naive block in the same variants) form one group, which tables show as one column.
struct SettingGroup {
  std::vector<std::size_t> keys;  // indices into SettingsDiff::keys, ascending
  std::string title;              // joint_path() of those keys
};
// In the order of each group's first key.
std::vector<SettingGroup> group_settings(const SettingsDiff& diff);

// One name for several dotted paths: those that differ in one component only share the rest, and that
// component's common start is written once ({model.inception1.block, model.inception2.block} ->
// "model.inception1/2.block"; {a.x, a.y} -> "a.x/y"); otherwise the paths are listed ("model.bn, train.lr").
std::string joint_path(const std::vector<std::string>& paths);

}  // namespace incept
