#include "cli/summary.h"

#include <fmt/format.h>

#include "framework/json.h"
#include "framework/text.h"

namespace incept {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

void collect(const NodeReport& r, int level, int depth, std::vector<SummaryRow>& rows) {
  rows.push_back({level, r.name, &r});
  if (level + 1 >= depth) return;
  for (const auto& c : r.children) collect(c, level + 1, depth, rows);
}

// A block whose IR root is an anonymous container: show its branches directly under the layer.
const std::vector<NodeReport>& branches_of(const NodeReport& layer) { return layer.children; }

void write_node_json(JsonWriter& w, const NodeReport& r, const std::string& block, int level, int depth) {
  w.begin_object();
  w.key("name").value(r.name);
  w.key("block").value(block);
  w.key("output_shape").value(r.output.dims);
  w.key("params").value(r.cost.params);
  w.key("macs").value(r.cost.macs);
  w.key("other_ops").value(r.cost.other_ops);
  if (level + 1 < depth && !r.children.empty()) {
    w.key("children").begin_array();
    for (const auto& c : branches_of(r)) write_node_json(w, c, c.what, level + 1, depth);
    w.end_array();
  }
  w.end_object();
}

}  // namespace

std::vector<SummaryRow> summary_rows(const ModelSpec& spec, int depth) {
  std::vector<SummaryRow> rows;
  for (const auto& l : spec.layers) collect(l.report, 0, depth, rows);
  return rows;
}

MemoryEstimate estimate_memory(const ModelSpec& spec) {
  MemoryEstimate m;
  std::int64_t params = spec.cost().params + spec.aux_cost().params;
  m.input_mb = static_cast<double>(spec.input.numel()) * 4 / kMiB;
  // Forward activations are kept for backward: torchsummary doubles them for the gradients.
  m.forward_backward_mb = 2.0 * static_cast<double>(spec.activation_elems()) * 4 / kMiB;
  m.params_mb = static_cast<double>(params) * 4 / kMiB;
  m.total_mb = m.input_mb + m.forward_backward_mb + m.params_mb;
  return m;
}

std::string summary_text(const ModelSpec& spec, const std::string& title, int depth) {
  std::string out = fmt::format("{}  (input {})\n\n", title, spec.input.str());
  out += fmt::format("{:<34} {:<26} {:>14} {:>12} {:>16}\n", "layer", "block", "output", "params", "MACs");
  out += std::string(106, '-') + "\n";
  auto row = [&](const std::string& name, const std::string& block, const NodeReport& r) {
    out += fmt::format("{:<34} {:<26} {:>14} {:>12} {:>16}\n", name, block, r.output.str(),
                       with_commas(r.cost.params), with_commas(r.cost.macs));
  };
  for (const auto& layer : spec.layers) {
    std::vector<SummaryRow> rows;
    collect(layer.report, 0, depth, rows);
    for (const auto& r : rows) {
      std::string indent(static_cast<std::size_t>(r.level) * 2, ' ');
      row(indent + r.name, r.level == 0 ? layer.block : r.report->what, *r.report);
    }
  }
  for (const auto& a : spec.aux)
    row(fmt::format("{} (aux @ {}, w={})", a.head.name, a.at, a.weight), a.head.block, a.head.report);
  out += std::string(106, '-') + "\n";
  Cost main = spec.cost(), aux = spec.aux_cost();
  std::int64_t params = main.params + aux.params;
  out += fmt::format("output shape:          {}\n", spec.output().str());
  out += fmt::format("params:                {}\n", with_commas(params));
  out += fmt::format("trainable params:      {}\n", with_commas(params));
  if (!spec.aux.empty()) out += fmt::format("  of which aux heads:   {}\n", with_commas(aux.params));
  out += fmt::format("MACs (inference):      {}  ({})\n", with_commas(main.macs), human_count(main.macs));
  out += fmt::format("FLOPs = 2 x MACs:      {}  ({})\n", with_commas(2 * main.macs), human_count(2.0 * main.macs));
  if (!spec.aux.empty()) out += fmt::format("aux MACs (training):   {}\n", with_commas(aux.macs));
  out += fmt::format("other ops:             {}  (bias, batch norm, ReLU, pooling, residual adds; not in MACs)\n",
                     with_commas(main.other_ops));
  MemoryEstimate m = estimate_memory(spec);
  out += "\nmemory estimate (float32, batch 1):\n";
  out += fmt::format("  input size (MB):                {:.2f}\n", m.input_mb);
  out += fmt::format("  forward/backward pass size (MB): {:.2f}\n", m.forward_backward_mb);
  out += fmt::format("  params size (MB):               {:.2f}\n", m.params_mb);
  out += fmt::format("  estimated total size (MB):      {:.2f}\n", m.total_mb);
  return out;
}

std::string summary_json(const ModelSpec& spec, const std::string& title, int depth) {
  Cost main = spec.cost(), aux = spec.aux_cost();
  MemoryEstimate m = estimate_memory(spec);
  JsonWriter w;
  w.begin_object();
  w.key("config").value(title);
  w.key("input_shape").value(spec.input.dims);
  w.key("output_shape").value(spec.output().dims);
  w.key("params").value(main.params + aux.params);
  w.key("trainable_params").value(main.params + aux.params);
  w.key("aux_params").value(aux.params);
  w.key("macs").value(main.macs);
  w.key("flops").value(2 * main.macs);
  w.key("aux_macs").value(aux.macs);
  w.key("other_ops").value(main.other_ops);
  w.key("memory_mb").begin_object();
  w.key("input").value(m.input_mb);
  w.key("forward_backward").value(m.forward_backward_mb);
  w.key("params").value(m.params_mb);
  w.key("total").value(m.total_mb);
  w.end_object();
  w.key("layers").begin_array();
  for (const auto& l : spec.layers) write_node_json(w, l.report, l.block, 0, depth);
  w.end_array();
  w.key("aux").begin_array();
  for (const auto& a : spec.aux) {
    w.begin_object();
    w.key("name").value(a.head.name);
    w.key("block").value(a.head.block);
    w.key("at").value(a.at);
    w.key("weight").value(a.weight);
    w.key("output_shape").value(a.head.report.output.dims);
    w.key("params").value(a.head.report.cost.params);
    w.key("macs").value(a.head.report.cost.macs);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.str() + "\n";
}

}  // namespace incept
