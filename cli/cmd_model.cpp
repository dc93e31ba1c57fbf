// Commands that look at a model without training it: summary, graph, compare, blocks.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "blocks/builtin.h"
#include "cli/commands.h"
#include "cli/option_checks.h"
#include "cli/compare.h"
#include "cli/graph_output.h"
#include "cli/summary.h"
#include "diagrams/graphviz.h"
#include "diagrams/layer_diff.h"
#include "diagrams/network_graph.h"
#include "experiments/config/experiment_config.h"
#include "framework/diagnostics.h"
#include "framework/registry.h"
#include "framework/text.h"
#include "platform/memory_limit.h"

namespace incept {

namespace {

std::string blocks_overview(const BlockRegistry& registry) {
  std::string out = "Registered blocks (incept blocks NAME for parameters):\n\n";
  for (const auto& [name, def] : registry.all())
    out += fmt::format("  {:<26} {}{}\n", name, def.summary, def.role == BlockRole::AuxHead ? "  [aux head]" : "");
  return out;
}

std::string block_doc(const BlockDef& def) {
  std::string out = fmt::format("{}: {}\n\n{}\n\nparameters:\n", def.name, def.summary, def.details);
  const std::vector<ParamDoc> params = all_params(def);
  if (params.empty()) out += "  (none)\n";
  out += fmt::format("  {:<24} {:<14} {:<12} {}\n", "name", "type", "default", "meaning");
  for (const auto& p : params) {
    std::string type = param_type_name(p.type);
    if (!p.choices.empty()) type = join(p.choices, "|");
    out += fmt::format("  {:<24} {:<14} {:<12} {}\n", p.name, type, p.required() ? "(required)" : p.default_text,
                       p.meaning);
  }
  if (def.role == BlockRole::AuxHead)
    out += "\nattach with:\n  [[model.aux]]\n  name = \"aux1\"\n  block = \"" + def.name +
           "\"\n  at = \"<layer name>\"\n  weight = 0.3\n";
  return out;
}

}  // namespace

void add_model_commands(CLI::App& app) {
  struct SummaryArgs {
    std::string config;
    bool json = false;
    int depth = 1;
    std::vector<std::string> sets;
  };
  auto s = std::make_shared<SummaryArgs>();
  CLI::App* summary = app.add_subcommand("summary", "per-layer output shapes, params and MACs of a config");
  summary->add_option("config", s->config, "config file (TOML)")->required();
  summary->add_flag("--json", s->json, "machine-readable output");
  summary->add_option("--depth", s->depth, "1: layers, 2: + branches, 3: + ops inside branches")
      ->check(CLI::Range(1, 16));
  summary->add_option("--set", s->sets, "override a config value, e.g. --set model.inception1.out=16");
  summary->callback([s] {
    ExperimentConfig cfg = load_experiment(s->config, s->sets);
    std::cout << (s->json ? summary_json(cfg.model, s->config, s->depth)
                          : summary_text(cfg.model, s->config, s->depth));
    // Describing a model that cannot be trained here is fine; saying nothing about it is not.
    const double params = static_cast<double>(cfg.model.cost().params + cfg.model.aux_cost().params);
    const std::string shortfall =
        memory_shortfall(params * sizeof(float), fmt::format("the model's float32 weights ({:.0f} parameters)", params));
    if (!shortfall.empty()) std::cerr << "warning: " << shortfall << ": `incept train` will refuse it\n";
  });

  struct GraphArgs {
    std::string config;
    int depth = 2;
    GraphOutput output;
    std::vector<std::string> sets;
  };
  auto g = std::make_shared<GraphArgs>();
  CLI::App* graph = app.add_subcommand("graph", "draw a config's network with Graphviz (svg, png, pdf or dot)");
  graph->add_option("config", g->config, "config file (TOML)")->required();
  graph->add_option("--depth", g->depth, "1: layers, 2: + the ops of each block (default), 3: + every primitive")
      ->check(CLI::Range(1, 3));
  graph->add_option("--format", g->output.format, "svg, png, pdf or dot (default: from -o's extension, else svg)")
      ->check(CLI::IsMember(graph_formats()));
  graph->add_option("-o,--output", g->output.path, "write to this file (default: stdout, text formats only)")
      ->check(non_empty());
  graph->add_option("--set", g->sets, "override a config value, e.g. --set model.inception1.out=16");
  graph->callback([g] {
    const ExperimentConfig cfg = load_experiment(g->config, g->sets);
    const Cost c = cfg.model.cost();
    const std::string caption =
        fmt::format("{} ({}): {} params, {} MACs; fill: MACs against the costliest op drawn", cfg.name, g->config,
                    with_commas(c.params + cfg.model.aux_cost().params), human_count(static_cast<double>(c.macs)));
    const std::string format = write_graph(network_diagram(cfg.model, caption, g->depth), g->output);
    if (!g->output.path.empty() && g->output.path != "-")
      std::cout << fmt::format("wrote {} ({}, depth {})\n", g->output.path, format, g->depth);
  });

  struct CompareArgs {
    std::vector<std::string> configs;
    bool json = false;
    int depth = 2;
    std::vector<std::string> sets;
    bool graph = false;
    GraphOutput output;
  };
  auto c = std::make_shared<CompareArgs>();
  CLI::App* compare = app.add_subcommand("compare", "totals and per-layer costs of several configs side by side");
  compare->add_option("configs", c->configs, "two or more config files")->required()->expected(2, -1);
  compare->add_flag("--json", c->json, "machine-readable output");
  compare->add_option("--depth", c->depth, "1: layers, 2: + branches (default), 3: + ops")->check(CLI::Range(1, 16));
  compare->add_option("--set", c->sets, "override applied to every config");
  CLI::Option* graph_flag = compare->add_flag(
      "--graph", c->graph, "draw the layers that differ from the first config, side by side, instead of the tables");
  compare->add_option("--format", c->output.format, "with --graph: svg, png, pdf or dot (default: from -o, else svg)")
      ->check(CLI::IsMember(graph_formats()))
      ->needs(graph_flag);
  compare->add_option("-o,--output", c->output.path, "with --graph: write to this file (default: stdout)")
      ->check(non_empty())
      ->needs(graph_flag);
  compare->callback([c] {
    std::vector<NamedModel> models;
    for (const auto& path : c->configs) models.push_back({path, load_experiment(path, c->sets).model});
    if (!c->graph) {
      std::cout << (c->json ? compare_json(models, c->depth) : compare_text(models, c->depth));
      return;
    }
    if (c->json) throw UserError("--json and --graph ask for two different outputs: choose one");
    std::vector<const ModelSpec*> specs;
    std::vector<LabelledModel> columns;
    for (std::size_t m = 0; m < models.size(); ++m) {
      specs.push_back(&models[m].spec);
      columns.push_back({fmt::format("[{}] {}", m + 1, models[m].label), &models[m].spec});
    }
    const std::vector<std::string> layers = differing_layers(specs);
    if (layers.empty())
      throw UserError(fmt::format("the networks of {} are configured alike: no layer to draw side by side (incept "
                                  "graph draws one network)",
                                  join(c->configs, ", ")));
    const std::string caption = fmt::format("Layers configured differently from [1]: {}. Fill: MACs against the "
                                            "costliest op drawn, in any column.",
                                            join(layers, ", "));
    const int depth = std::min(c->depth, 3);
    const std::string format = write_graph(layers_side_by_side(columns, layers, depth, caption), c->output);
    if (!c->output.path.empty() && c->output.path != "-")
      std::cout << fmt::format("wrote {} ({}, depth {}): {} differ{}\n", c->output.path, format, depth,
                               join(layers, ", "), layers.size() == 1 ? "s" : "");
  });

  auto name = std::make_shared<std::string>();
  CLI::App* blocks = app.add_subcommand("blocks", "list the registered blocks, or document one");
  blocks->add_option("name", *name, "block to document");
  blocks->callback([name] {
    const BlockRegistry& registry = builtin_registry();
    if (name->empty()) {
      std::cout << blocks_overview(registry);
      return;
    }
    std::cout << block_doc(registry.get(*name, SourcePos{"incept blocks"}));
  });
}

}  // namespace incept
