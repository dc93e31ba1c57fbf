#include "reports/render_html.h"

#include <fmt/format.h>

#include "reports/render_json.h"
#include "reports/report_diagrams.h"
#include "reports/report_script.h"
#include "reports/report_tables.h"

namespace incept {

namespace {

constexpr const char* kStyle = R"css(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1400px;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; } h3 { margin-top: 1.5em; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5em 0; font-variant-numeric: tabular-nums; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num, th.num { text-align: right; } .part { white-space: nowrap; }
.meta, .note { color: #555; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 1.5em; }
figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: 0.3em; }
.chart { position: relative; height: 340px; }
.empty { color: #777; font-style: italic; } .error { color: #b00020; font-weight: 600; }
.diagram-figure { margin: 1em 0; } .diagram-figure figcaption { font-weight: normal; color: #555; }
svg.diagram { display: block; max-width: 100%; height: auto; }
)css";

// A header may break after the dots and slashes of a long settings path (model.inception1/2/3.block).
std::string header_html(const std::string& title) {
  std::string out;
  for (char c : html_escape(title)) {
    out += c;
    if (c == '.' || c == '/') out += "<wbr>";
  }
  return out;
}

// A figure stays whole, but its parenthesised details may go to a second line: "98.62 ± 0.10 (n=3, 98.51–98.71)"
// would otherwise make the accuracy column the widest of the table.
std::string number_html(const std::string& text) {
  const auto at = text.find(" (");
  if (at == std::string::npos) return "<span class=\"part\">" + html_escape(text) + "</span>";
  return "<span class=\"part\">" + html_escape(text.substr(0, at)) + "</span> <span class=\"part\">" +
         html_escape(text.substr(at + 1)) + "</span>";
}

std::string table(const ReportTable& t) {
  // Many differing settings make a wide table: it scrolls rather than pushing the page sideways.
  std::string out = "<div class=\"table-wrap\"><table>\n<thead><tr>";
  for (std::size_t c = 0; c < t.titles.size(); ++c)
    out += fmt::format("<th{}>{}</th>", t.numeric[c] ? " class=\"num\"" : "", header_html(t.titles[c]));
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& cells : t.rows) {
    out += "<tr>";
    for (std::size_t c = 0; c < cells.size(); ++c)
      out += t.numeric[c] ? "<td class=\"num\">" + number_html(cells[c]) + "</td>"
                          : "<td>" + html_escape(cells[c]) + "</td>";
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table></div>\n";
}

std::string heading(const Report& r) {
  const std::size_t runs = r.run_count(), variants = r.variants.size();
  return fmt::format("<h1>incept report: {}</h1>\n<p class=\"meta\">{} run{} in {} · {} variant{} · baseline: {}</p>\n",
                     html_escape(r.scope), runs, runs == 1 ? "" : "s", html_escape(r.db_path), variants,
                     variants == 1 ? "" : "s", html_escape(r.variants[r.baseline].label));
}

std::string variants_section(const Report& r) {
  std::string out = "<h2>Variants</h2>\n" + table(variants_table(r));
  out += "<p class=\"note\">" + html_escape(variants_legend()) + "</p>\n";
  if (const std::string front = pareto_summary(r); !front.empty())
    out += "<p>Pareto front (nothing else is as accurate for less): " + html_escape(front) + ".</p>\n";
  return out;
}

std::string chart_figure(const std::string& id, const std::string& caption) {
  return fmt::format("<figure><figcaption>{}</figcaption><div class=\"chart\"><canvas id=\"{}\"></canvas></div>"
                     "</figure>\n",
                     caption, id);
}

std::string charts_section() {
  return "<h2>Charts</h2>\n<p class=\"note\">Hover a point or bar to see its variant. Variants without a completed "
         "run have no accuracy yet and appear only in the learning curves and per-layer charts.</p>\n"
         "<div class=\"charts\" id=\"charts\">\n" +
         chart_figure("chart-accuracy-params", "Test accuracy vs params (Pareto front dashed)") +
         chart_figure("chart-accuracy-macs", "Test accuracy vs MACs (Pareto front dashed)") +
         chart_figure("chart-learning-curves",
                      "Learning curves: test accuracy per epoch, mean over seeds (band: lowest to highest seed)") +
         chart_figure("chart-layer-params", "Params per layer") + chart_figure("chart-layer-macs", "MACs per layer") +
         "</div>\n";
}

std::string unfinished_section(const Report& r) {
  const ReportTable t = unfinished_runs_table(r);
  return t.rows.empty() ? "" : "<h2>Runs that did not complete</h2>\n" + table(t);
}

std::string reused_section(const Report& r) {
  const ReportTable t = reused_runs_table(r);
  return t.rows.empty() ? ""
                        : "<h2>Reused runs</h2>\n<p>Identical experiments trained before, counted in this sweep.</p>\n" +
                              table(t);
}

std::string layers_section(const Report& r) {
  const std::vector<std::size_t> compared = layer_compared_variants(r);
  if (compared.empty()) return "";
  const VariantSummary& base = r.variants[r.baseline];
  const std::vector<VariantDiagram> diagrams = variant_diagrams(r);
  std::string out = "<h2>Per-layer cost vs " + html_escape(base.label) + "</h2>\n";
  if (!base.model_note.empty())
    out += "<p class=\"note\">" + html_escape(base.label + ": " + base.model_note) + "</p>\n";
  for (std::size_t i : compared) {
    const VariantSummary& other = r.variants[i];
    out += fmt::format("<section id=\"{}\">\n<h3>{} vs {}</h3>\n<p>test acc %: {}</p>\n", variant_anchor(i),
                       html_escape(other.label), html_escape(base.label),
                       html_escape(accuracy_comparison(base, other)));
    if (!other.model_note.empty()) out += "<p class=\"note\">" + html_escape(other.model_note) + "</p>\n";
    out += diagrams[i].html;
    out += table(layer_table(base, other));
    const ReportTable branches = branch_table(base, other);
    if (!branches.rows.empty())
      out += "<h4>Branches of the layers that differ</h4>\n" + table(branches);
    out += "</section>\n";
  }
  return out;
}

// Data first, then the library, then the code that uses both; all inline so the page needs no network.
std::string scripts(const Report& r, const std::string& chartjs) {
  return "<script type=\"application/json\" id=\"report-data\">" + json_for_script(render_json(r)) +
         "</script>\n<script>\n" + chartjs + "\n</script>\n<script>\n" + kReportScript + "\n</script>\n";
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string json_for_script(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (char c : json) {
    switch (c) {
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_html(const Report& report, const std::string& chartjs) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>incept report: " +
         html_escape(report.scope) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n" + heading(report) +
         variants_section(report) + charts_section() + unfinished_section(report) + reused_section(report) +
         layers_section(report) +
         scripts(report, chartjs) + "</body>\n</html>\n";
}

}  // namespace incept
