// The Markdown, CSV and JSON renderings of a sweep report.
#include <catch2/catch.hpp>

#include "reports/render_csv.h"
#include "reports/render_json.h"
#include "reports/render_markdown.h"
#include "reports/report_request.h"
#include "tests/report/report_fixture.h"

using namespace incept;
using namespace incept::report_test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

Report blocks_report() {
  static ScratchDir dir;
  static const std::string path = [] {
    const std::string p = dir.file("runs.db");
    write_blocks_sweep(p);
    return p;
  }();
  ReportRequest request;
  request.db = path;
  request.sweep = "blocks";
  return load_report(request);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::string line;
  for (char c : text) {
    if (c == '\n') {
      out.push_back(line);
      line.clear();
    } else {
      line += c;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("markdown shows one row per variant with its differing settings and figures", "[report][md]") {
  const std::string md = render_markdown(blocks_report());
  CHECK_THAT(md, StartsWith("# incept report: sweep blocks\n"));
  CHECK_THAT(md, Contains("8 runs in "));
  CHECK_THAT(md, Contains("| variant | model.inception1.block | model.inception1.ratio | params | MACs | "
                          "test acc % | Δ vs naive | s/epoch | images/s | runs |"));
  CHECK_THAT(md, Contains("| naive (baseline) | inception_naive | (unset) | 253,234 | 2.06M | 98.00 ± 1.00 (n=3, 97.00–99.00) | "
                          "baseline | 4.00 | 15,000 | 3 completed |"));
  CHECK_THAT(md, Contains("| reduced | inception_reduced | (unset) | 252,290 | 1.31M | 98.00 ± 0.71 (n=2, 97.50–98.50) | "
                          "+0.00 pp | 2.00 | 30,000 | 2 completed, 1 diverged |"));
  CHECK_THAT(md, Contains("| ratio=0.25 | inception_reduced | 0.25 | 251,710 | 859.3K | 96.00 (n=1) | -2.00 pp |"));
  CHECK_THAT(md, Contains("1 completed, 1 failed |"));
  CHECK_THAT(md, Contains("Pareto front (nothing else is as accurate for less): by params: reduced, ratio=0.25"));
}

TEST_CASE("markdown lists the runs that did not complete, with their errors", "[report][md]") {
  const std::string md = render_markdown(blocks_report());
  CHECK_THAT(md, Contains("## Runs that did not complete"));
  CHECK_THAT(md, Contains("| 6 | reduced | 3 | diverged | 1/2 | loss became NaN at epoch 2 |"));
  CHECK_THAT(md, Contains("| 8 | ratio=0.25 | 2 | failed | 0/2 |"));
}

TEST_CASE("markdown compares per-layer costs with the baseline, next to accuracy", "[report][md]") {
  const std::string md = render_markdown(blocks_report());
  CHECK_THAT(md, Contains("## Per-layer cost vs naive"));
  CHECK_THAT(md, Contains("### reduced vs naive\n\ntest acc %: 98.00 ± 0.71 (n=2, 97.50–98.50) vs 98.00 ± 1.00 (n=3, 97.00–99.00) (+0.00 pp)"));
  CHECK_THAT(md, Contains("| layer | block | params naive | params reduced | ratio | MACs naive | MACs reduced | ratio |"));
  CHECK_THAT(md, Contains("| inception1 | inception_naive → inception_reduced | 2,264 | 1,320 | 0.58× | 1,756,160 | "
                          "1,003,520 | 0.57× |"));
  CHECK_THAT(md, Contains("| stem | conv | 80 | 80 | 1.00× |"));
  CHECK_THAT(md, Contains("| total |  | 253,234 | 252,290 | 1.00× |"));
  CHECK_THAT(md, Contains("### ratio=0.25 vs naive"));
}

TEST_CASE("markdown compares the branches of the layers that differ, with ratios", "[report][md]") {
  const std::string md = render_markdown(blocks_report());
  CHECK_THAT(md, Contains("Branches of the layers that differ (drawn side by side in the HTML report):"));
  CHECK_THAT(md, Contains("| layer / branch | structure | params naive | params reduced | ratio | MACs naive | MACs "
                          "reduced | ratio |"));
  // seed 004's comparison, on 8 input channels at 28x28 with out = 8: the 1x1 reductions to 4 channels.
  CHECK_THAT(md, Contains("| inception1 | inception_naive → inception_reduced | 2,264 | 1,320 | 0.58× | 1,756,160 | "
                          "1,003,520 | 0.57× |"));
  CHECK_THAT(md, Contains("| inception1.branch1x1 | conv 1x1/1 +relu | 72 | 72 | 1.00× | 50,176 | 50,176 | 1.00× |"));
  CHECK_THAT(md, Contains("| inception1.branch5x5 | conv 5x5/1 +relu → 1x1 -> 5x5 | 1,608 | 844 | 0.52× | 1,254,400 | "
                          "652,288 | 0.52× |"));
  // The naive pool branch has no parameters: no ratio to take.
  CHECK_THAT(md, Contains("| inception1.branch_pool | maxpool 3x3/1 → maxpool3x3 -> 1x1 | 0 | 72 | - | 0 | 50,176 | - |"));
  // Layers configured alike get no branch rows.
  CHECK_FALSE(md.find("| stem.") != std::string::npos);
}

TEST_CASE("the branch table opens a residual layer down to its branches and its projection", "[report][md]") {
  ScratchDir dir;
  const std::string path = dir.file("runs.db");
  {
    RunStore store = RunStore::open(path);
    record_run(store, {"reduced", 1, "completed", {0.9}, "res"});
    record_run(store, {"residual", 1, "completed", {0.9}, "res"});
  }
  ReportRequest request;
  request.db = path;
  request.sweep = "res";
  const std::string md = render_markdown(load_report(request));
  // x + proj(block(x)): the block's 32 channels projected back to its 8 input channels by a 1x1 conv with bias
  // (32*8 + 8 = 264 params, 8*28*28*32 = 200,704 MACs); the branches are those of the plain block.
  CHECK_THAT(md, Contains("| inception1 | inception_reduced | 1,320 | 1,584 | 1.20× |"));
  CHECK_THAT(md, Contains("| inception1.body.proj | conv 1x1/1 (only here) | - | 264 | - | - | 200,704 | - |"));
  CHECK_THAT(md, Contains("| inception1.body.block.branch1x1 |"));
  CHECK_THAT(md, Contains("| inception1.body.block.branch5x5 |"));
}

TEST_CASE("markdown escapes table breakers in user-chosen names", "[report][md]") {
  ScratchDir dir;
  const std::string path = dir.file("runs.db");
  {
    RunStore store = RunStore::open(path);
    PlannedRun alone{"reduced", 1, "completed", {0.9}, ""};
    alone.name = "a|b\nc";
    record_run(store, alone);
    record_run(store, {"naive", 1, "completed", {0.9}});
  }
  ReportRequest request;
  request.db = path;
  const std::string md = render_markdown(load_report(request));
  CHECK_THAT(md, Contains("| a\\|b c (baseline) |"));
  CHECK_THAT(md, Contains("| blocks/naive |"));
}

TEST_CASE("csv has a header and one row per variant with raw numbers", "[report][csv]") {
  const std::vector<std::string> lines = lines_of(render_csv(blocks_report()));
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] ==
        "variant,sweep,baseline,model.inception1.block,model.inception1.ratio,params,macs,test_acc_mean,"
        "test_acc_std,test_acc_n,test_acc_min,test_acc_max,delta_vs_baseline,seconds_per_epoch,images_per_s,pareto_params,pareto_macs,runs,"
        "run_ids,completed,running,interrupted,diverged,failed");
  CHECK_THAT(lines[1], StartsWith("naive,blocks,true,inception_naive,,253234,2063488,0.98,"));
  CHECK_THAT(lines[1], Contains(",3,0.97,0.99,0,4,15000,false,false,3,1 2 3,3,0,0,0,0"));  // n, min, max, delta, ...
  CHECK_THAT(lines[2], StartsWith("reduced,blocks,false,inception_reduced,,252290,1310848,0.98"));
  CHECK_THAT(lines[2], Contains(",4 5 6,2,0,0,1,0"));
  CHECK_THAT(lines[3], StartsWith("ratio=0.25,blocks,false,inception_reduced,0.25,251710,859264,0.96,,1,"));
  CHECK_THAT(lines[3], Contains(",7 8,1,0,0,0,1"));
}

TEST_CASE("csv quotes fields that hold commas, quotes or line breaks", "[report][csv]") {
  CHECK(csv_field("plain") == "plain");
  CHECK(csv_field("a,b") == "\"a,b\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("two\nlines") == "\"two\nlines\"");
}

TEST_CASE("json carries every variant with its figures, curves, layers and runs", "[report][json]") {
  const std::string json = render_json(blocks_report());
  CHECK_THAT(json, StartsWith("{\"db\":"));
  CHECK_THAT(json, Contains("\"scope\":\"sweep blocks\",\"baseline\":\"naive\""));
  CHECK_THAT(json, Contains("\"setting_keys\":[\"model.inception1.block\",\"model.inception1.ratio\"]"));
  CHECK_THAT(json, Contains("\"label\":\"naive\",\"sweep\":\"blocks\",\"variant\":\"naive\",\"baseline\":true,"
                            "\"settings\":{\"model.inception1.block\":\"inception_naive\","
                            "\"model.inception1.ratio\":null}"));
  CHECK_THAT(json, Contains("\"test_acc\":{\"mean\":0.98"));
  // Learning curves carry their spread over seeds: naive's three seeds at epoch 1 are 0.95, 0.96, 0.94.
  CHECK_THAT(json, Contains("\"n\":3,\"std\":0.01") && Contains(",\"min\":0.94,\"max\":0.96}"));
  CHECK_THAT(json, Contains("\"status_counts\":{\"completed\":2,\"diverged\":1}"));
  CHECK_THAT(json, Contains("\"curve\":[{\"epoch\":1,\"test_acc\":0.95"));
  CHECK_THAT(json, Contains("\"layers\":[{\"idx\":0,\"name\":\"stem\",\"block\":\"conv\""));
  CHECK_THAT(json, Contains("\"differing_layers\":[\"inception1\"],\"model_note\":\"\""));
  CHECK_THAT(json, Contains("\"status\":\"diverged\",\"error\":\"loss became NaN at epoch 2\""));
  CHECK_THAT(json, Contains("\"epochs\":[{\"epoch\":1,\"train_loss\":0.5"));
  // The single-seed variant has no spread: null, not a made-up 0.
  CHECK_THAT(json, Contains("\"test_acc\":{\"mean\":0.96,\"std\":null,\"n\":1,\"min\":0.96,\"max\":0.96}"));
}
