#pragma once
// A network drawn as a graph, before any layout: nodes with label lines, edges, and nested clusters (a network, a
// layer, a branch, an aux head). Built from the IR by network_graph.h, written as DOT by dot.h and laid out and
// rendered by Graphviz (graphviz.h). Kept apart from both ends so the structure can be tested without Graphviz.
#include <cstdint>
#include <string>
#include <vector>

namespace incept {

enum class NodeKind {
  Op,     // an operation: a conv unit, a pool, a linear layer; at depth 1 a whole layer
  Split,  // where a block's input fans out to its branches: a dot
  Join,   // where branches meet: the channel concatenation
  Input,  // the network's input, or the input of a drawn layer
  Output, // the network's output
  Note,   // text that is not part of the network ("no layer 'x' here")
};

struct DiagramNode {
  std::string id;       // unique in the diagram; Graphviz writes it as the SVG node's <title>
  std::string title;    // the first label line, in bold: the name a user knows it by
  std::vector<std::string> lines;  // the rest: op, channels, shape, cost
  double heat = 0;      // 0..1: its MACs against the costliest node of the diagram; sets the fill
  NodeKind kind = NodeKind::Op;
  bool aux = false;     // part of an aux head (training only): drawn dashed
};

enum class EdgeKind {
  Data,      // a tensor flowing on
  Aux,       // into an aux head (training only)
  Residual,  // a skip connection added back
  Elided,    // layers left out of the drawing in between (its label names them)
};

struct DiagramEdge {
  std::string from, to;
  EdgeKind kind = EdgeKind::Data;
  std::string label;
};

enum class ClusterKind {
  Network,
  Layer,
  Branch,
  Aux,
  Slot,  // not drawn: holds a one-op branch in its place among its siblings (see network_graph.cpp)
};

struct DiagramCluster {
  std::string id;  // unique; Graphviz draws a subgraph as a box only when its name starts with "cluster"
  std::string title;
  std::vector<std::string> lines;
  ClusterKind kind = ClusterKind::Layer;
  std::vector<std::string> nodes;  // ids of the nodes directly inside
  std::vector<DiagramCluster> clusters;
};

struct Diagram {
  std::string id;       // prefix of every id in the SVG, so several diagrams can share one HTML page
  std::string caption;  // under the drawing
  std::vector<DiagramNode> nodes;
  std::vector<DiagramEdge> edges;
  DiagramCluster root;  // its nodes and clusters are the top level (root itself is not drawn as a box)
  std::vector<std::vector<std::string>> same_rank;  // nodes drawn level with each other (one layer, side by side)
};

}  // namespace incept
