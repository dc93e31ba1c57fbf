// --runs specs and what a selection may not silently do: come back empty.
#include <catch2/catch.hpp>

#include "framework/diagnostics.h"
#include "reports/report_source.h"
#include "reports/run_selection.h"
#include "tests/report/report_fixture.h"

using namespace incept;
using namespace incept::report_test;
using Catch::Matchers::Contains;

TEST_CASE("run specs take ids and ranges", "[report][selection]") {
  CHECK(parse_run_ids("1,3-4") == std::vector<std::int64_t>{1, 3, 4});
  CHECK(parse_run_ids("5") == std::vector<std::int64_t>{5});
  CHECK(parse_run_ids(" 2 , 1-2 ,7-7") == std::vector<std::int64_t>{1, 2, 7});  // sorted, no duplicates
}

TEST_CASE("a bad --runs spec is an error quoting the bad part", "[report][selection]") {
  CHECK_THROWS_AS(parse_run_ids("1,x"), UserError);
  CHECK_THROWS_WITH(parse_run_ids("1,x"), Contains("'x' is not a run id") && Contains("1,3-4"));
  CHECK_THROWS_WITH(parse_run_ids("4-2"), Contains("'4-2' is a range that runs backwards"));
  CHECK_THROWS_WITH(parse_run_ids("1-"), Contains("'1-' is not a range"));
  CHECK_THROWS_WITH(parse_run_ids("1,,2"), Contains("'' is not a run id"));
  CHECK_THROWS_WITH(parse_run_ids("0"), Contains("'0' is not a run id"));
  CHECK_THROWS_WITH(parse_run_ids("-3"), Contains("not a range"));
  CHECK_THROWS_WITH(parse_run_ids(""), Contains("is empty"));
  CHECK_THROWS_WITH(parse_run_ids("1-99999999999"), Contains("too long"));
}

TEST_CASE("selections name missing runs and unknown sweeps", "[report][selection]") {
  ScratchDir dir;
  const std::string path = dir.file("runs.db");
  write_blocks_sweep(path);
  const RunStore store = open_report_store(path);

  CHECK(select_runs(store, {}).size() == 8);
  CHECK(select_runs(store, {"blocks", {}}).size() == 8);
  const std::vector<RunRecord> some = select_runs(store, {"", {1, 3, 4}});
  REQUIRE(some.size() == 3);
  CHECK(some[2].id == 4);

  CHECK_THROWS_WITH(select_runs(store, {"", {2, 9, 10}}), Contains("runs 9, 10 not in " + path));
  CHECK_THROWS_WITH(select_runs(store, {"block", {}}), Contains("no sweep 'block'") && Contains("did you mean 'blocks'"));
}

TEST_CASE("a missing database is an error naming the path", "[report][selection]") {
  ScratchDir dir;
  const std::string path = dir.file("nope.db");
  CHECK_THROWS_AS(open_report_store(path), UserError);
  CHECK_THROWS_WITH(open_report_store(path), Contains("no database at " + path));
  CHECK_FALSE(std::filesystem::exists(path));  // and nothing was created
}

TEST_CASE("an empty log is an error, not an empty report", "[report][selection]") {
  ScratchDir dir;
  const std::string path = dir.file("runs.db");
  RunStore::open(path);
  CHECK_THROWS_WITH(select_runs(open_report_store(path), {}), Contains("no runs in " + path));
}
