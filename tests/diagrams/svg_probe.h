#pragma once
// Reads back what Graphviz drew: the clusters, nodes (with their label lines and position) and edges of an SVG,
// by the <title> Graphviz gives each (the DOT name: our node ids).
#include <map>
#include <string>
#include <vector>

namespace incept::testing {

struct SvgNode {
  std::vector<std::string> lines;  // the label's lines, entities decoded
  double x = 0, y = 0;             // centre of its first line (or of the shape, for a label-less node)
  std::string label() const;       // the lines joined by '\n'
};

struct SvgEdge {
  std::string from, to;
  bool dashed = false;  // dashed or dotted
  std::string color;    // the stroke of its line ("#0072b2")
};

struct SvgProbe {
  std::vector<std::string> clusters;  // cluster titles ("cluster_inception1"), in document order
  std::vector<std::string> visible_clusters;  // those drawn (with an outline)
  std::map<std::string, SvgNode> nodes;
  std::vector<SvgEdge> edges;
  double width = 0, height = 0;  // of the whole drawing, in pt

  bool has_cluster(const std::string& title) const;
  bool has_visible_cluster(const std::string& title) const;
  bool has_edge(const std::string& from, const std::string& to) const;
  const SvgEdge* edge(const std::string& from, const std::string& to) const;
};

SvgProbe probe_svg(const std::string& svg);

// "&#45;&gt;" -> "->": what Graphviz escapes in titles and text.
std::string decode_entities(const std::string& text);

}  // namespace incept::testing
