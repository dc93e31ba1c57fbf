// Multiplying axes out into the ordered list of variants.
#include <cstdlib>

#include "experiments/sweep/sweep_axes.h"
#include "framework/text.h"

namespace incept {

std::vector<SweepVariant> expand_axes(const SweepAxes& axes, const std::vector<std::string>& common) {
  std::vector<SweepVariant> out;
  for (const Axis& a : axes.axes)
    if (a.empty()) return out;
  // An odometer over the axes: the last axis turns fastest.
  std::vector<std::size_t> at(axes.axes.size(), 0);
  for (;;) {
    SweepVariant v;
    std::vector<std::string> labels;
    v.pos = axes.base_pos;
    v.base = axes.base;
    for (std::size_t i = 0; i < axes.axes.size(); ++i) {
      const AxisChoice& c = axes.axes[i][at[i]];
      if (!c.label.empty()) labels.push_back(c.label);
      if (i == 0) v.pos = c.pos;
      if (!c.base.empty()) v.base = c.base;
      v.settings.insert(v.settings.end(), c.settings.begin(), c.settings.end());
    }
    v.name = labels.empty() ? "base" : join(labels, ",");
    v.overrides = common;
    for (const auto& s : v.settings) v.overrides.push_back(s.assignment());

    if (axes.seeds.empty()) {
      v.index = out.size();
      out.push_back(v);
    } else {
      for (const SweepSetting& seed : axes.seeds) {
        SweepVariant seeded = v;
        seeded.seed = std::strtoll(seed.value.c_str(), nullptr, 10);
        seeded.settings.push_back(seed);
        seeded.overrides.push_back(seed.assignment());
        seeded.index = out.size();
        out.push_back(std::move(seeded));
      }
    }

    std::size_t i = axes.axes.size();
    while (i > 0 && ++at[i - 1] == axes.axes[i - 1].size()) at[--i] = 0;
    if (i == 0) return out;
  }
}

}  // namespace incept
