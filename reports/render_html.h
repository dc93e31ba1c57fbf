#pragma once
// The report as one self-contained HTML page: the tables of the Markdown report plus charts (accuracy vs params
// and vs MACs with the Pareto front, learning curves, per-layer costs). Chart.js, the chart code and the data
// are all inlined, so the file opens offline and can be mailed or attached as it is.
#include <string>

#include "reports/report_model.h"

namespace incept {

// `chartjs` is the source of Chart.js (see chartjs_asset.h).
std::string render_html(const Report& report, const std::string& chartjs);

// Text for element content and attribute values: & < > " ' escaped.
std::string html_escape(const std::string& text);

// JSON made safe inside <script type="application/json">: every '<', '>' and '&' (which JSON allows only
// inside strings) becomes a \u escape, so no value can close the element.
std::string json_for_script(const std::string& json);

}  // namespace incept
