// Commands that look at a model without training it: summary, compare, blocks.
#include <fmt/format.h>

#include <iostream>

#include "blocks/builtin.h"
#include "cli/commands.h"
#include "cli/compare.h"
#include "cli/summary.h"
#include "experiments/config/experiment_config.h"
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

  struct CompareArgs {
    std::vector<std::string> configs;
    bool json = false;
    int depth = 2;
    std::vector<std::string> sets;
  };
  auto c = std::make_shared<CompareArgs>();
  CLI::App* compare = app.add_subcommand("compare", "totals and per-layer costs of several configs side by side");
  compare->add_option("configs", c->configs, "two or more config files")->required()->expected(2, -1);
  compare->add_flag("--json", c->json, "machine-readable output");
  compare->add_option("--depth", c->depth, "1: layers, 2: + branches (default), 3: + ops")->check(CLI::Range(1, 16));
  compare->add_option("--set", c->sets, "override applied to every config");
  compare->callback([c] {
    std::vector<NamedModel> models;
    for (const auto& path : c->configs) models.push_back({path, load_experiment(path, c->sets).model});
    std::cout << (c->json ? compare_json(models, c->depth) : compare_text(models, c->depth));
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
