#include "reports/report_diagrams.h"

#include <algorithm>

#include <fmt/format.h>

#include "diagrams/dot.h"
#include "diagrams/graphviz.h"
#include "diagrams/network_graph.h"
#include "framework/text.h"
#include "reports/render_html.h"

namespace incept {

namespace {

constexpr int kDepth = 2;  // every branch op, as seed 004 draws its two blocks

// The page's figcaption says what the drawing shows, so the drawing itself has no caption.
Diagram draw(const VariantSummary& base, const VariantSummary& other, const std::string& base_label,
             const std::string& other_label, const std::string& id) {
  return layers_side_by_side({{base_label, base.model.get()}, {other_label, other.model.get()}},
                             other.differing_layers, kDepth, "", id);
}

std::string caption(const VariantSummary& other) {
  return fmt::format("Layers {} configures differently from the baseline: {}. Fill: MACs against the costliest op "
                     "drawn, in either column; labels give each op's kernel/stride, channels, output shape, params "
                     "and MACs (with its share of its network's).",
                     other.label, join(other.differing_layers, ", "));
}

// Points (pt, Graphviz's unit) to CSS pixels: 96 px per 72 pt.
std::string px(const std::string& points) { return fmt::format("{:.0f}", std::stod(points) * 4.0 / 3.0); }

}  // namespace

std::string variant_anchor(std::size_t index) { return fmt::format("variant-{}", index + 1); }

std::string inline_svg(const std::string& svg) {
  const auto start = svg.find("<svg");
  if (start == std::string::npos) return "";
  std::string out;
  out.reserve(svg.size() - start);
  for (std::size_t at = start; at < svg.size();) {
    const auto comment = svg.find("<!--", at);
    if (comment == std::string::npos) {
      out.append(svg, at, std::string::npos);
      break;
    }
    out.append(svg, at, comment - at);
    const auto end = svg.find("-->", comment);
    at = end == std::string::npos ? svg.size() : end + 3;
    if (at < svg.size() && svg[at] == '\n') ++at;
  }
  // Graphviz writes <svg width="123pt" height="45pt" ...>; the page wants pixels, and a class its style scales.
  const auto attribute = [&out](const std::string& name) -> std::string {
    const std::string key = " " + name + "=\"";
    const auto tag_end = out.find('>');
    const auto at = out.find(key);
    if (at == std::string::npos || at > tag_end) return "";
    const auto value_end = out.find('"', at + key.size());
    std::string value = out.substr(at + key.size(), value_end - at - key.size());
    out.erase(at, value_end + 1 - at);
    return value;
  };
  const std::string width = attribute("width"), height = attribute("height");
  std::string sized = "<svg class=\"diagram\"";
  if (width.size() > 2 && width.compare(width.size() - 2, 2, "pt") == 0 && height.size() > 2)
    sized += " width=\"" + px(width.substr(0, width.size() - 2)) + "\" height=\"" +
             px(height.substr(0, height.size() - 2)) + "\"";
  return sized + out.substr(4);
}

std::vector<VariantDiagram> variant_diagrams(const Report& report) {
  const VariantSummary& base = report.variants[report.baseline];
  std::vector<VariantDiagram> out(report.variants.size());
  std::vector<std::pair<std::string, std::size_t>> drawn;  // the drawing's DOT with neutral labels -> its variant
  for (std::size_t i = 0; i < report.variants.size(); ++i) {
    const VariantSummary& v = report.variants[i];
    if (i == report.baseline || v.differing_layers.empty()) continue;
    // Two variants with the same layers drawn against the same baseline make the same picture (their training
    // settings differ): compared with their labels left out.
    const std::string same_as = to_dot(draw(base, v, "baseline", "variant", "d"));
    const auto earlier = std::find_if(drawn.begin(), drawn.end(), [&](const auto& d) { return d.first == same_as; });
    if (earlier != drawn.end()) {
      const VariantSummary& first = report.variants[earlier->second];
      out[i].html = fmt::format("<p class=\"note\">The layers that differ ({}) are configured as in <a href=\"#{}\">{}"
                                "</a>: see its drawing.</p>\n",
                                html_escape(join(v.differing_layers, ", ")), variant_anchor(earlier->second),
                                html_escape(first.label));
      continue;
    }
    drawn.push_back({same_as, i});
    const Diagram d = draw(base, v, base.label + " (baseline)", v.label, fmt::format("diagram{}", i + 1));
    try {
      out[i].html = "<figure class=\"diagram-figure\">" + inline_svg(render_graph(to_dot(d), "svg")) +
                    "<figcaption>" + html_escape(caption(v)) + "</figcaption></figure>\n";
      out[i].drawn = true;
    } catch (const std::exception& e) {  // Graphviz failed: say so where the picture would be
      out[i].html = "<p class=\"error\">The drawing could not be made: " + html_escape(e.what()) + "</p>\n";
    }
  }
  return out;
}

}  // namespace incept
