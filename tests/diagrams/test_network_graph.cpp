// Networks drawn from their IR and rendered by Graphviz: the SVG is read back and its structure checked against
// the networks as the configs define them (clusters per block, one node per op, exact channel counts, order).
#include <functional>
#include <set>

#include <catch2/catch.hpp>

#include "diagrams/dot.h"
#include "diagrams/graphviz.h"
#include "diagrams/layer_diff.h"
#include "diagrams/network_graph.h"
#include "experiments/config/experiment_config.h"
#include "framework/ir_view.h"
#include "tests/diagrams/svg_probe.h"

using namespace incept;
using incept::testing::probe_svg;
using incept::testing::SvgProbe;
using Catch::Matchers::Contains;

namespace {

ExperimentConfig config(const std::string& relative, const std::vector<std::string>& sets = {}) {
  return load_experiment(std::string(INCEPT_SOURCE_DIR) + "/" + relative, sets);
}

SvgProbe draw(const ModelSpec& spec, int depth) {
  return probe_svg(render_graph(to_dot(network_diagram(spec, "test", depth)), "svg"));
}

// What one op node must say about its channels: "8→4 ch" (or "8 ch" when they do not change; shapes into a vector).
std::string channels_of(const NodeReport& r) {
  if (r.input.is_feature_map() && r.output.is_feature_map())
    return r.input.channels() == r.output.channels()
               ? std::to_string(r.output.channels()) + " ch"
               : std::to_string(r.input.channels()) + "→" + std::to_string(r.output.channels()) + " ch";
  return r.input.str() + "→" + r.output.str();
}

// Every leaf op below a layer, with its node id (the dotted path) and analysis.
void leaf_ops(const Node& n, const NodeReport& r, const std::string& path,
              std::vector<std::pair<std::string, const NodeReport*>>& out) {
  const std::vector<Node>& children = children_of(n);
  if (view_of(n).arrangement == Arrangement::Op) {
    out.push_back({path, &r});
    return;
  }
  for (std::size_t i = 0; i < children.size(); ++i)
    leaf_ops(children[i], r.children[i], path + "." + children[i].name, out);
}

// Checks the drawing of one IR node below a layer against the node itself; returns how many nodes it takes.
std::size_t check_drawn(const SvgProbe& svg, const Node& n, const NodeReport& r, const std::string& id) {
  INFO("at " << id);
  const std::vector<Node>& children = children_of(n);
  const NodeView v = view_of(n);
  std::size_t nodes = 0;
  switch (v.arrangement) {
    case Arrangement::Op:
      // One node per op, saying its exact channels and output shape.
      REQUIRE(svg.nodes.count(id) == 1);
      CHECK_THAT(svg.nodes.at(id).label(), Contains(channels_of(r)) && Contains(r.output.str()));
      return 1;
    case Arrangement::Chain:
      for (std::size_t i = 0; i < children.size(); ++i)
        nodes += check_drawn(svg, children[i], r.children[i], id + "." + children[i].name);
      return nodes;
    case Arrangement::Branches: {
      // Fanned out from a point, joined at a concatenation that names each branch's channels and their sum.
      REQUIRE(svg.nodes.count(id + ".(split)") == 1);
      REQUIRE(svg.nodes.count(id + ".(concat)") == 1);
      std::string sum;
      for (const NodeReport& b : r.children) sum += (sum.empty() ? "" : "+") + std::to_string(b.output.channels());
      CHECK_THAT(svg.nodes.at(id + ".(concat)").label(),
                 Contains(sum + " = " + std::to_string(r.output.channels()) + " ch"));
      // Branches stand left to right in the order the block defines them.
      double x = -1e9;
      for (std::size_t b = 0; b < children.size(); ++b) {
        std::vector<std::pair<std::string, const NodeReport*>> ops;
        leaf_ops(children[b], r.children[b], id + "." + children[b].name, ops);
        INFO("branch " << children[b].name);
        const double first = svg.nodes.at(ops.front().first).x;
        CHECK(first > x);
        x = first;
        nodes += check_drawn(svg, children[b], r.children[b], id + "." + children[b].name);
      }
      return nodes + 2;
    }
    case Arrangement::Residual: {
      // The sum, fed by the body and by the identity (or the projection) on residual edges.
      REQUIRE(svg.nodes.count(id + ".(split)") == 1);
      REQUIRE(svg.nodes.count(id + ".(add)") == 1);
      CHECK_THAT(svg.nodes.at(id + ".(add)").label(), Contains(residual_sum_text(v, children.size() > 1)));
      if (children.size() == 1) {
        const auto* identity = svg.edge(id + ".(split)", id + ".(add)");
        REQUIRE(identity);
        CHECK(identity->color == "#0072b2");
      }
      for (std::size_t i = 0; i < children.size(); ++i)
        nodes += check_drawn(svg, children[i], r.children[i], id + "." + children[i].name);
      return nodes + 2;
    }
  }
  return nodes;
}

// Seed 004's two networks, seed 000's GoogLeNet, torchvision's Inception-V3, and the residual family.
const std::vector<std::string> kDrawn = {"configs/mnist/naive.toml",          "configs/mnist/reduced.toml",
                                         "configs/seed/googlenet.toml",       "configs/imagenet/inception_v3.toml",
                                         "configs/imagenet/googlenet.toml",   "configs/imagenet/inception_resnet_v2.toml",
                                         "configs/imagenet/xception.toml"};

}  // namespace

TEST_CASE("depth 2 draws every block as a cluster with one node per branch op, labelled with its exact channels",
          "[diagrams][svg]") {
  for (const std::string& path : kDrawn) {
    INFO(path);
    const ExperimentConfig cfg = config(path);
    const SvgProbe svg = draw(cfg.model, 2);
    std::size_t blocks = 0, nodes = 2;  // input and output
    std::vector<const LayerSpec*> parts;
    for (const LayerSpec& l : cfg.model.layers) parts.push_back(&l);
    for (const AuxSpec& a : cfg.model.aux) parts.push_back(&a.head);
    for (const LayerSpec* l : parts) {
      INFO("layer " << l->name);
      if (view_of(l->ir).arrangement == Arrangement::Op) {
        // A one-op layer is one node, named after the layer.
        REQUIRE(svg.nodes.count(l->name) == 1);
        CHECK_THAT(svg.nodes.at(l->name).label(), Contains(channels_of(l->report)));
        ++nodes;
        continue;
      }
      ++blocks;
      CHECK(svg.has_visible_cluster("cluster_" + l->name));
      nodes += check_drawn(svg, l->ir, l->report, l->name);
    }
    CHECK(blocks > 0);
    std::size_t layer_clusters = 0;
    for (const std::string& c : svg.clusters)
      if (c.find('.') == std::string::npos && svg.has_visible_cluster(c)) ++layer_clusters;
    CHECK(layer_clusters == blocks);
    CHECK(svg.nodes.size() == nodes);
  }
}

TEST_CASE("the naive and the reduced block are drawn as seed 004 draws them", "[diagrams][svg]") {
  const SvgProbe naive = draw(config("configs/mnist/naive.toml").model, 2);
  const SvgProbe reduced = draw(config("configs/mnist/reduced.toml").model, 2);
  // inception2 takes 32 channels in both networks; out = 16.
  const std::set<std::string> naive_ops = {"inception2.branch1x1", "inception2.branch3x3", "inception2.branch5x5",
                                           "inception2.branch_pool", "inception2.(split)", "inception2.(concat)"};
  for (const std::string& id : naive_ops) CHECK(naive.nodes.count(id) == 1);
  CHECK_FALSE(naive.has_visible_cluster("cluster_inception2.branch3x3"));  // one op: no box drawn
  CHECK_THAT(naive.nodes.at("inception2.branch5x5").label(), Contains("conv 5x5/1 +relu") && Contains("32→16 ch"));
  CHECK_THAT(naive.nodes.at("inception2.branch_pool").label(), Contains("maxpool 3x3/1") && Contains("32 ch"));
  CHECK_THAT(naive.nodes.at("inception2.(concat)").label(), Contains("16+16+16+32 = 80 ch"));

  for (const char* id : {"inception2.branch3x3.reduce", "inception2.branch3x3.conv", "inception2.branch5x5.reduce",
                         "inception2.branch5x5.conv", "inception2.branch_pool.pool", "inception2.branch_pool.proj"})
    CHECK(reduced.nodes.count(id) == 1);
  CHECK(reduced.has_visible_cluster("cluster_inception2.branch5x5"));
  CHECK_THAT(reduced.nodes.at("inception2.branch5x5.reduce").label(), Contains("conv 1x1/1") && Contains("32→8 ch"));
  CHECK_THAT(reduced.nodes.at("inception2.branch5x5.conv").label(),
             Contains("conv 5x5/1 +relu") && Contains("8→16 ch"));
  CHECK_THAT(reduced.nodes.at("inception2.(concat)").label(), Contains("16+16+16+16 = 64 ch"));
  // The costliest op of the reduced network is its inception2 5x5 conv: filled darkest, with white text.
  CHECK_THAT(reduced.nodes.at("inception2.branch5x5.conv").label(), Contains("3,216 params"));
}

TEST_CASE("seed 000's GoogLeNet and Inception-V3 carry the paper's channel counts", "[diagrams][svg]") {
  const SvgProbe googlenet = draw(config("configs/seed/googlenet.toml").model, 2);
  CHECK_THAT(googlenet.nodes.at("inception3a.branch3x3.reduce").label(), Contains("192→96 ch"));
  CHECK_THAT(googlenet.nodes.at("inception3a.branch3x3.conv").label(), Contains("96→128 ch"));
  CHECK_THAT(googlenet.nodes.at("inception3a.(concat)").label(), Contains("64+128+32+32 = 256 ch"));
  const SvgProbe v3 = draw(config("configs/imagenet/inception_v3.toml").model, 2);
  CHECK_THAT(v3.nodes.at("Mixed_6b.branch7x7.conv_1xn").label(), Contains("conv 1x7/1") && Contains("128 ch"));
  CHECK_THAT(v3.nodes.at("Mixed_7b.branch3x3.split.(concat)").label(), Contains("384+384 = 768 ch"));
  CHECK_THAT(v3.nodes.at("Mixed_7b.(concat)").label(), Contains("320+768+768+192 = 2048 ch"));
  CHECK(v3.has_cluster("cluster_Mixed_7b.branch3x3dbl"));
  // The aux head hangs off the layer it reads, dashed: it runs in training only.
  CHECK(v3.has_cluster("cluster_AuxLogits"));
  const auto* aux = v3.edge("Mixed_6e.(concat)", "AuxLogits.pool");
  REQUIRE(aux);
  CHECK(aux->dashed);
}

TEST_CASE("depth 1 draws the layer chain, depth 3 every primitive", "[diagrams][svg]") {
  const ExperimentConfig cfg = config("configs/imagenet/googlenet.toml");
  const SvgProbe layers = draw(cfg.model, 1);
  CHECK(layers.clusters.empty());
  CHECK(layers.nodes.size() == cfg.model.layers.size() + cfg.model.aux.size() + 2);
  CHECK_THAT(layers.nodes.at("inception3a").label(), Contains("inception_v1") && Contains("192→256 ch") &&
                                                         Contains("256x28x28"));
  CHECK(layers.has_edge("inception3a", "inception3b"));
  REQUIRE(layers.edge("inception4a", "aux1"));
  CHECK(layers.edge("inception4a", "aux1")->dashed);

  const SvgProbe primitives = draw(cfg.model, 3);
  // torchvision's GoogLeNet: conv units with batch norm. Each becomes conv2d -> batchnorm -> relu in a box.
  CHECK(primitives.has_cluster("cluster_inception3a.branch3x3.reduce"));
  for (const char* p : {"conv2d", "batchnorm", "relu"})
    CHECK(primitives.nodes.count(std::string("inception3a.branch3x3.reduce.") + p) == 1);
  CHECK(primitives.has_edge("inception3a.branch3x3.reduce.conv2d", "inception3a.branch3x3.reduce.batchnorm"));
  CHECK_THAT(primitives.nodes.at("inception3a.branch3x3.reduce.batchnorm").label(), Contains("192 params"));
}

TEST_CASE("residual connections are drawn as such: identity or projection into the sum", "[diagrams][svg]") {
  const ExperimentConfig resnet = config("configs/imagenet/inception_resnet_v2.toml");
  const SvgProbe svg = draw(resnet.model, 2);
  // Inception-ResNet-A: x + 0.17 × proj(concat(branches)), then ReLU; the identity on its own edge.
  CHECK_THAT(svg.nodes.at("block35_1.(add)").label(), Contains("x + 0.17 × body, relu") && Contains("320x35x35"));
  REQUIRE(svg.edge("block35_1.(split)", "block35_1.(add)"));
  CHECK(svg.edge("block35_1.(split)", "block35_1.(add)")->color == "#0072b2");
  CHECK(svg.has_edge("block35_1.body.proj", "block35_1.(add)"));
  CHECK_THAT(svg.nodes.at("block35_1.body.branches.(concat)").label(), Contains("32+32+64 = 128 ch"));
  CHECK_THAT(svg.nodes.at("block35_1.body.proj").label(), Contains("128→320 ch"));

  // Xception's entry flow: a strided 1x1 projection on the shortcut, on residual edges too.
  const SvgProbe xception = draw(config("configs/imagenet/xception.toml").model, 3);
  REQUIRE(xception.edge("block1.(split)", "block1.skip.conv2d"));
  CHECK(xception.edge("block1.(split)", "block1.skip.conv2d")->color == "#0072b2");
  CHECK_THAT(xception.nodes.at("block1.(add)").label(), Contains("shortcut + body"));
  // At depth 3 a separable conv is its depthwise and its pointwise halves.
  CHECK_THAT(xception.nodes.at("block1.rep.sepconv_1.depthwise_conv2d").label(), Contains("groups 64"));
  CHECK_THAT(xception.nodes.at("block1.rep.sepconv_1.pointwise_conv2d").label(), Contains("64→128 ch"));
  CHECK(xception.has_edge("block1.rep.sepconv_1.depthwise_conv2d", "block1.rep.sepconv_1.pointwise_conv2d"));
}

TEST_CASE("a primitive's parameters and MACs add up to its op's, for every op of every config", "[diagrams][ir]") {
  for (const char* path : {"configs/mnist/reduced.toml", "configs/imagenet/googlenet.toml",
                           "configs/imagenet/inception_v3.toml", "configs/seed/inception_v3_1_block.toml",
                           "configs/imagenet/xception.toml", "configs/imagenet/inception_resnet_v2.toml"}) {
    const ExperimentConfig cfg = config(path);
    std::function<void(const Node&, const NodeReport&)> check = [&](const Node& n, const NodeReport& r) {
      if (view_of(n).arrangement == Arrangement::Op) {
        std::int64_t params = 0, macs = 0;
        for (const Primitive& p : primitives_of(n, r)) {
          params += p.params;
          macs += p.macs;
        }
        INFO(path << " " << r.name);
        CHECK(params == r.cost.params);
        CHECK(macs == r.cost.macs);
        return;
      }
      for (std::size_t i = 0; i < n.children.size(); ++i) check(n.children[i], r.children[i]);
    };
    for (const LayerSpec& l : cfg.model.layers) check(l.ir, l.report);
    for (const AuxSpec& a : cfg.model.aux) check(a.head.ir, a.head.report);
  }
}

TEST_CASE("layers differ when they are configured differently, not when only their input changed",
          "[diagrams][diff]") {
  const ModelSpec reduced = config("configs/mnist/reduced.toml").model;
  CHECK(differing_layers(reduced, config("configs/mnist/reduced.toml").model).empty());
  CHECK(differing_layers(reduced, config("configs/mnist/naive.toml").model) ==
        std::vector<std::string>{"inception1", "inception2", "inception3"});
  // inception3's input grows with inception2.out, but inception3 is configured as before.
  CHECK(differing_layers(reduced, config("configs/mnist/reduced.toml", {"model.inception2.out=32"}).model) ==
        std::vector<std::string>{"inception2"});
  // Block defaults count: a ratio for every reduced block changes all three.
  CHECK(differing_layers(reduced,
                         config("configs/mnist/reduced.toml", {"model.defaults.inception_reduced.ratio=0.25"}).model)
            .size() == 3);
  // Aux heads: moved to another layer, or present on one side only.
  const ModelSpec googlenet = config("configs/imagenet/googlenet.toml").model;
  CHECK(differing_layers(googlenet, config("configs/imagenet/googlenet.toml", {"model.aux1.at=inception4b"}).model) ==
        std::vector<std::string>{"aux1"});
  // The loss weight changes training, not the network.
  CHECK(differing_layers(googlenet, config("configs/imagenet/googlenet.toml", {"model.aux1.weight=0.5"}).model)
            .empty());
}

TEST_CASE("networks drawn side by side show the differing layers, level with each other", "[diagrams][svg]") {
  const ModelSpec reduced = config("configs/mnist/reduced.toml").model;
  const ModelSpec naive = config("configs/mnist/naive.toml").model;
  const std::vector<std::string> layers = differing_layers({&reduced, &naive});
  const SvgProbe svg = probe_svg(render_graph(
      to_dot(layers_side_by_side({{"[1] reduced", &reduced}, {"[2] naive", &naive}}, layers, 2, "test")), "svg"));
  CHECK(svg.has_cluster("cluster_1"));
  CHECK(svg.has_cluster("cluster_2"));
  CHECK(svg.has_cluster("cluster_1/inception2"));
  CHECK(svg.has_cluster("cluster_2/inception2"));
  CHECK(svg.nodes.count("1/stem") == 0);  // configured alike: left out
  CHECK(svg.nodes.count("1/inception1.branch3x3.reduce") == 1);
  CHECK(svg.nodes.count("2/inception1.branch3x3") == 1);
  CHECK_THAT(svg.nodes.at("2/inception3.(concat)").label(), Contains("16+16+16+80 = 128 ch"));
  // Each drawn layer starts level in both columns; left out in between: pool1, on a dotted edge.
  for (const std::string& l : layers)
    CHECK(svg.nodes.at("1/" + l + ".(input)").y == Approx(svg.nodes.at("2/" + l + ".(input)").y));
  CHECK(svg.nodes.at("1/inception1.(input)").x < svg.nodes.at("2/inception1.(input)").x);
  REQUIRE(svg.edge("1/inception1.(concat)", "1/inception2.(input)"));
  CHECK(svg.edge("1/inception1.(concat)", "1/inception2.(input)")->dashed);
  CHECK_THAT(svg.nodes.at("2/inception2.(input)").label(), Contains("from pool1") && Contains("32x13x13"));
}

TEST_CASE("names that are not plain words survive DOT and SVG", "[diagrams][svg]") {
  const toml::table root = toml::parse(R"(
[model]
input = [3, 8, 8]
[[model.layers]]
name = "a \"quoted\" <b> & \\ name"
block = "inception_reduced"
out = 4
)");
  const ExperimentConfig cfg = resolve_experiment(root, "odd.toml");
  const SvgProbe svg = draw(cfg.model, 2);
  // Ids keep the name, a backslash doubled (DOT reads \" as a quote, so a lone one could end the string).
  const std::string id = "a \"quoted\" <b> & \\\\ name";
  CHECK(svg.has_visible_cluster("cluster_" + id));
  CHECK(svg.nodes.count(id + ".branch1x1") == 1);
  CHECK(svg.nodes.count(id + ".branch3x3.reduce") == 1);
}

TEST_CASE("graph formats: svg, png and pdf from Graphviz, dot as written, anything else refused", "[diagrams]") {
  const std::string dot = to_dot(network_diagram(config("configs/mnist/reduced.toml").model, "t", 1));
  CHECK_THAT(render_graph(dot, "svg"), Contains("<svg"));
  CHECK(render_graph(dot, "png").compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  CHECK(render_graph(dot, "pdf").compare(0, 5, "%PDF-") == 0);
  CHECK(render_graph(dot, "dot") == dot);
  CHECK_THROWS_WITH(render_graph(dot, "gif"), Contains("unknown graph format 'gif'") && Contains("svg, png, pdf, dot"));
  CHECK(format_of_path("out/net.SVG") == "svg");
  CHECK(format_of_path("net.gv") == "dot");
  CHECK(format_of_path("net.jpeg").empty());
  CHECK(format_of_path("dir.svg/net").empty());
}

TEST_CASE("the heat scale runs from white through eight steps of OrRd", "[diagrams]") {
  CHECK(std::string(heat_color(0)) == "#ffffff");
  CHECK(std::string(heat_color(0.01)) == "#fee8c8");
  CHECK(std::string(heat_color(1)) == "#7f0000");
  CHECK_FALSE(heat_is_dark(0.5));
  CHECK(heat_is_dark(1));
}
