#pragma once
// The report as Markdown: readable in a terminal and pasteable into a pull request.
#include <string>

#include "reports/report_model.h"

namespace incept {

std::string render_markdown(const Report& report);

}  // namespace incept
