#pragma once
// Each variant's network, built again from the config its runs stored, for what the run log does not keep: the
// cost of every branch, and the pictures of the layers that differ from the baseline.
#include "reports/report_model.h"

namespace incept {

// Sets model (or model_note) of every variant, and notes where the rebuilt network's totals differ from the
// recorded ones, so a report never shows today's figures as the trained network's without saying so.
void attach_models(std::vector<VariantSummary>& variants);

// Sets differing_layers of every variant against `report.baseline` (none for the baseline itself, nor for a
// variant or a baseline without a model).
void find_differing_layers(Report& report);

}  // namespace incept
