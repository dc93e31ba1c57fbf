#pragma once
// reports/web/report.js (the HTML report's chart setup), compiled in by reports/CMakeLists.txt so the binary
// needs nothing but Chart.js at run time.
namespace incept {

extern const char* const kReportScript;

}  // namespace incept
