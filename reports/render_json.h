#pragma once
// The report as JSON: every figure of every variant, its runs with their epochs, its learning curve and layers.
// Accuracies and deltas are fractions, like the run log; unknown figures are null. The HTML report embeds this
// same document as the data of its charts.
#include <string>

#include "reports/report_model.h"

namespace incept {

std::string render_json(const Report& report);

}  // namespace incept
