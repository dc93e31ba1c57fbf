#include "diagrams/network_graph.h"

#include <algorithm>
#include <initializer_list>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "framework/ir_view.h"
#include "framework/text.h"

namespace incept {

namespace {

// The nodes that take a drawn part's input, and the one whose output leaves it.
struct Ends {
  std::vector<std::string> entries;
  std::string exit;
};

// "8→32 ch" between feature maps (the count when it does not change); "64x6x6→10" into or between vectors.
std::string channels_text(const NodeReport& r) {
  if (r.input.is_feature_map() && r.output.is_feature_map())
    return r.input.channels() == r.output.channels()
               ? fmt::format("{} ch", r.output.channels())
               : fmt::format("{}→{} ch", r.input.channels(), r.output.channels());
  return r.input.str() + "→" + r.output.str();
}

// "4→8 ch · 8x28x28"; into a vector the shapes say it all ("64x6x6→10").
std::string shape_text(const NodeReport& r) {
  return r.output.is_feature_map() ? channels_text(r) + " · " + r.output.str() : channels_text(r);
}

// Label lines without the empty ones.
std::vector<std::string> lines_of(std::initializer_list<std::string> lines) {
  std::vector<std::string> out;
  for (const std::string& l : lines)
    if (!l.empty()) out.push_back(l);
  return out;
}

// Collects the MACs of every op node of a diagram, then fills each by its share of the costliest.
class HeatScale {
 public:
  void note(std::size_t node, std::int64_t macs) { macs_.push_back({node, macs}); }
  void apply(Diagram& d) const {
    std::int64_t most = 0;
    for (const auto& [node, macs] : macs_) most = std::max(most, macs);
    if (most <= 0) return;
    for (const auto& [node, macs] : macs_)
      d.nodes[node].heat = static_cast<double>(macs) / static_cast<double>(most);
  }

 private:
  std::vector<std::pair<std::size_t, std::int64_t>> macs_;
};

// Draws the parts of one network; ids start with `prefix`, so several networks can share a diagram.
class Builder {
 public:
  Builder(Diagram& d, HeatScale& heat, int depth, std::int64_t network_macs, std::string prefix)
      : d_(d), heat_(heat), depth_(depth), network_macs_(network_macs), prefix_(std::move(prefix)) {}

  std::string id(const std::string& path) const { return prefix_ + path; }

  std::string add_node(DiagramCluster& into, const std::string& node_id, std::string title,
                       std::vector<std::string> lines, NodeKind kind, std::int64_t macs = 0, bool aux = false) {
    DiagramNode n;
    n.id = node_id;
    n.title = std::move(title);
    n.lines = std::move(lines);
    n.kind = kind;
    n.aux = aux;
    if (kind == NodeKind::Op) heat_.note(d_.nodes.size(), macs);
    d_.nodes.push_back(std::move(n));
    into.nodes.push_back(node_id);
    return node_id;
  }

  void edge(const std::string& from, const std::string& to, EdgeKind kind = EdgeKind::Data, std::string label = "") {
    d_.edges.push_back({from, to, kind, std::move(label)});
  }
  void connect(const std::string& from, const Ends& to, EdgeKind kind = EdgeKind::Data) {
    for (const std::string& entry : to.entries) edge(from, entry, kind);
  }

  // "1,656 params · 1.30M MACs (55.4%)"; aux heads' MACs are not part of inference, so they get no share. "" for
  // an op that costs nothing (a pool, a concatenation): its fill says so.
  std::string cost_text(std::int64_t params, std::int64_t macs, bool aux) const {
    if (params == 0 && macs == 0) return "";
    std::string text = with_commas(params) + " params";
    if (macs > 0) {
      text += " · " + human_count(static_cast<double>(macs)) + " MACs";
      if (aux) text += " (training only)";
      else if (network_macs_ > 0)
        text += fmt::format(" ({:.1f}%)", 100.0 * static_cast<double>(macs) / static_cast<double>(network_macs_));
    }
    return text;
  }

  // One layer (or aux head) of the network.
  Ends layer(const LayerSpec& l, DiagramCluster& into, bool aux) {
    const NodeReport& r = l.report;
    const std::string layer_id = id(l.name);
    const bool composite = view_of(l.ir).arrangement != Arrangement::Op;
    // A one-op layer (a stem conv, a pool) at depth 3: its primitives boxed as the layer.
    if (depth_ >= 3 && !composite)
      return op(l.ir, r, layer_id, l.name, into, aux, aux ? ClusterKind::Aux : ClusterKind::Layer);
    if (depth_ <= 1 || !composite) {
      const NodeView v = view_of(l.ir);
      const std::string sum =
          v.arrangement == Arrangement::Residual ? residual_sum_text(v, children_of(l.ir).size() > 1) : "";
      const std::string n = add_node(into, layer_id, l.name,
                                     lines_of({depth_ <= 1 ? l.block : op_text(l.ir, true), sum, shape_text(r),
                                               cost_text(r.cost.params, r.cost.macs, aux)}),
                                     NodeKind::Op, r.cost.macs, aux);
      return {{n}, n};
    }
    DiagramCluster cluster;
    cluster.id = "cluster_" + layer_id;
    cluster.kind = aux ? ClusterKind::Aux : ClusterKind::Layer;
    cluster.title = l.name + " · " + l.block;
    cluster.lines = {join(lines_of({channels_text(r), cost_text(r.cost.params, r.cost.macs, aux)}), " · ")};
    const Ends ends = part(l.ir, r, layer_id, "", cluster, aux, false);
    into.clusters.push_back(std::move(cluster));
    return ends;
  }

 private:
  // A node of the IR below a layer. `as_branch`: it is one branch of a concatenation, boxed with its name.
  Ends part(const Node& n, const NodeReport& r, const std::string& part_id, const std::string& title,
            DiagramCluster& into, bool aux, bool as_branch) {
    const std::vector<Node>& children = children_of(n);
    switch (view_of(n).arrangement) {
      case Arrangement::Op: {
        if (!as_branch) return op(n, r, part_id, title, into, aux);
        // dot places the plain nodes among a cluster's children before its sub-clusters, whatever their order
        // in the file, and sub-clusters in the order they are declared: a one-op branch gets an undrawn box of
        // its own so that every branch keeps its place.
        DiagramCluster slot;
        slot.id = "cluster_" + part_id;
        slot.kind = ClusterKind::Slot;
        const Ends ends = op(n, r, part_id, title, slot, aux);
        into.clusters.push_back(std::move(slot));
        return ends;
      }
      case Arrangement::Chain: {
        if (children.size() == 1)
          return part(children[0], r.children[0], part_id + "." + children[0].name, title, into, aux, false);
        DiagramCluster branch;
        const bool boxed = as_branch && !children.empty();
        if (boxed) {
          branch.id = "cluster_" + part_id;
          branch.kind = ClusterKind::Branch;
          branch.title = title;
          branch.lines = lines_of({cost_text(r.cost.params, r.cost.macs, aux)});
        }
        DiagramCluster& target = boxed ? branch : into;
        Ends ends;
        for (std::size_t i = 0; i < children.size(); ++i) {
          const Ends e = part(children[i], r.children[i], part_id + "." + children[i].name, children[i].name, target,
                              aux, false);
          if (i == 0) ends.entries = e.entries;
          else connect(ends.exit, e);
          ends.exit = e.exit;
        }
        if (boxed) into.clusters.push_back(std::move(branch));
        return ends;
      }
      case Arrangement::Branches: {
        // The branches fan out from a point beside them. Besides reading well, it keeps them in the order of the
        // block's definition: dot orders nodes that take their input from outside a cluster by rules of its own,
        // and one entry has no order to lose.
        const std::string split = add_node(into, part_id + ".(split)", "", {}, NodeKind::Split, 0, aux);
        std::vector<std::string> exits, widths;
        for (std::size_t i = 0; i < children.size(); ++i) {
          const Ends e = part(children[i], r.children[i], part_id + "." + children[i].name, children[i].name, into,
                              aux, true);
          connect(split, e);
          exits.push_back(e.exit);
          widths.push_back(std::to_string(r.children[i].output.channels()));
        }
        const std::string join_node =
            add_node(into, part_id + ".(concat)", "concat",
                     {fmt::format("{} = {} ch", join(widths, "+"), r.output.channels()), r.output.str()},
                     NodeKind::Join, 0, aux);
        for (const std::string& e : exits) edge(e, join_node);
        return {{split}, join_node};
      }
      case Arrangement::Residual: {
        // The body boxed, the shortcut (a projection, boxed) or the identity on a residual edge beside it, and
        // the sum where they meet.
        const bool projected = children.size() > 1;
        const std::string split = add_node(into, part_id + ".(split)", "", {}, NodeKind::Split, 0, aux);
        const Ends body = part(children[0], r.children[0], part_id + "." + children[0].name, children[0].name, into,
                               aux, true);
        connect(split, body);
        const std::string sum = add_node(into, part_id + ".(add)", "add",
                                         {residual_sum_text(view_of(n), projected), r.output.str()}, NodeKind::Join,
                                         0, aux);
        edge(body.exit, sum);
        if (projected) {
          const Ends shortcut = part(children[1], r.children[1], part_id + "." + children[1].name, children[1].name,
                                     into, aux, true);
          connect(split, shortcut, EdgeKind::Residual);
          edge(shortcut.exit, sum, EdgeKind::Residual);
        } else {
          edge(split, sum, EdgeKind::Residual, "identity");
        }
        return {{split}, sum};
      }
    }
    return {};  // unreachable: every arrangement is handled above (-Werror=switch)
  }

  // A leaf op: one node, or at depth 3 its primitives (a conv unit's conv2d, batchnorm, relu) boxed together.
  Ends op(const Node& n, const NodeReport& r, const std::string& op_id, const std::string& title,
          DiagramCluster& into, bool aux, ClusterKind unit_kind = ClusterKind::Branch) {
    const std::string shape_line = shape_text(r);
    const std::vector<Primitive> primitives = depth_ >= 3 ? primitives_of(n, r) : std::vector<Primitive>{};
    if (primitives.size() <= 1) {
      const std::string node = add_node(into, op_id, title,
                                        lines_of({op_text(n, true), shape_line,
                                                  cost_text(r.cost.params, r.cost.macs, aux)}),
                                        NodeKind::Op, r.cost.macs, aux);
      return {{node}, node};
    }
    DiagramCluster unit;
    unit.id = "cluster_" + op_id;
    unit.kind = unit_kind;
    unit.title = title;
    unit.lines = {op_text(n, true)};
    Ends ends;
    for (const Primitive& p : primitives) {
      std::vector<std::string> lines;
      if (!p.detail.empty()) lines.push_back(p.detail);
      if (p.makes_output) lines.push_back(shape_line);
      if (const std::string cost = cost_text(p.params, p.macs, aux); !cost.empty()) lines.push_back(cost);
      const std::string node = add_node(unit, op_id + "." + p.op, p.op, std::move(lines), NodeKind::Op, p.macs, aux);
      if (ends.entries.empty()) ends.entries = {node};
      else edge(ends.exit, node);
      ends.exit = node;
    }
    into.clusters.push_back(std::move(unit));
    return ends;
  }

  Diagram& d_;
  HeatScale& heat_;
  int depth_;
  std::int64_t network_macs_;
  std::string prefix_;
};

const LayerSpec* find_layer(const ModelSpec& spec, const std::string& name, std::size_t* index) {
  for (std::size_t i = 0; i < spec.layers.size(); ++i)
    if (spec.layers[i].name == name) {
      *index = i;
      return &spec.layers[i];
    }
  return nullptr;
}

const AuxSpec* find_aux(const ModelSpec& spec, const std::string& name) {
  for (const AuxSpec& a : spec.aux)
    if (a.head.name == name) return &a;
  return nullptr;
}

// "pool1", "pool1, inception2", "pool1 … classifier (5 layers)": what a dotted edge leaves out.
std::string elided_text(const ModelSpec& spec, std::size_t from, std::size_t to) {
  std::vector<std::string> names;
  for (std::size_t i = from; i < to; ++i) names.push_back(spec.layers[i].name);
  if (names.size() <= 3) return join(names, ", ");
  return fmt::format("{} … {} ({} layers)", names.front(), names.back(), names.size());
}

std::string totals_text(const ModelSpec& spec) {
  const Cost c = spec.cost();
  return fmt::format("{} params · {} MACs", with_commas(c.params + spec.aux_cost().params),
                     human_count(static_cast<double>(c.macs)));
}

}  // namespace

Diagram network_diagram(const ModelSpec& spec, const std::string& caption, int depth, const std::string& id) {
  Diagram d;
  d.id = id;
  d.caption = caption;
  HeatScale heat;
  Builder b(d, heat, depth, spec.cost().macs, "");
  std::string previous = b.add_node(d.root, "(input)", "input", {spec.input.str()}, NodeKind::Input);
  std::map<std::string, std::string> exit_of;
  for (const LayerSpec& l : spec.layers) {
    const Ends e = b.layer(l, d.root, false);
    b.connect(previous, e);
    previous = exit_of[l.name] = e.exit;
  }
  b.edge(previous, b.add_node(d.root, "(output)", "output", {spec.output().str()}, NodeKind::Output));
  for (const AuxSpec& a : spec.aux) b.connect(exit_of.at(a.at), b.layer(a.head, d.root, true), EdgeKind::Aux);
  heat.apply(d);
  return d;
}

Diagram layers_side_by_side(const std::vector<LabelledModel>& models, const std::vector<std::string>& layers,
                            int depth, const std::string& caption, const std::string& id) {
  Diagram d;
  d.id = id;
  d.caption = caption;
  HeatScale heat;
  // Per drawn layer, the node in each column that starts it, so the columns line up layer by layer.
  std::vector<std::vector<std::string>> starts(layers.size());
  for (std::size_t m = 0; m < models.size(); ++m) {
    const ModelSpec& spec = *models[m].spec;
    DiagramCluster column;
    column.id = fmt::format("cluster_{}", m + 1);
    column.kind = ClusterKind::Network;
    column.title = models[m].label;
    column.lines = {totals_text(spec)};
    Builder b(d, heat, depth, spec.cost().macs, fmt::format("{}/", m + 1));
    std::string previous;
    std::optional<std::size_t> previous_index;
    for (std::size_t k = 0; k < layers.size(); ++k) {
      const std::string& name = layers[k];
      std::size_t index = 0;
      if (const LayerSpec* l = find_layer(spec, name, &index)) {
        // The layer's input, named after where it comes from: solid from the layer drawn just before it, dotted
        // (naming what was left out) from an earlier one.
        const std::string from = index == 0 ? "network input" : "from " + spec.layers[index - 1].name;
        const std::string input =
            b.add_node(column, b.id(name + ".(input)"), "input", {l->report.input.str(), from}, NodeKind::Input);
        if (previous_index && index == *previous_index + 1) b.edge(previous, input);
        else if (!previous.empty())
          b.edge(previous, input, EdgeKind::Elided, elided_text(spec, previous_index ? *previous_index + 1 : 0, index));
        const Ends e = b.layer(*l, column, false);
        b.connect(input, e);
        previous = e.exit;
        previous_index = index;
        starts[k].push_back(input);
      } else if (const AuxSpec* a = find_aux(spec, name)) {
        const std::string input = b.add_node(column, b.id(name + ".(input)"), "input",
                                             {a->head.report.input.str(), "output of " + a->at}, NodeKind::Input,
                                             0, true);
        b.connect(input, b.layer(a->head, column, true), EdgeKind::Aux);
        starts[k].push_back(input);
      } else {
        const std::string note = b.add_node(column, b.id(name + ".(absent)"), "",
                                            {fmt::format("no layer '{}' here", name)}, NodeKind::Note);
        if (!previous.empty()) b.edge(previous, note, EdgeKind::Elided);
        starts[k].push_back(note);
      }
    }
    d.root.clusters.push_back(std::move(column));
  }
  for (auto& level : starts)
    if (level.size() > 1) d.same_rank.push_back(std::move(level));
  heat.apply(d);
  return d;
}

}  // namespace incept
