// The HTML report: one self-contained file with Chart.js inlined, every user-chosen text escaped, and charts
// that really draw, checked in headless Chromium.
#include <cstdlib>
#include <optional>
#include <regex>

#include <catch2/catch.hpp>

#include "framework/diagnostics.h"
#include "reports/chartjs_asset.h"
#include "reports/render_html.h"
#include "reports/report_request.h"
#include "reports/report_script.h"
#include "tests/report/headless_chromium.h"
#include "tests/report/report_fixture.h"
#include "tests/support/skip.h"

using namespace incept;
using namespace incept::report_test;
using Catch::Matchers::Contains;

namespace {

constexpr int kChartCount = 5;  // accuracy vs params, vs MACs, learning curves, params and MACs per layer
const char* const kEvilName = "<script>alert('x')</script>\"&";

std::string blocks_db(const ScratchDir& dir) {
  const std::string path = dir.file("runs.db");
  write_blocks_sweep(path);
  return path;
}

std::string html_report(const std::string& db, const std::string& sweep = "blocks") {
  ReportRequest request;
  request.db = db;
  request.sweep = sweep;
  return render_report(load_report(request), "html");
}

// A sweep whose variant names try to break out of the page, the JSON data and the tooltips.
std::string evil_db(const ScratchDir& dir) {
  const std::string path = dir.file("evil.db");
  RunStore store = RunStore::open(path);
  PlannedRun naive{"naive", 1, "completed", {0.9, 0.95}, "evil"};
  const std::int64_t id = record_run(store, naive);
  record_run(store, {"reduced", 1, "completed", {0.9, 0.96}, "evil"});
  // Variant names are free text in a sweep file; store one that is hostile.
  RunRecord r = *store.get_run(id);
  r.variant = kEvilName;
  const std::int64_t evil = store.begin_run(r);
  store.add_layers(evil, variant_layers("naive"));
  EpochRecord e;
  e.run_id = evil;
  e.epoch = 1;
  e.test_acc = 0.91;
  e.seconds = 1;
  e.images_per_s = 1000;
  store.record_epoch(e);
  store.finish_run(evil, RunStatus::completed, 1.0);
  return path;
}

int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Restores INCEPT_CHARTJS when a test that changed it ends.
class ChartjsOverride {
 public:
  explicit ChartjsOverride(const std::string& path) {
    if (const char* old = std::getenv("INCEPT_CHARTJS")) old_ = old;
    ::setenv("INCEPT_CHARTJS", path.c_str(), 1);
  }
  ~ChartjsOverride() {
    if (old_) ::setenv("INCEPT_CHARTJS", old_->c_str(), 1);
    else ::unsetenv("INCEPT_CHARTJS");
  }

 private:
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("the html report is one self-contained file with Chart.js inlined", "[report][html]") {
  ScratchDir dir;
  const std::string html = html_report(blocks_db(dir));
  CHECK_THAT(html, Contains("<!DOCTYPE html>"));
  CHECK_THAT(html, Contains("Chart.js v4"));          // the library's banner: inlined, not linked
  CHECK_THAT(html, Contains("chartsDrawn"));          // the chart code
  CHECK_THAT(html, Contains("id=\"report-data\""));  // and the data
  // Nothing is fetched: no external scripts, stylesheets, images or links.
  CHECK_FALSE(std::regex_search(html, std::regex(R"((src|href)\s*=\s*["']?\s*(https?:)?//)", std::regex::icase)));
  CHECK_FALSE(std::regex_search(html, std::regex(R"(<script[^>]*\ssrc\s*=)", std::regex::icase)));
  CHECK_FALSE(std::regex_search(html, std::regex(R"(<link\b)", std::regex::icase)));
  CHECK(count_of(html, "<canvas ") == kChartCount);
  CHECK_THAT(html, Contains("<td>ratio=0.25</td>"));
}

TEST_CASE("text from configs is escaped in the page and in its data", "[report][html]") {
  ScratchDir dir;
  const std::string html = html_report(evil_db(dir), "evil");
  CHECK_THAT(html, Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;"));
  CHECK_THAT(html, Contains("\\u003cscript\\u003ealert('x')\\u003c/script\\u003e\\\"\\u0026"));
  CHECK_FALSE(html.find("<script>alert") != std::string::npos);
  CHECK(count_of(html, "</script>") == 3);  // data, Chart.js, chart code
}

TEST_CASE("the chart code can be inlined and the helpers escape what they must", "[report][html]") {
  CHECK(can_inline_in_script(kReportScript));
  CHECK_FALSE(can_inline_in_script("let s = '</SCRIPT>';"));
  CHECK(html_escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;");
  CHECK(json_for_script(R"({"a":"</script>&"})") == R"({"a":"\u003c/script\u003e\u0026"})");
}

TEST_CASE("without Chart.js, html fails with the fix while other formats work", "[report][html]") {
  ScratchDir dir;
  const std::string db = blocks_db(dir);
  const std::string missing = dir.file("no/chart.umd.js");
  ChartjsOverride override(missing);
  ReportRequest request;
  request.db = db;
  const Report report = load_report(request);
  CHECK_THROWS_AS(render_report(report, "html"), UserError);
  CHECK_THROWS_WITH(render_report(report, "html"), Contains(missing) && Contains("bash scripts/setup.sh"));
  CHECK_NOTHROW(render_report(report, "md"));
  CHECK_NOTHROW(render_report(report, "csv"));
  CHECK_NOTHROW(render_report(report, "json"));
}

TEST_CASE("the html report draws its charts in headless Chromium", "[report][html][chromium]") {
  const std::optional<std::string> chromium = find_chromium();
  if (!chromium)
    INCEPT_SKIP("chromium is not installed (bash scripts/setup.sh installs it): charts not checked in a browser");
  ScratchDir dir;
  for (const auto& [db, sweep] : {std::pair<std::string, std::string>{blocks_db(dir), "blocks"}, {evil_db(dir), "evil"}}) {
    INFO("sweep " << sweep);
    const std::string page = dir.file(sweep + ".html");
    {
      std::ofstream(page, std::ios::binary) << html_report(db, sweep);
    }
    const std::string dom = rendered_dom(*chromium, dir, page);
    std::smatch body;
    REQUIRE(std::regex_search(dom, body, std::regex(R"(<body[^>]*>)")));
    CHECK_THAT(body.str(), Contains("data-charts-drawn=\"" + std::to_string(kChartCount) + "\""));
    CHECK_THAT(body.str(), !Contains("data-chart-errors"));  // holds the message of any chart that threw
    // Chart.js sizes each canvas to its container; a zero size would mean nothing was laid out or drawn.
    const std::regex canvas_tag(R"(<canvas[^>]*>)");
    const std::regex width(R"(\swidth="(\d+)\")"), height(R"(\sheight="(\d+)\")");
    int sized = 0;
    for (auto it = std::sregex_iterator(dom.begin(), dom.end(), canvas_tag); it != std::sregex_iterator(); ++it) {
      const std::string tag = it->str();
      std::smatch w, h;
      INFO(tag);
      REQUIRE(std::regex_search(tag, w, width));
      REQUIRE(std::regex_search(tag, h, height));
      CHECK(std::stoi(w[1]) > 0);
      CHECK(std::stoi(h[1]) > 0);
      ++sized;
    }
    CHECK(sized == kChartCount);
    CHECK_FALSE(dom.find("<script>alert") != std::string::npos);  // the hostile name stayed text
  }
  // The blocks sweep draws its variants' inception1 next to the baseline's: boxes with nodes in them.
  const std::string page = dir.file("probed.html");
  {
    std::ofstream(page, std::ios::binary) << with_layout_probe(html_report(blocks_db(dir), "blocks"));
  }
  const std::map<std::string, std::string> data = body_data(rendered_dom(*chromium, dir, page));
  REQUIRE(data.count("data-diagrams"));
  const std::string diagrams = data.at("data-diagrams");
  INFO(diagrams);
  const std::regex drawn(R"((\d+)x(\d+):(\d+))");
  int boxes = 0;
  for (auto it = std::sregex_iterator(diagrams.begin(), diagrams.end(), drawn); it != std::sregex_iterator(); ++it) {
    CHECK(std::stoi((*it)[1]) > 0);
    CHECK(std::stoi((*it)[2]) > 0);
    CHECK(std::stoi((*it)[3]) > 0);
    ++boxes;
  }
  CHECK(boxes == 2);  // reduced and ratio=0.25, each against naive
}

namespace {

std::string main_job_html(const ScratchDir& dir) {
  const std::string db = dir.file("main.db");
  write_main_job_runs(db);
  ReportRequest request;
  request.db = db;
  request.runs = "1-12";
  request.baseline = "mnist-reduced";
  return render_report(load_report(request), "html");
}

}  // namespace

TEST_CASE("the main job's report draws the blocks that differ next to the baseline's, inline", "[report][html]") {
  ScratchDir dir;
  const std::string html = main_job_html(dir);
  // One column for the three blocks that switch together, named by the path --set takes.
  CHECK_THAT(html, Contains("<th>model.<wbr>inception1/<wbr>2/<wbr>3.<wbr>block</th><th>train.<wbr>init</th>"));
  // mnist-naive: its three blocks drawn against mnist-reduced's, inline; mnist-naive-xavier has the same blocks
  // and points there rather than repeating the drawing; mnist-reduced-xavier differs in its init only.
  CHECK(count_of(html, "<svg class=\"diagram\"") == 1);
  CHECK_THAT(html, Contains("configured as in <a href=\"#variant-2\">mnist-naive</a>"));
  CHECK_THAT(html, Contains("<title>cluster_1/inception1</title>") && Contains("<title>cluster_2/inception3</title>"));
  CHECK_THAT(html, Contains("16+16+16+80 = 128 ch"));  // naive inception3's concatenation, exactly
  // Still one self-contained page: the SVG has no prolog, DOCTYPE or external reference.
  CHECK_FALSE(html.find("<?xml") != std::string::npos);
  CHECK_FALSE(html.find("<!DOCTYPE svg") != std::string::npos);
  CHECK_FALSE(std::regex_search(html, std::regex(R"((src|href)\s*=\s*["']?\s*(https?:)?//)", std::regex::icase)));
  // The branches of the blocks that differ, with ratios.
  CHECK_THAT(html, Contains("<h4>Branches of the layers that differ</h4>"));
  CHECK_THAT(html, Contains("<td>inception2.branch5x5</td><td>1x1 -&gt; 5x5 → conv 5x5/1 +relu</td>"));
}

TEST_CASE("the main job's report renders its diagrams and fits a 1280 px window in headless Chromium",
          "[report][html][chromium]") {
  const std::optional<std::string> chromium = find_chromium();
  if (!chromium)
    INCEPT_SKIP("chromium is not installed (bash scripts/setup.sh installs it): layout not checked in a browser");
  ScratchDir dir;
  const std::string page = dir.file("main.html");
  {
    std::ofstream(page, std::ios::binary) << with_layout_probe(main_job_html(dir));
  }
  const std::map<std::string, std::string> data = body_data(rendered_dom(*chromium, dir, page, 1280));
  REQUIRE(data.count("data-viewport-width"));
  INFO("window " << data.at("data-window-width") << " px, page " << data.at("data-page-width") << " px");
  CHECK(data.at("data-window-width") == "1280");
  CHECK(std::stoi(data.at("data-page-width")) <= std::stoi(data.at("data-viewport-width")));
  CHECK(data.at("data-overflowing") == "");  // nothing sticks out, no table scrolls sideways
  CHECK(data.at("data-charts-drawn") == std::to_string(kChartCount));
  // One drawing, with a box on the page and every node of both columns in it (3 blocks of 9 and 3 of 6 nodes,
  // an input ahead of each).
  const std::string diagrams = data.at("data-diagrams");
  std::smatch size;
  REQUIRE(std::regex_match(diagrams, size, std::regex(R"((\d+)x(\d+):(\d+))")));
  CHECK(std::stoi(size[1]) > 600);
  CHECK(std::stoi(size[2]) > 300);
  CHECK(std::stoi(size[3]) == 3 * 9 + 3 * 6 + 2 * 3);
}
