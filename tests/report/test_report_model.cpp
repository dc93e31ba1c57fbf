// Grouping runs into variants and the figures computed for each: accuracy over seeds, deltas, speed, statuses,
// curves and Pareto fronts.
#include <cmath>

#include <catch2/catch.hpp>

#include "framework/diagnostics.h"
#include "reports/report_request.h"
#include "tests/report/report_fixture.h"

using namespace incept;
using namespace incept::report_test;
using Catch::Matchers::Contains;

namespace {

Report blocks_report(const std::string& baseline = "") {
  static ScratchDir dir;  // one log for every test of this file: the fixture never changes
  static const std::string path = [] {
    const std::string p = dir.file("runs.db");
    write_blocks_sweep(p);
    return p;
  }();
  ReportRequest request;
  request.db = path;
  request.sweep = "blocks";
  request.baseline = baseline;
  return load_report(request);
}

const VariantSummary& variant(const Report& r, const std::string& label) {
  for (const VariantSummary& v : r.variants)
    if (v.label == label) return v;
  FAIL("no variant " << label);
  return r.variants.front();  // not reached: FAIL throws
}

}  // namespace

TEST_CASE("runs are grouped into variants ordered by their lowest run id", "[report][model]") {
  const Report r = blocks_report();
  REQUIRE(r.variants.size() == 3);
  CHECK(r.variants[0].label == "naive");
  CHECK(r.variants[1].label == "reduced");
  CHECK(r.variants[2].label == "ratio=0.25");
  CHECK(r.variants[0].runs.size() == 3);
  CHECK(r.variants[1].runs.size() == 3);
  CHECK(r.variants[2].runs.size() == 2);
  CHECK(r.run_count() == 8);
  CHECK(r.scope == "sweep blocks");
}

TEST_CASE("accuracy is the mean and sample std of the completed runs' final accuracy, with n", "[report][model]") {
  const Report r = blocks_report();
  const MeanStd naive = variant(r, "naive").test_acc;
  CHECK(naive.n == 3);
  CHECK(naive.mean == Approx(0.98));
  CHECK(naive.std == Approx(0.01));  // sample std of 0.98, 0.99, 0.97
  CHECK(naive.min == Approx(0.97));
  CHECK(naive.max == Approx(0.99));

  const MeanStd reduced = variant(r, "reduced").test_acc;  // the diverged seed does not count
  CHECK(reduced.n == 2);
  CHECK(reduced.mean == Approx(0.98));
  CHECK(reduced.std == Approx(std::sqrt(0.00005)));
  CHECK(reduced.min == Approx(0.975));  // nor does its accuracy widen the range
  CHECK(reduced.max == Approx(0.985));

  const MeanStd single = variant(r, "ratio=0.25").test_acc;  // one seed: no spread to speak of
  CHECK(single.n == 1);
  CHECK(single.mean == Approx(0.96));
  CHECK(std::isnan(single.std));
  CHECK(single.min == single.mean);
  CHECK(single.max == single.mean);
}

TEST_CASE("deltas are taken against the first variant unless --baseline names another", "[report][model]") {
  const Report first = blocks_report();
  CHECK(first.baseline == 0);
  CHECK(*variant(first, "naive").delta_vs_baseline == Approx(0.0).margin(1e-12));
  CHECK(*variant(first, "ratio=0.25").delta_vs_baseline == Approx(-0.02));

  const Report chosen = blocks_report("ratio=0.25");
  CHECK(chosen.variants[chosen.baseline].label == "ratio=0.25");
  CHECK(*variant(chosen, "naive").delta_vs_baseline == Approx(0.02));
  CHECK(*variant(chosen, "reduced").delta_vs_baseline == Approx(0.02));
}

TEST_CASE("an unknown baseline is an error that lists the variants", "[report][model]") {
  REQUIRE_THROWS_AS(blocks_report("reduce"), UserError);
  REQUIRE_THROWS_WITH(blocks_report("reduce"), Contains("did you mean 'reduced'") && Contains("naive, reduced"));
}

TEST_CASE("diverged and failed runs are counted by status, not hidden", "[report][model]") {
  const Report r = blocks_report();
  const std::map<std::string, int> naive{{"completed", 3}};
  const std::map<std::string, int> reduced{{"completed", 2}, {"diverged", 1}};
  const std::map<std::string, int> ratio{{"completed", 1}, {"failed", 1}};
  CHECK(variant(r, "naive").status_counts == naive);
  CHECK(variant(r, "reduced").status_counts == reduced);
  CHECK(variant(r, "ratio=0.25").status_counts == ratio);
}

TEST_CASE("only the settings that differ between variants are reported", "[report][model]") {
  const Report r = blocks_report();
  // name, description and train.seed differ too, but never distinguish variants.
  const std::vector<std::string> keys = {"model.inception1.block", "model.inception1.ratio"};
  CHECK(r.setting_keys == keys);
  using Setting = std::optional<std::string>;
  CHECK(variant(r, "naive").settings == std::vector<Setting>{"inception_naive", std::nullopt});
  CHECK(variant(r, "reduced").settings == std::vector<Setting>{"inception_reduced", std::nullopt});
  CHECK(variant(r, "ratio=0.25").settings == std::vector<Setting>{"inception_reduced", "0.25"});
}

TEST_CASE("costs come from the runs, speed from their epochs", "[report][model]") {
  const Report r = blocks_report();
  const VariantSummary& naive = variant(r, "naive");
  CHECK(naive.params == 80 + 2264 + 250890);
  CHECK(naive.macs == 56448 + 1756160 + 250880);
  CHECK(naive.seconds_per_epoch == Approx(4.0));
  CHECK(naive.images_per_s == Approx(15000));
  REQUIRE(naive.layers.size() == 3);
  CHECK(naive.layers[1].block == "inception_naive");
}

TEST_CASE("learning curves average the completed runs per epoch", "[report][model]") {
  const Report r = blocks_report();
  const VariantSummary& reduced = variant(r, "reduced");
  REQUIRE(reduced.curve.size() == 2);
  CHECK(reduced.curve[0].epoch == 1);
  CHECK(reduced.curve[0].test_acc == Approx(0.95));  // the diverged run's 0.50 is left out
  CHECK(reduced.curve[0].n == 2);
  CHECK(reduced.curve[1].test_acc == Approx(0.98));
}

TEST_CASE("the Pareto front keeps the variants nothing cheaper beats", "[report][model]") {
  const Report r = blocks_report();
  // naive: most params, 0.98; reduced: fewer, 0.98 (dominates naive); ratio=0.25: fewest, 0.96.
  CHECK_FALSE(variant(r, "naive").pareto_params);
  CHECK(variant(r, "reduced").pareto_params);
  CHECK(variant(r, "ratio=0.25").pareto_params);
  CHECK_FALSE(variant(r, "naive").pareto_macs);
  CHECK(variant(r, "reduced").pareto_macs);
}

TEST_CASE("runs trained alone are labelled by name, and repeated seeds pool", "[report][model]") {
  ScratchDir dir;
  const std::string path = dir.file("runs.db");
  {
    RunStore store = RunStore::open(path);
    PlannedRun alone{"reduced", 1, "completed", {0.9, 0.95}, ""};
    record_run(store, alone);
    alone.seed = 2;
    alone.test_accs = {0.9, 0.97};
    record_run(store, alone);
    record_run(store, {"naive", 1, "completed", {0.9, 0.99}});  // a sweep run beside them
  }
  ReportRequest request;
  request.db = path;
  const Report r = load_report(request);
  REQUIRE(r.variants.size() == 2);
  CHECK(r.scope == "all runs");
  CHECK(r.variants[0].label == "mnist-reduced");
  CHECK(r.variants[0].test_acc.n == 2);
  CHECK(r.variants[0].test_acc.mean == Approx(0.96));
  CHECK(r.variants[1].label == "blocks/naive");  // mixed sources: the sweep disambiguates
}

TEST_CASE("each variant's network is built again from its stored config, against the baseline's",
          "[report][model]") {
  const Report r = blocks_report();
  for (const VariantSummary& v : r.variants) {
    INFO(v.label);
    REQUIRE(v.model);
    CHECK(v.model_note.empty());  // the fixture recorded what the configs build to
    CHECK(v.model->cost().params == v.params);
  }
  CHECK(variant(r, "naive").differing_layers.empty());  // the baseline
  CHECK(variant(r, "reduced").differing_layers == std::vector<std::string>{"inception1"});
  CHECK(variant(r, "ratio=0.25").differing_layers == std::vector<std::string>{"inception1"});
}

TEST_CASE("a stored config that no longer builds, or builds to other figures, is said so, not drawn silently",
          "[report][model]") {
  ScratchDir dir;
  const std::string path = dir.file("runs.db");
  {
    RunStore store = RunStore::open(path);
    record_run(store, {"reduced", 1, "completed", {0.97}, "", "mnist-reduced"});
    // A run whose block has been renamed since it trained.
    RunRecord renamed = *store.get_run(record_run(store, {"naive", 1, "completed", {0.96}, "", "mnist-old"}));
    renamed.name = "mnist-renamed";
    const std::string old_block = "block = \"inception_naive\"";
    renamed.config_toml.replace(renamed.config_toml.find(old_block), old_block.size(), "block = \"inception_naive_v0\"");
    store.finish_run(store.begin_run(renamed), RunStatus::completed, 1.0);
    // A run that recorded other figures than its config builds to today (a block's definition changed since).
    RunRecord changed = *store.get_run(record_run(store, {"naive", 2, "completed", {0.96}, "", "mnist-changed"}));
    changed.params += 100;
    store.finish_run(store.begin_run(changed), RunStatus::completed, 1.0);
  }
  ReportRequest request;
  request.db = path;
  const Report r = load_report(request);
  const VariantSummary& renamed = variant(r, "mnist-renamed");
  CHECK_FALSE(renamed.model);
  CHECK_THAT(renamed.model_note, Contains("does not build with this incept") && Contains("inception_naive_v0"));
  CHECK(renamed.differing_layers.empty());
  const VariantSummary& changed = variant(r, "mnist-changed");
  REQUIRE(changed.model);
  CHECK_THAT(changed.model_note, Contains("builds to 253,234 params") && Contains("against the 253,334"));
  // Both reach the reader.
  const std::string md = render_report(r, "md");
  CHECK_THAT(md, Contains(renamed.model_note));
  CHECK_THAT(md, Contains(changed.model_note));
  const std::string html = render_report(r, "html");
  CHECK_THAT(html, Contains("does not build with this incept"));
}
