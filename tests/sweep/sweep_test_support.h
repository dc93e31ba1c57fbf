#pragma once
// Shared by the sweep tests: a tiny base config that trains in a fraction of a second, and sweep files beside it.
#include <string>

#include "experiments/sweep/sweep.h"
#include "tests/support/temp_files.h"

namespace incept::sweep_test {

// Input 1x8x8, 64 synthetic training images, one epoch: each training takes well under a second.
inline const char* kTinyConfig = R"(name = "tiny"
[data]
dataset = "synthetic"
synthetic_train = 64
synthetic_test = 32
synthetic_shape = [1, 8, 8]

[model]
input = [1, 8, 8]

[[model.layers]]
name = "stem"
block = "conv"
out = 4
kernel = 3
padding = 1

[[model.layers]]
name = "mix"
block = "inception_reduced"
out = 4

[[model.layers]]
name = "pool"
block = "global_avgpool"

[[model.layers]]
name = "head"
block = "linear"
out = 10

[train]
epochs = 1
batch_size = 32
lr = 0.1
threads = 1
)";

// Writes tiny.toml and `sweep_text` as sweep.toml into `dir`; returns the sweep file's path.
inline std::string write_sweep(const testing::TempDir& dir, const std::string& sweep_text,
                               const std::string& name = "sweep.toml") {
  dir.write("tiny.toml", kTinyConfig);
  return dir.write(name, sweep_text);
}

// The ConfigError text load_sweep (and resolve_variants, when `resolve`) reports for `sweep_text`, "" if none.
inline std::string sweep_errors(const testing::TempDir& dir, const std::string& sweep_text, bool resolve = false,
                                const std::vector<std::string>& sets = {}) {
  try {
    Sweep s = load_sweep(write_sweep(dir, sweep_text), sets);
    if (resolve) resolve_variants(s, s.variants);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace incept::sweep_test
