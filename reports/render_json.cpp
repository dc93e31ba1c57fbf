#include "reports/render_json.h"

#include "framework/json.h"

namespace incept {

namespace {

void optional_number(JsonWriter& w, std::optional<double> v) {
  if (v) w.value(*v);
  else w.null();
}

void write_epochs(JsonWriter& w, const std::vector<EpochRecord>& epochs) {
  w.begin_array();
  for (const EpochRecord& e : epochs) {
    w.begin_object().key("epoch").value(e.epoch);
    w.key("train_loss").value(e.train_loss).key("train_acc").value(e.train_acc);
    w.key("test_loss").value(e.test_loss).key("test_acc").value(e.test_acc);
    w.key("lr").value(e.lr).key("seconds").value(e.seconds).key("images_per_s").value(e.images_per_s);
    w.end_object();
  }
  w.end_array();
}

void write_run(JsonWriter& w, const ReportRun& run) {
  const RunRecord& r = run.record;
  w.begin_object();
  w.key("id").value(r.id).key("uid").value(r.uid).key("name").value(r.name).key("seed").value(r.seed);
  w.key("status").value(to_string(r.status));
  w.key("error").value(r.error).key("reused").value(run.reuse_note);
  w.key("params").value(r.params).key("macs").value(r.macs);
  w.key("final_test_acc");
  optional_number(w, r.final_test_acc);
  w.key("best_test_acc");
  optional_number(w, r.best_test_acc);
  w.key("train_seconds").value(r.train_seconds);
  w.key("epochs_done").value(r.epochs_done).key("epochs_planned").value(r.epochs_planned);
  w.key("started_at").value(r.started_at).key("device").value(r.device).key("config_hash").value(r.config_hash);
  w.key("epochs");
  write_epochs(w, run.epochs);
  w.end_object();
}

void write_layers(JsonWriter& w, const std::vector<LayerRecord>& layers) {
  w.begin_array();
  for (const LayerRecord& l : layers) {
    w.begin_object().key("idx").value(l.idx).key("name").value(l.name).key("block").value(l.block);
    w.key("output_shape").value(l.output_shape).key("params").value(l.params).key("macs").value(l.macs);
    w.end_object();
  }
  w.end_array();
}

void write_variant(JsonWriter& w, const Report& report, std::size_t index) {
  const VariantSummary& v = report.variants[index];
  w.begin_object();
  w.key("label").value(v.label).key("sweep").value(v.sweep).key("variant").value(v.variant);
  w.key("baseline").value(index == report.baseline);
  w.key("settings").begin_object();
  for (std::size_t k = 0; k < report.setting_keys.size(); ++k) {
    w.key(report.setting_keys[k]);
    if (v.settings[k]) w.value(*v.settings[k]);
    else w.null();
  }
  w.end_object();
  w.key("params").value(v.params).key("macs").value(v.macs);
  w.key("test_acc").begin_object();
  w.key("mean").value(v.test_acc.mean).key("std").value(v.test_acc.std);
  w.key("n").value(static_cast<std::int64_t>(v.test_acc.n));
  w.key("min").value(v.test_acc.min).key("max").value(v.test_acc.max);
  w.end_object();
  w.key("delta_vs_baseline");
  optional_number(w, v.delta_vs_baseline);
  w.key("seconds_per_epoch").value(v.seconds_per_epoch).key("images_per_s").value(v.images_per_s);
  w.key("pareto_params").value(v.pareto_params).key("pareto_macs").value(v.pareto_macs);
  w.key("status_counts").begin_object();
  for (const std::string& s : ordered_statuses(v.status_counts)) w.key(s).value(v.status_counts.at(s));
  w.end_object();
  w.key("cell_errors").begin_array();
  for (const CellError& e : v.cell_errors) w.begin_object().key("seed").value(e.seed).key("error").value(e.error).end_object();
  w.end_array();
  w.key("curve").begin_array();
  for (const CurvePoint& p : v.curve) {
    w.begin_object().key("epoch").value(p.epoch).key("test_acc").value(p.test_acc);
    w.key("n").value(static_cast<std::int64_t>(p.n)).key("std").value(p.std).key("min").value(p.min);
    w.key("max").value(p.max).end_object();
  }
  w.end_array();
  w.key("layers");
  write_layers(w, v.layers);
  // What the report draws and compares branch by branch, and why it cannot when it cannot.
  w.key("differing_layers").begin_array();
  for (const std::string& name : v.differing_layers) w.value(name);
  w.end_array();
  w.key("model_note").value(v.model_note);
  w.key("runs").begin_array();
  for (const ReportRun& run : v.runs) write_run(w, run);
  w.end_array();
  w.end_object();
}

}  // namespace

std::string render_json(const Report& report) {
  JsonWriter w;
  w.begin_object();
  w.key("db").value(report.db_path).key("scope").value(report.scope);
  w.key("baseline").value(report.variants[report.baseline].label);
  w.key("setting_keys").begin_array();
  for (const std::string& k : report.setting_keys) w.value(k);
  w.end_array();
  // Keys that change together (equal values in every variant), as the tables show them: one column each.
  w.key("setting_groups").begin_array();
  for (const SettingGroup& g : report.setting_groups) {
    w.begin_object().key("title").value(g.title).key("keys").begin_array();
    for (std::size_t k : g.keys) w.value(report.setting_keys[k]);
    w.end_array().end_object();
  }
  w.end_array();
  w.key("variants").begin_array();
  for (std::size_t i = 0; i < report.variants.size(); ++i) write_variant(w, report, i);
  w.end_array();
  w.end_object();
  return w.str() + "\n";
}

}  // namespace incept
