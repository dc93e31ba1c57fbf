#include "reports/chartjs_asset.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "framework/diagnostics.h"

#ifndef INCEPT_SOURCE_DIR
#error "INCEPT_SOURCE_DIR must name the source tree (set by reports/CMakeLists.txt)"
#endif

namespace incept {

bool can_inline_in_script(const std::string& js) {
  std::string lower(js.size(), ' ');
  std::transform(js.begin(), js.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower.find("</script") == std::string::npos && lower.find("<!--") == std::string::npos;
}

std::string chartjs_path() {
  if (const char* env = std::getenv("INCEPT_CHARTJS"); env && *env) return env;
  return std::string(INCEPT_SOURCE_DIR) + "/reports/web/node_modules/chart.js/dist/chart.umd.js";
}

std::string load_chartjs() {
  const std::string path = chartjs_path();
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || text.str().empty())
    throw UserError(fmt::format(
        "the HTML report needs Chart.js, which is not at {}; run `bash scripts/setup.sh` to install it "
        "(or point INCEPT_CHARTJS at chart.umd.js); the md, csv and json formats work without it",
        path));
  if (!can_inline_in_script(text.str()))
    throw UserError(fmt::format("{} contains \"</script\" or \"<!--\" and cannot be inlined into an HTML page", path));
  return text.str();
}

}  // namespace incept
