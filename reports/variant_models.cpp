#include "reports/variant_models.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include "diagrams/layer_diff.h"
#include "experiments/config/experiment_config.h"
#include "framework/diagnostics.h"
#include "framework/text.h"

namespace incept {

namespace {

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// Whose config this is, for messages: the first run, or the declared cell when nothing ran.
std::string origin_of(const VariantSummary& v) {
  return v.runs.empty() ? "variant " + v.label : fmt::format("run {}", v.runs.front().record.id);
}

}  // namespace

void attach_models(std::vector<VariantSummary>& variants) {
  for (VariantSummary& v : variants) {
    if (v.config_toml.empty()) continue;
    const std::string origin = origin_of(v);
    try {
      ExperimentConfig cfg = resolve_experiment(toml::parse(v.config_toml, std::string_view(origin)), origin);
      v.model = std::make_shared<const ModelSpec>(std::move(cfg.model));
    } catch (const toml::parse_error& e) {
      v.model_note = fmt::format("the config of {} is not TOML ({}): no branches or diagram", origin, e.description());
      continue;
    } catch (const std::exception& e) {  // ConfigError: a block renamed or a key retired since the run
      v.model_note = fmt::format("the config of {} does not build with this incept ({}): no branches or diagram",
                                 origin, first_line(e.what()));
      continue;
    }
    const std::int64_t params = v.model->cost().params + v.model->aux_cost().params, macs = v.model->cost().macs;
    // Every run of the variant trained what its config built then; any that recorded other figures is named.
    std::vector<std::string> differing;
    std::int64_t recorded_params = v.params, recorded_macs = v.macs;
    for (const ReportRun& run : v.runs)
      if (run.record.params != params || run.record.macs != macs) {
        if (differing.empty()) {
          recorded_params = run.record.params;
          recorded_macs = run.record.macs;
        }
        differing.push_back(std::to_string(run.record.id));
      }
    const bool cell_differs = v.runs.empty() && (v.params || v.macs) && (params != v.params || macs != v.macs);
    if (differing.empty() && !cell_differs) continue;
    const std::string who = cell_differs ? "its sweep cell recorded (a block changed since the sweep was planned)"
                                         : fmt::format("run{} {} recorded (a block changed since)",
                                                       differing.size() == 1 ? "" : "s", join(differing, ", "));
    v.model_note = fmt::format("its config builds to {} params and {} MACs with this incept, against the {} and {} {}: "
                               "branches and diagram show today's network",
                               with_commas(params), with_commas(macs), with_commas(recorded_params),
                               with_commas(recorded_macs), who);
  }
}

void find_differing_layers(Report& report) {
  const VariantSummary& base = report.variants[report.baseline];
  for (std::size_t i = 0; i < report.variants.size(); ++i) {
    VariantSummary& v = report.variants[i];
    v.differing_layers.clear();
    if (i == report.baseline || !v.model || !base.model) continue;
    v.differing_layers = differing_layers(*base.model, *v.model);
  }
}

}  // namespace incept
