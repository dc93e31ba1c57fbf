#pragma once
// Internal to the sweep parser: a sweep file read into axes, before they are multiplied out into variants.
#include <string>
#include <vector>

#include "experiments/sweep/sweep.h"

namespace incept {

// One choice along an axis: its part of the variant name and the settings it applies.
struct AxisChoice {
  std::string label;  // "naive", "ratio=0.25", "inception2.out=32,inception3.out=32"
  std::string base;   // a named variant's own base config, or ""
  std::vector<SweepSetting> settings;
  SourcePos pos;
};

using Axis = std::vector<AxisChoice>;

struct SweepAxes {
  std::vector<Axis> axes;           // named variants, then zip groups, then grid keys, each in file order
  std::vector<SweepSetting> seeds;  // train.seed, one per seed; empty when the file has no `seeds`
  std::string base;                 // the sweep's base config
  SourcePos base_pos;               // where variants with no axis at all are "defined"
};

// The cartesian product, first axis slowest and seeds fastest; `common` starts every variant's overrides.
std::vector<SweepVariant> expand_axes(const SweepAxes& axes, const std::vector<std::string>& common);

}  // namespace incept
