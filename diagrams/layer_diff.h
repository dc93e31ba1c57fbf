#pragma once
// Which layers two networks configure differently: what a comparison draws, rather than every layer.
#include <string>
#include <vector>

#include "framework/model_spec.h"

namespace incept {

// The names of the layers and aux heads `other` configures differently from `base`: another block, other
// parameters (defaults included: model.bn or [model.defaults] count), another attachment point, or present on
// one side only. A layer whose shapes change only because an earlier layer changed is not listed: it is drawn
// as it is configured, the same. Main-path layers in `base`'s order, then those only `other` has, then aux heads.
std::vector<std::string> differing_layers(const ModelSpec& base, const ModelSpec& other);

// Layers that differ between the first network and any of the others, in the first's order.
std::vector<std::string> differing_layers(const std::vector<const ModelSpec*>& models);

}  // namespace incept
