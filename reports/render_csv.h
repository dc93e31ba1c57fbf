#pragma once
// The report as CSV for spreadsheets and pandas: one row per variant, one column per figure and per differing
// setting. Numbers are raw (accuracies and deltas as fractions, like the run log); an empty cell means unknown.
#include <string>

#include "reports/report_model.h"

namespace incept {

std::string render_csv(const Report& report);

// RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled.
std::string csv_field(const std::string& text);

}  // namespace incept
