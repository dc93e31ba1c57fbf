// `incept runs`, `incept show` and `incept db merge` as a user types them.
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>

#include "cli/cmd_runs.h"
#include "experiments/store/run_store.h"
#include "framework/diagnostics.h"
#include "framework/text_table.h"
#include "tests/store/store_test_support.h"
#include "tests/support/cli_capture.h"

using namespace incept;
using namespace incept::store_test;
using Catch::Matchers::Contains;

namespace {

std::string run_cli(std::vector<std::string> args) {
  return incept::testing::run_cli_capturing(add_run_commands, std::move(args));
}

// Two runs: a finished one with epochs and layers, and one still running.
struct SampleLog {
  TempDir dir;
  std::string path = dir.file("runs.db");
  std::int64_t done = 0, running = 0;

  explicit SampleLog(const std::string& hash_prefix = "") {
    RunStore store = RunStore::open(path);
    done = store.begin_run(sample_run("inception-v1", hash_prefix + "h1", "widths"));
    store.add_layers(done, sample_layers(2));
    store.record_epoch(sample_epoch(done, 1, 0.9512));
    store.record_epoch(sample_epoch(done, 2, 0.9876));
    store.finish_run(done, RunStatus::completed, 61.25);
    running = store.begin_run(sample_run("naive", hash_prefix + "h2"));
  }
};

}  // namespace

TEST_CASE("runs lists every run as a table", "[store][cli]") {
  SampleLog log;
  const std::string out = run_cli({"runs", "--db", log.path});
  CHECK_THAT(out, Contains("inception-v1") && Contains("completed") && Contains("naive") && Contains("running"));
  CHECK_THAT(out, Contains("98.76"));   // best test accuracy, in percent
  CHECK_THAT(out, Contains("2/10"));    // epochs done / planned
  CHECK_THAT(out, Contains("123.5K"));  // params
  CHECK_THAT(out, Contains("61.2"));    // train seconds
  // Runs of a sweep share their base config's name; the variant and seed columns tell them apart.
  CHECK_THAT(out, Contains(" variant ") && Contains(" seed ") && Contains("v-inception-v1") && Contains(" 42 "));

  const std::string sweep = run_cli({"runs", "--db", log.path, "--sweep", "widths"});
  CHECK_THAT(sweep, Contains("inception-v1"));
  CHECK_THAT(sweep, !Contains("naive"));
}

TEST_CASE("runs --json carries every field", "[store][cli]") {
  SampleLog log;
  const std::string out = run_cli({"runs", "--db", log.path, "--json"});
  CHECK(out.front() == '[');
  CHECK_THAT(out, Contains(R"("name":"inception-v1")") && Contains(R"("config_hash":"h1")"));
  CHECK_THAT(out, Contains(R"("config_toml":"[model]\nname = \"naive\"\n")"));
  CHECK_THAT(out, Contains(R"("best_test_acc":null)"));  // the running run has no epoch yet
  CHECK_THAT(out, Contains(R"("epochs_done":2)") && Contains(R"("variant":"v-inception-v1")"));
  for (const char* key : {"status", "device", "torch_version", "sweep", "seed", "params", "macs", "final_test_acc",
                          "train_seconds", "started_at", "finished_at", "heartbeat_at", "error",
                          "checkpoint_path", "epochs_planned", "uid", "experiment_hash", "checkpoint_md5",
                          "process_start", "claimed_at"})
    CHECK_THAT(out, Contains("\"" + std::string(key) + "\":"));
}

TEST_CASE("runs marks runs whose process died as interrupted", "[store][cli]") {
  SampleLog log;
  // Held by a process of another host whose lease expired long ago (this process, its holder, is alive here).
  raw_exec(log.path, "UPDATE runs SET host = 'elsewhere.invalid', heartbeat_at = '2020-01-01T00:00:00Z' WHERE id = " +
                         std::to_string(log.running));
  const std::string out = run_cli({"runs", "--db", log.path});
  CHECK_THAT(out, Contains("interrupted"));
  CHECK(RunStore::open_read_only(log.path).get_run(log.running)->error == "no heartbeat since 2020-01-01T00:00:00Z");
}

TEST_CASE("runs and show refuse a missing database instead of creating one", "[store][cli]") {
  TempDir dir;
  const std::string path = dir.file("typo.db");
  CHECK_THROWS_AS(run_cli({"runs", "--db", path}), UserError);
  CHECK_THROWS_WITH(run_cli({"runs", "--db", path}), Contains("no database at " + path));
  CHECK_THROWS_WITH(run_cli({"show", "1", "--db", path}), Contains("no database at " + path));
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("show prints a run's fields, epochs and layers", "[store][cli]") {
  SampleLog log;
  const std::string out = run_cli({"show", std::to_string(log.done), "--db", log.path});
  CHECK_THAT(out, Contains("run " + std::to_string(log.done) + ": inception-v1"));
  CHECK_THAT(out, Contains("completed") && Contains("123,456") && Contains("98.76"));
  CHECK_THAT(out, Contains("name = \"inception-v1\""));  // the resolved config
  const auto epochs_at = out.find("epochs\n"), layers_at = out.find("layers\n");
  REQUIRE(epochs_at != std::string::npos);
  REQUIRE(layers_at != std::string::npos);
  CHECK(epochs_at < layers_at);
  CHECK_THAT(out.substr(epochs_at, layers_at - epochs_at), Contains("95.12") && Contains("images/s"));
  CHECK_THAT(out.substr(layers_at), Contains("layer1") && Contains("inception_v1") && Contains("[64, 14, 14]"));
}

TEST_CASE("show --json nests epochs and layers", "[store][cli]") {
  SampleLog log;
  const std::string out = run_cli({"show", std::to_string(log.done), "--db", log.path, "--json"});
  CHECK(out.front() == '{');
  CHECK_THAT(out, Contains(R"("epochs":[{"epoch":1,)") && Contains(R"("layers":[{"idx":0,)"));
  CHECK_THAT(out, Contains(R"("test_acc":0.9876)") && Contains(R"("output_shape":"[64, 14, 14]")"));
}

TEST_CASE("show of an unknown run names it and the database", "[store][cli]") {
  SampleLog log;
  CHECK_THROWS_AS(run_cli({"show", "99", "--db", log.path}), UserError);
  CHECK_THROWS_WITH(run_cli({"show", "99", "--db", log.path}), "run 99 not found in " + log.path);
}

TEST_CASE("db merge reports copied and skipped runs", "[store][cli]") {
  SampleLog a("a-"), b("b-");
  const std::string out = a.dir.file("all.db");
  CHECK_THAT(run_cli({"db", "merge", out, a.path, b.path}), Contains("4 runs copied, 0 updated (newer state), 0 unchanged"));
  CHECK_THAT(run_cli({"db", "merge", out, a.path, b.path}), Contains("0 runs copied, 0 updated (newer state), 4 unchanged"));
  CHECK(RunStore::open_read_only(out).list_runs().size() == 4);
  CHECK_THROWS_WITH(run_cli({"db", "merge", out, a.dir.file("missing.db")}),
                    Contains("no database at " + a.dir.file("missing.db")));
}

TEST_CASE("listing tables align by characters, numbers to the right, and no line ends in blanks", "[store][cli]") {
  TextTable t({"variant", "test acc %>", "note"});
  t.add_row({"naive", "98.00 ± 1.00", ""});
  t.add_row({"reduced", "97.50", "Δ small"});
  CHECK(t.str() ==
        "variant    test acc %  note\n"
        "-------  ------------  -------\n"
        "naive    98.00 ± 1.00\n"
        "reduced         97.50  Δ small\n");
}
