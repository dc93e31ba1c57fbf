#pragma once
// Ablation sweeps. A sweep file names a base config and what to vary: a cartesian `grid` over config paths, `zip`
// groups whose lists vary together, named `variants` (override tables) and `seeds`. It expands into an ordered list
// of variants, each built exactly as `incept train BASE --set ...` builds it, so a sweep's runs are ordinary runs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/config/experiment_identity.h"
#include "experiments/sweep/node_address.h"
#include "framework/diagnostics.h"

namespace incept {

// One value the sweep file assigns to a config path.
struct SweepSetting {
  std::string path;     // dotted config path, layers by name: "model.inception1.block"
  std::string value;    // the value as TOML text: "'inception_naive'", "0.25", "[ 1, 7 ]"
  SourcePos pos;        // where the value is written in the sweep file
  NodeAddress address;  // where it sits in the sweep file, to take it again (with its position) from a fresh parse
  // The node whose position stands for the path's keys: the value itself, or the list it is an element of (so an
  // unknown key in a grid path is one error at the list, not one per value).
  NodeAddress key_address;
  std::string assignment() const { return path + "=" + value; }  // as `incept train --set` takes it
};

struct SweepVariant {
  // What differs from the base: "naive", "ratio=0.25", "inception2.out=32,inception3.out=32"; "base" when only
  // the seed varies. The seed is not part of the name (runs.seed holds it).
  std::string name;
  std::int64_t seed = 0;  // from `seeds`; without them the base's train.seed, filled in by resolve_variants
  std::string base;       // its base config: the sweep's, or its named variant's own `base`
  // Every `--set` that builds the variant from the base, in order: [set], the command line's --set, then the
  // variant's own settings (train.seed last).
  std::vector<std::string> overrides;
  std::vector<SweepSetting> settings;  // the variant's own settings, as written in the sweep file
  SourcePos pos;          // where the variant is defined; its errors found elsewhere are reported here
  std::size_t index = 0;  // position in the full ordered list (seeds included); decides the shard
};

struct Sweep {
  std::string path;  // the sweep file
  std::string name;  // `name`, or the file's stem; recorded as runs.sweep
  std::string description;
  // The base config (given relative to the sweep file, stored relative to the working directory); "" when every
  // named variant has its own `base`.
  std::string base;
  SourcePos base_pos;
  std::string baseline;                    // the variant reports compare against; default: the first
  std::vector<std::int64_t> seeds;         // empty: one run per variant, with the base's seed
  std::vector<SweepSetting> common;        // [set]: every variant
  std::vector<std::string> command_line;   // `incept sweep --set`: every variant, after [set]
  std::vector<SweepVariant> variants;      // named variants × zip groups × grid keys (first slowest) × seeds
  std::string text;                        // the sweep file's text
};

// Reads, validates and expands a sweep file; throws ConfigError listing every problem in it (exit status 2).
// `command_line_sets` are `KEY=VALUE` overrides for every variant.
Sweep load_sweep(const std::string& path, const std::vector<std::string>& command_line_sets = {});

// A variant built and checked: what a run of it will be.
struct ResolvedVariant {
  SweepVariant variant;
  std::string config_name;  // the config's `name` (runs.name)
  // Identifies the experiment in the run log (experiment_identity.h): what the child must record.
  std::string hash;
  // The resolved config, with its name: the file a child trains, so it records exactly what was planned.
  std::string config_toml;
  std::int64_t params = 0;  // main path and aux heads, as the run log records them
  std::int64_t macs = 0;    // main path
  // Which other variants compute the same first epochs (experiment_identity.h): prefix reuse groups them.
  EpochPrefix prefix;
  // Which other variants can train with it as one packed network (experiment_identity.h packing_key); "" when it
  // cannot be packed (train.amp).
  std::string pack_key;
  // Training images per epoch as far as the config tells without reading the data (data.train_limit, the
  // synthetic size, MNIST's 60,000); 0 when unknown. With `macs` it sizes the work for --jobs auto.
  std::int64_t train_images = 0;
};

// Builds each variant from the base (a sweep with a broken variant is caught before anything trains), including
// what can be known of its data without loading it (a model whose input or class count does not fit the dataset).
// Throws ConfigError with every problem of every variant, each pointing at the sweep file and naming the variant.
std::vector<ResolvedVariant> resolve_variants(const Sweep& sweep, const std::vector<SweepVariant>& variants);

}  // namespace incept
