#pragma once
// How sweep values are written out: as TOML for `incept train --set PATH=VALUE`, and compactly for variant names.
#include <string>
#include <vector>

#include <toml++/toml.h>

namespace incept {

// The value as TOML text that parses back to the same value ("0.25", "'inception_naive'", "[1, 7]").
std::string toml_value_text(const toml::node& value);

// The value as it reads in a variant name: strings bare, arrays without spaces ("inception_naive", "[1,7]").
std::string display_value(const toml::node& value);

// For each dotted path, its shortest tail of components that no other path ends with, so names stay short but
// unambiguous: {model.defaults.inception_reduced.ratio} -> {ratio}; {model.bn} -> {bn};
// {model.inception2.out, model.inception3.out} -> {inception2.out, inception3.out}. A layer's key keeps the layer's
// name even when alone: {model.inception2.out} -> {inception2.out}.
std::vector<std::string> short_path_names(const std::vector<std::string>& paths);

}  // namespace incept
