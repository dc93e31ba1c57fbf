#include "tests/diagrams/svg_probe.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace incept::testing {

namespace {

std::string between(const std::string& s, const std::string& open, const std::string& close, std::size_t from = 0) {
  const auto a = s.find(open, from);
  if (a == std::string::npos) return "";
  const auto b = s.find(close, a + open.size());
  return b == std::string::npos ? "" : s.substr(a + open.size(), b - a - open.size());
}

double attribute(const std::string& tag, const std::string& name) {
  const std::string value = between(tag, " " + name + "=\"", "\"");
  return value.empty() ? 0.0 : std::stod(value);
}

// Each <g ... class="KIND"> ... </g> group of Graphviz's output (they do not nest, below the root group).
std::vector<std::string> groups(const std::string& svg, const std::string& kind) {
  std::vector<std::string> out;
  const std::string marker = "class=\"" + kind + "\"";
  for (auto at = svg.find(marker); at != std::string::npos; at = svg.find(marker, at + 1)) {
    const auto end = svg.find("</g>", at);
    out.push_back(svg.substr(at, end - at));
  }
  return out;
}

}  // namespace

std::string decode_entities(const std::string& text) {
  static const std::vector<std::pair<std::string, std::string>> entities = {
      {"&#45;", "-"}, {"&gt;", ">"}, {"&lt;", "<"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&#160;", " "}, {"&amp;", "&"}};
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    if (text[i] == '&')
      for (const auto& [entity, plain] : entities)
        if (text.compare(i, entity.size(), entity) == 0) {
          out += plain;
          i += entity.size();
          replaced = true;
          break;
        }
    if (!replaced) out += text[i++];
  }
  return out;
}

std::string SvgNode::label() const {
  std::string out;
  for (const std::string& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

bool SvgProbe::has_cluster(const std::string& title) const {
  return std::find(clusters.begin(), clusters.end(), title) != clusters.end();
}

bool SvgProbe::has_visible_cluster(const std::string& title) const {
  return std::find(visible_clusters.begin(), visible_clusters.end(), title) != visible_clusters.end();
}

const SvgEdge* SvgProbe::edge(const std::string& from, const std::string& to) const {
  for (const SvgEdge& e : edges)
    if (e.from == from && e.to == to) return &e;
  return nullptr;
}

bool SvgProbe::has_edge(const std::string& from, const std::string& to) const { return edge(from, to) != nullptr; }

SvgProbe probe_svg(const std::string& svg) {
  SvgProbe p;
  const std::string svg_tag = between(svg, "<svg", ">");
  const std::string view_box = between(svg_tag, "viewBox=\"", "\"");
  if (!view_box.empty()) {
    double x0 = 0, y0 = 0;
    if (std::sscanf(view_box.c_str(), "%lf %lf %lf %lf", &x0, &y0, &p.width, &p.height) != 4)
      throw std::runtime_error("unreadable viewBox: " + view_box);
  }
  for (const std::string& g : groups(svg, "cluster")) {
    p.clusters.push_back(decode_entities(between(g, "<title>", "</title>")));
    // Graphviz draws a cluster's outline as a polygon or path (rounded); an undrawn one has neither.
    if (g.find("<polygon") != std::string::npos || g.find("<path") != std::string::npos)
      p.visible_clusters.push_back(p.clusters.back());
  }
  for (const std::string& g : groups(svg, "node")) {
    SvgNode n;
    bool first = true;
    for (auto at = g.find("<text"); at != std::string::npos; at = g.find("<text", at + 1)) {
      const auto tag_end = g.find('>', at);
      const std::string tag = g.substr(at, tag_end - at);
      if (first) {
        n.x = attribute(tag, "x");
        n.y = attribute(tag, "y");
        first = false;
      }
      n.lines.push_back(decode_entities(g.substr(tag_end + 1, g.find("</text>", tag_end) - tag_end - 1)));
    }
    if (first) {  // no label: the centre of its ellipse (a point)
      const std::string ellipse = between(g, "<ellipse", "/>");
      n.x = attribute(ellipse, "cx");
      n.y = attribute(ellipse, "cy");
    }
    p.nodes[decode_entities(between(g, "<title>", "</title>"))] = n;
  }
  for (const std::string& g : groups(svg, "edge")) {
    const std::string title = decode_entities(between(g, "<title>", "</title>"));
    const auto arrow = title.find("->");
    SvgEdge e{title.substr(0, arrow), title.substr(arrow + 2), g.find("stroke-dasharray") != std::string::npos,
              between(between(g, "<path", "/>"), "stroke=\"", "\"")};
    p.edges.push_back(e);
  }
  return p;
}

}  // namespace incept::testing
