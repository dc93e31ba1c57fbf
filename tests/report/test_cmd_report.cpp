// `incept report` as a user types it.
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>

#include "cli/cmd_report.h"
#include "framework/diagnostics.h"
#include "tests/report/report_fixture.h"
#include "tests/support/cli_capture.h"

using namespace incept;
using namespace incept::report_test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

std::string run_cli(std::vector<std::string> args) {
  return incept::testing::run_cli_capturing(add_report_commands, std::move(args));
}

struct BlocksLog {
  ScratchDir dir;
  std::string path = dir.file("runs.db");
  BlocksLog() { write_blocks_sweep(path); }
};

}  // namespace

TEST_CASE("report prints markdown for every run by default", "[report][cli]") {
  BlocksLog log;
  const std::string out = run_cli({"report", "--db", log.path});
  CHECK_THAT(out, StartsWith("# incept report: all runs\n"));
  CHECK_THAT(out, Contains("| naive (baseline) |"));
}

TEST_CASE("report --runs selects ids and ranges", "[report][cli]") {
  BlocksLog log;
  const std::string out = run_cli({"report", "--db", log.path, "--runs", "1,3-4", "--format", "csv"});
  CHECK_THAT(out, Contains("\nnaive,blocks,true,"));
  CHECK_THAT(out, Contains(",1 3,"));
  CHECK_THAT(out, Contains("\nreduced,blocks,false,"));
  CHECK_THAT(out, Contains(",4,"));
  CHECK_THAT(out, !Contains("ratio=0.25"));
}

TEST_CASE("report --runs with a bad spec says what is wrong", "[report][cli]") {
  BlocksLog log;
  CHECK_THROWS_AS(run_cli({"report", "--db", log.path, "--runs", "1,x"}), UserError);
  CHECK_THROWS_WITH(run_cli({"report", "--db", log.path, "--runs", "1,x"}), Contains("--runs '1,x': 'x'"));
}

TEST_CASE("report names a missing database", "[report][cli]") {
  ScratchDir dir;
  const std::string missing = dir.file("missing.db");
  CHECK_THROWS_AS(run_cli({"report", "--db", missing}), UserError);
  CHECK_THROWS_WITH(run_cli({"report", "--db", missing}), Contains("no database at " + missing));
}

TEST_CASE("report rejects unknown formats and --sweep with --runs", "[report][cli]") {
  BlocksLog log;
  CHECK_THROWS_AS(run_cli({"report", "--db", log.path, "--format", "pdf"}), CLI::ValidationError);
  CHECK_THROWS_AS(run_cli({"report", "--db", log.path, "--sweep", "blocks", "--runs", "1"}), CLI::ExcludesError);
}

TEST_CASE("report -o writes the file and says so", "[report][cli]") {
  BlocksLog log;
  const std::string json = log.dir.file("report.json");
  const std::string out = run_cli({"report", "--db", log.path, "--sweep", "blocks", "--format", "json", "-o", json,
                                   "--baseline", "reduced"});
  CHECK(out == "wrote " + json + " (3 variants, 8 runs)\n");
  CHECK_THAT(read_text(json), Contains("\"baseline\":\"reduced\""));

  const std::string html = log.dir.file("page.html");
  run_cli({"report", "--db", log.path, "--format", "html", "-o", html});
  CHECK_THAT(read_text(html), StartsWith("<!DOCTYPE html>"));
}

TEST_CASE("report -o into a missing directory is an error naming the file", "[report][cli]") {
  BlocksLog log;
  const std::string bad = log.dir.file("no/such/dir/report.md");
  CHECK_THROWS_WITH(run_cli({"report", "--db", log.path, "-o", bad}), Contains("cannot write " + bad));
}
