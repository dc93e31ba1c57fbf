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

std::optional<std::string> find_chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
    if (std::system(("command -v " + std::string(name) + " >/dev/null 2>&1").c_str()) == 0) return std::string(name);
  return std::nullopt;
}

// The DOM after the page's scripts ran, as headless Chromium serialises it.
std::string rendered_dom(const std::string& chromium, const ScratchDir& dir, const std::string& html_path) {
  const std::string out = dir.file("dom.html"), err = dir.file("chromium.log");
  const std::string cmd = "timeout 120 " + chromium +
                          " --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir='" +
                          dir.file("profile") + "' --window-size=1280,2000 --virtual-time-budget=5000 --dump-dom 'file://" +
                          html_path + "' > '" + out + "' 2> '" + err + "'";
  const int status = std::system(cmd.c_str());
  INFO("chromium log: " << read_text(err));
  REQUIRE(status == 0);
  return read_text(out);
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
}
