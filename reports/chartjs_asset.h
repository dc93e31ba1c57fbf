#pragma once
// Chart.js, which the HTML report inlines so that the file opens offline. It comes from npm (reports/web,
// installed by scripts/setup.sh) and is found at run time, so only `--format html` needs it.
#include <string>

namespace incept {

// $INCEPT_CHARTJS if set, else <source dir>/reports/web/node_modules/chart.js/dist/chart.umd.js.
std::string chartjs_path();

// The library's source. Throws UserError naming the path and the fix (bash scripts/setup.sh) when it is
// missing, and refuses a file that could not be inlined in a <script> element.
std::string load_chartjs();

// Inside <script> the HTML parser ends the element at the first "</script" (any case), whatever the JavaScript
// means, and "<!--" switches it into an escaped state; code holding either cannot be inlined as is.
bool can_inline_in_script(const std::string& js);

}  // namespace incept
