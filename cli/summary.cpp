#include "cli/summary.h"

#include <fmt/format.h>

#include "framework/ir_view.h"
#include "framework/json.h"
#include "framework/text.h"
#include "framework/text_table.h"

namespace incept {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// The kernel has its own column. A node with children by its structure ("1x1 -> 3x3"), unless that takes more
// than a column should: then by its kind, as torchinfo names containers.
std::string type_of(const Node& n) {
  const std::string text = op_text(n, false);
  constexpr std::size_t kWidest = 40;
  if (text.size() <= kWidest) return text;
  const NodeView v = view_of(n);
  const std::size_t parts = children_of(n).size();
  switch (v.arrangement) {
    case Arrangement::Op: return text;
    case Arrangement::Chain: return fmt::format("sequence of {}", parts);
    case Arrangement::Branches: return fmt::format("concat of {} branches", parts);
    case Arrangement::Residual: return "residual: " + residual_sum_text(v, parts > 1);
  }
  return text;  // unreachable: every arrangement is handled above (-Werror=switch)
}

// Walks the IR and its analysis side by side (their children are in the same order), numbering rows per depth.
class RowCollector {
 public:
  RowCollector(int depth, std::vector<SummaryRow>& rows) : depth_(depth), rows_(rows) {}

  void add(const Node& n, const NodeReport& r, int level, std::string name, std::string type, bool aux) {
    const std::size_t depth = static_cast<std::size_t>(level) + 1;
    if (next_.size() < depth) next_.resize(depth, 1);
    SummaryRow row;
    row.level = level;
    row.depth_idx = fmt::format("{}-{}", depth, next_[depth - 1]++);
    row.name = std::move(name);
    row.type = std::move(type);
    row.kernel = window_text(view_of(n));
    row.report = &r;
    row.aux = aux;
    rows_.push_back(std::move(row));
    if (level + 1 >= depth_) return;
    const std::vector<Node>& children = children_of(n);
    for (std::size_t i = 0; i < children.size() && i < r.children.size(); ++i)
      add(children[i], r.children[i], level + 1, r.children[i].name, type_of(children[i]), aux);
  }

 private:
  int depth_;
  std::vector<SummaryRow>& rows_;
  std::vector<int> next_;  // per depth: the index of its next row
};

// torchinfo's tree: "├─" before a layer, "│    " per level above a row inside one, "└─" before it.
std::string tree_prefix(int level) {
  if (level == 0) return "├─";
  std::string out;
  for (int i = 0; i < level; ++i) out += "│    ";
  return out + "└─";
}

std::string share(std::int64_t part, std::int64_t total) {
  if (total <= 0 || part == 0) return "--";
  return fmt::format("{:.2f}%", 100.0 * static_cast<double>(part) / static_cast<double>(total));
}

void write_node_json(JsonWriter& w, const std::vector<SummaryRow>& rows, std::size_t& i) {
  const SummaryRow& row = rows[i];
  const NodeReport& r = *row.report;
  w.begin_object();
  w.key("name").value(r.name);
  w.key("block").value(row.type);
  w.key("depth_idx").value(row.depth_idx);
  w.key("kernel").value(row.kernel);
  w.key("input_shape").value(r.input.dims);
  w.key("output_shape").value(r.output.dims);
  w.key("params").value(r.cost.params);
  w.key("trainable_params").value(r.cost.params);
  w.key("macs").value(r.cost.macs);
  w.key("other_ops").value(r.cost.other_ops);
  ++i;
  if (i < rows.size() && rows[i].level > row.level) {
    w.key("children").begin_array();
    while (i < rows.size() && rows[i].level > row.level) write_node_json(w, rows, i);
    w.end_array();
  }
  w.end_object();
}

}  // namespace

std::vector<SummaryRow> summary_rows(const ModelSpec& spec, int depth) {
  std::vector<SummaryRow> rows;
  RowCollector collect(depth, rows);
  for (const auto& l : spec.layers) collect.add(l.ir, l.report, 0, l.name, l.block, false);
  for (const auto& a : spec.aux)
    collect.add(a.head.ir, a.head.report, 0, a.head.name,
                fmt::format("{} (aux at {}, weight {})", a.head.block, a.at, a.weight), true);
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
  const std::int64_t all_params = spec.cost().params + spec.aux_cost().params, macs = spec.cost().macs;
  TextTable table({"layer (depth-idx)", "block / op", "kernel", "input", "output", "params>", "params %>", "MACs>",
                   "MACs %>", "trainable"});
  for (const SummaryRow& row : summary_rows(spec, depth)) {
    const NodeReport& r = *row.report;
    table.add_row({fmt::format("{}{}: {}", tree_prefix(row.level), row.name, row.depth_idx), row.type,
                   row.kernel.empty() ? "--" : row.kernel, r.input.str(), r.output.str(), with_commas(r.cost.params),
                   share(r.cost.params, all_params), with_commas(r.cost.macs),
                   row.aux ? "aux" : share(r.cost.macs, macs), r.cost.params > 0 ? "yes" : "--"});
  }
  const std::string rows = table.str();
  out += rows;
  out += "kernel: kernel/stride. A row with rows below it counts them all. MACs % is of the inference MACs; aux "
         "heads run in training only.\n";
  out += std::string(rows.find('\n'), '-') + "\n";  // as wide as the header, which is plain ASCII
  Cost main = spec.cost(), aux = spec.aux_cost();
  std::int64_t params = main.params + aux.params;
  out += fmt::format("output shape:          {}\n", spec.output().str());
  out += fmt::format("params:                {}\n", with_commas(params));
  out += fmt::format("trainable params:      {}\n", with_commas(params));
  out += "non-trainable params:  0  (incept freezes no parameter; batch norm's running statistics are buffers)\n";
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
  const std::vector<SummaryRow> rows = summary_rows(spec, depth);
  w.key("layers").begin_array();
  for (std::size_t i = 0; i < rows.size() && !rows[i].aux;) write_node_json(w, rows, i);
  w.end_array();
  w.key("aux").begin_array();
  std::size_t i = 0;
  while (i < rows.size() && !rows[i].aux) ++i;
  for (const auto& a : spec.aux) {
    w.begin_object();
    w.key("name").value(a.head.name);
    w.key("block").value(a.head.block);
    w.key("at").value(a.at);
    w.key("weight").value(a.weight);
    w.key("depth_idx").value(rows[i].depth_idx);
    w.key("input_shape").value(a.head.report.input.dims);
    w.key("output_shape").value(a.head.report.output.dims);
    w.key("params").value(a.head.report.cost.params);
    w.key("macs").value(a.head.report.cost.macs);
    ++i;
    if (i < rows.size() && rows[i].level > 0) {
      w.key("children").begin_array();
      while (i < rows.size() && rows[i].level > 0) write_node_json(w, rows, i);
      w.end_array();
    }
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.str() + "\n";
}

}  // namespace incept
