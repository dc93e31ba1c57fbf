#include "diagrams/dot.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace incept {

namespace {

// ColorBrewer OrRd, 9 classes, without its palest (too close to white to read as "some cost").
constexpr const char* kHeat[] = {"#fee8c8", "#fdd49e", "#fdbb84", "#fc8d59",
                                  "#ef6548", "#d7301f", "#b30000", "#7f0000"};
constexpr int kHeatSteps = 8;

int heat_step(double heat) {
  if (!(heat > 0)) return -1;
  return std::min(kHeatSteps - 1, static_cast<int>(std::ceil(std::min(heat, 1.0) * kHeatSteps)) - 1);
}

// A DOT double-quoted string. DOT unescapes only \" there, so a backslash is written doubled: it stays doubled in
// the id (and the SVG's <title>), but can no longer swallow the closing quote. Line breaks become spaces.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out + "\"";
}

// Text inside a Graphviz HTML-like label is XML.
std::string xml(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\n': case '\r': out += ' '; break;
      default: out += c;
    }
  }
  return out;
}

// A bold first line, then smaller lines: the name a reader looks for stands out from the figures.
std::string html_label(const std::string& title, const std::vector<std::string>& lines) {
  std::string out = "<";
  if (!title.empty()) out += "<B>" + xml(title) + "</B>";
  for (const std::string& line : lines) {
    if (out.size() > 1) out += "<BR/>";
    out += "<FONT POINT-SIZE=\"9\">" + xml(line) + "</FONT>";
  }
  if (out.size() == 1) out += " ";
  return out + ">";
}

std::string node_statement(const DiagramNode& n) {
  std::vector<std::string> attrs = {"label=" + html_label(n.title, n.lines)};
  std::string style;
  switch (n.kind) {
    case NodeKind::Op: {
      style = "rounded,filled";
      attrs.push_back(fmt::format("fillcolor=\"{}\"", heat_color(n.heat)));
      if (heat_is_dark(n.heat)) attrs.push_back("fontcolor=\"white\"");
      break;
    }
    case NodeKind::Split:
      return quoted(n.id) + " [shape=point, width=0.07, color=\"#444444\", label=\"\"];\n";
    case NodeKind::Join:
      style = "filled";
      attrs.push_back("fillcolor=\"#eeeeee\"");
      attrs.push_back("shape=box");
      break;
    case NodeKind::Input:
    case NodeKind::Output:
      style = "filled";
      attrs.push_back("fillcolor=\"#e6f0fa\"");
      attrs.push_back("shape=oval");
      break;
    case NodeKind::Note:
      attrs.push_back("shape=plaintext");
      attrs.push_back("fontcolor=\"#555555\"");
      break;
  }
  if (n.aux) style += style.empty() ? "dashed" : ",dashed";
  if (!style.empty()) attrs.push_back("style=\"" + style + "\"");
  std::string out = quoted(n.id) + " [";
  for (std::size_t i = 0; i < attrs.size(); ++i) out += (i ? ", " : "") + attrs[i];
  return out + "];\n";
}

std::string edge_statement(const DiagramEdge& e) {
  std::vector<std::string> attrs;
  switch (e.kind) {
    case EdgeKind::Data: break;
    case EdgeKind::Aux:  // weight 0: the main path stays straight
      attrs = {"style=dashed", "color=\"#777777\"", "weight=0"};
      break;
    case EdgeKind::Residual: attrs = {"color=\"#0072B2\"", "penwidth=1.6", "arrowhead=onormal"}; break;
    case EdgeKind::Elided: attrs = {"style=dotted", "color=\"#777777\"", "fontcolor=\"#555555\"", "fontsize=9"}; break;
  }
  if (!e.label.empty()) attrs.push_back("label=" + quoted(" " + e.label + " "));
  std::string out = quoted(e.from) + " -> " + quoted(e.to);
  if (!attrs.empty()) {
    out += " [";
    for (std::size_t i = 0; i < attrs.size(); ++i) out += (i ? ", " : "") + attrs[i];
    out += "]";
  }
  return out + ";\n";
}

std::string cluster_style(ClusterKind kind) {
  switch (kind) {
    case ClusterKind::Network: return "style=\"rounded\", color=\"#999999\", fontsize=12";
    case ClusterKind::Layer: return "style=\"rounded,filled\", fillcolor=\"#f7f7f7\", color=\"#888888\"";
    case ClusterKind::Branch: return "style=\"rounded,dashed\", color=\"#bbbbbb\", fontsize=9";
    case ClusterKind::Aux: return "style=\"rounded,dashed,filled\", fillcolor=\"#fbfbfb\", color=\"#888888\"";
    case ClusterKind::Slot: return "style=invis, margin=0";
  }
  return "";
}

struct ClusterWriter {
  std::string svg_id_prefix;  // the diagram's id
  int written = 0;
};

void write_cluster_contents(const DiagramCluster& c, std::map<std::string, const DiagramNode*>& unplaced,
                            ClusterWriter& w, const std::string& indent, std::string& out) {
  for (const std::string& id : c.nodes) {
    auto it = unplaced.find(id);
    if (it == unplaced.end()) continue;
    out += indent + node_statement(*it->second);
    unplaced.erase(it);
  }
  for (const DiagramCluster& sub : c.clusters) {
    out += indent + "subgraph " + quoted(sub.id) + " {\n";
    // Graphviz 2.43 gives every cluster the root's `id` unless it has its own: one per cluster, for unique ids.
    const std::string svg_id =
        w.svg_id_prefix.empty() ? "" : ", id=" + quoted(fmt::format("{}_clust{}", w.svg_id_prefix, ++w.written));
    // A cluster's margin is in points, the root's in inches: it must not inherit the root's.
    const std::string margin = sub.kind == ClusterKind::Slot ? "" : ", margin=8";
    out += indent + "  graph [" + cluster_style(sub.kind) + margin + ", labelloc=t" + svg_id + "];\n";
    // Always set: a subgraph inherits its parent's label otherwise.
    const bool unlabelled = sub.title.empty() && sub.lines.empty();
    out += indent + "  label=" + (unlabelled ? "\"\"" : html_label(sub.title, sub.lines)) + ";\n";
    write_cluster_contents(sub, unplaced, w, indent + "  ", out);
    out += indent + "}\n";
  }
}

}  // namespace

const char* heat_color(double heat) {
  const int step = heat_step(heat);
  return step < 0 ? "#ffffff" : kHeat[step];
}

bool heat_is_dark(double heat) { return heat_step(heat) >= 5; }

std::string to_dot(const Diagram& d) {
  std::map<std::string, const DiagramNode*> unplaced;
  for (const DiagramNode& n : d.nodes) unplaced.emplace(n.id, &n);
  std::string out = "digraph " + quoted(d.id.empty() ? "network" : d.id) + " {\n";
  // `id` makes Graphviz prefix every id it writes into the SVG, so two drawings can share an HTML page.
  if (!d.id.empty()) out += "  id=" + quoted(d.id) + ";\n";
  out += "  graph [rankdir=TB, nodesep=0.18, ranksep=0.28, fontname=\"Helvetica\", fontsize=10, labeljust=l, "
         "margin=0.05, newrank=true, ordering=out];\n";
  out += "  node [shape=box, fontname=\"Helvetica\", fontsize=10, margin=\"0.08,0.03\", color=\"#555555\"];\n";
  out += "  edge [arrowsize=0.6, color=\"#444444\", fontname=\"Helvetica\", fontsize=9];\n";
  if (!d.caption.empty()) out += "  label=" + html_label("", {d.caption}) + ";\n  labelloc=b;\n";
  ClusterWriter writer{d.id};
  write_cluster_contents(d.root, unplaced, writer, "  ", out);
  // A node no cluster lists is still part of the network: drawn at the top level rather than lost.
  for (const auto& entry : unplaced) out += "  " + node_statement(*entry.second);
  for (const DiagramEdge& e : d.edges) out += "  " + edge_statement(e);
  // newrank lets nodes of different clusters share a rank.
  for (const auto& level : d.same_rank) {
    out += "  { rank=same;";
    for (const std::string& id : level) out += " " + quoted(id) + ";";
    out += " }\n";
  }
  return out + "}\n";
}

}  // namespace incept
