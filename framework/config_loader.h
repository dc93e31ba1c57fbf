#pragma once
// Loading a config file into one TOML table: syntax checking, `extends` chains, and `--set` overrides.
#include <string>
#include <vector>

#include <toml++/toml.h>

namespace incept {

// Loads `path`, follows `extends = "other.toml"` (relative to the extending file; tables merged deeply, the
// extending file wins), then applies each `KEY=VALUE` override in order. Throws ConfigError with every problem
// found (syntax error, missing or cyclic extends, malformed override).
toml::table load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// Applies one `dotted.path=VALUE` assignment; layers are addressed by name (`model.<layer>.<key>`), which the model
// resolver merges into the layer of that name.
void apply_override(toml::table& root, const std::string& assignment);

// The resolved config as canonical TOML text, and a stable hash of it (hex), used to recognise the same experiment.
std::string to_toml_text(const toml::table& root);
std::string config_hash(const toml::table& root);

}  // namespace incept
