#pragma once
// What distinguishes the variants of a sweep: their resolved configs flattened to dotted paths and compared,
// so a report shows only the settings that differ (e.g. model.layers.inception1.block) instead of whole files.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace incept {

// Dotted path -> value as a user would write it (strings bare, everything else as TOML: 0.25, [1, 28, 28]).
// Elements of an array of named tables (model.layers, model.aux) are addressed by name
// (model.layers.inception1.out), and a per-layer override table [model.inception1] is folded into the layer it
// overrides, so an override and an edit of the layer itself compare equal.
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

}  // namespace incept
