#include "cli/cmd_report.h"
#include "cli/option_checks.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "framework/diagnostics.h"
#include "platform/write_file.h"
#include "reports/report_request.h"

namespace incept {

namespace {

struct ReportOptions {
  ReportRequest request;
  std::string format = "md";
  std::string output;  // "" = stdout, except for html
};

// A page full of inlined JavaScript is no use in a terminal, so HTML always goes to a file.
constexpr const char* kDefaultHtmlOutput = "report.html";

void run_report(const ReportOptions& o) {
  const Report report = load_report(o.request);
  const std::string text = render_report(report, o.format);
  const std::string output = o.output.empty() && o.format == "html" ? kDefaultHtmlOutput : o.output;
  if (output.empty() || output == "-") {
    std::cout << text;
    return;
  }
  write_file_atomically(output, text);
  std::cout << fmt::format("wrote {} ({} variant{}, {} run{})\n", output, report.variants.size(),
                           report.variants.size() == 1 ? "" : "s", report.run_count(),
                           report.run_count() == 1 ? "" : "s");
}

}  // namespace

void add_report_commands(CLI::App& app) {
  auto opts = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "report", "Compare variants (mean ± std over seeds, deltas, costs, curves) as md, html, csv or json");
  cmd->add_option("--db", opts->request.db, "SQLite experiment log")->capture_default_str()->check(non_empty());
  CLI::Option* sweep = cmd->add_option("--sweep", opts->request.sweep, "only the runs of this sweep");
  CLI::Option* runs = cmd->add_option("--runs", opts->request.runs, "only these run ids, e.g. 1,2,5-8");
  sweep->excludes(runs);
  runs->excludes(sweep);
  cmd->add_option("--format", opts->format, "md (default), html, csv or json")
      ->check(CLI::IsMember(report_formats()))
      ->capture_default_str();
  cmd->add_option("-o,--output", opts->output,
                  "write to this file instead of stdout (html: default report.html)");
  cmd->add_option("--baseline", opts->request.baseline,
                  "variant the deltas are taken against (default: the one with the lowest run id)");
  cmd->callback([opts] { run_report(*opts); });
}

}  // namespace incept
