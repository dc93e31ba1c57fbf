#include "cli/cmd_runs.h"
#include "cli/option_checks.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "experiments/store/run_store.h"
#include "framework/diagnostics.h"
#include "framework/json.h"
#include "framework/text.h"
#include "framework/text_table.h"

namespace incept {
namespace {

// ---- formatting helpers ---------------------------------------------------------------------------------

// Accuracies are stored as fractions and shown as percentages.
std::string percent(std::optional<double> fraction) {
  if (!fraction || std::isnan(*fraction)) return "-";
  return fmt::format("{:.2f}", *fraction * 100);
}

std::string fixed(double v, int decimals) {
  if (std::isnan(v)) return "nan";
  return fmt::format("{:.{}f}", v, decimals);
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

std::string epochs_progress(const RunRecord& r) {
  if (r.epochs_planned <= 0) return std::to_string(r.epochs_done);
  return fmt::format("{}/{}", r.epochs_done, r.epochs_planned);
}

// ---- database access ------------------------------------------------------------------------------------

// Reports must not conjure an empty database out of a typo in --db.
void require_database(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw UserError(fmt::format("no database at {}", path));
}

RunStore open_for_report(const std::string& path) { return RunStore::open_for_reading(path, std::cerr); }

// ---- JSON -----------------------------------------------------------------------------------------------

void optional_value(JsonWriter& w, std::optional<double> v) {
  if (v) w.value(*v);
  else w.null();
}

// Every RunRecord field; keys match the struct so scripts can rely on them.
void write_run_fields(JsonWriter& w, const RunRecord& r) {
  w.key("id").value(r.id).key("uid").value(r.uid).key("name").value(r.name).key("status").value(to_string(r.status));
  w.key("sweep").value(r.sweep).key("variant").value(r.variant);
  w.key("config_hash").value(r.config_hash).key("experiment_hash").value(r.experiment_hash);
  w.key("config_toml").value(r.config_toml);
  w.key("device").value(r.device).key("torch_version").value(r.torch_version);
  w.key("seed").value(r.seed).key("params").value(r.params).key("macs").value(r.macs);
  w.key("final_test_acc");
  optional_value(w, r.final_test_acc);
  w.key("best_test_acc");
  optional_value(w, r.best_test_acc);
  w.key("train_seconds").value(r.train_seconds);
  w.key("epochs_planned").value(r.epochs_planned).key("epochs_done").value(r.epochs_done);
  w.key("trained_with").value(r.trained_with);
  w.key("packed_with").value(r.packed_with).key("pack_size").value(r.pack_size).key("cuda_graph").value(r.cuda_graph);
  w.key("started_at").value(r.started_at).key("finished_at").value(r.finished_at);
  w.key("heartbeat_at").value(r.heartbeat_at).key("claimed_at").value(r.claimed_at);
  w.key("error").value(r.error).key("checkpoint_path").value(r.checkpoint.path);
  w.key("checkpoint_epoch").value(r.checkpoint.epochs_done).key("checkpoint_batch").value(r.checkpoint.next_batch);
  w.key("checkpoint_md5").value(r.checkpoint.md5);
  w.key("pid").value(r.pid).key("host").value(r.host).key("process_start").value(r.process_start);
}

std::string runs_json(const std::vector<RunRecord>& runs) {
  JsonWriter w;
  w.begin_array();
  for (const RunRecord& r : runs) {
    w.begin_object();
    write_run_fields(w, r);
    w.end_object();
  }
  w.end_array();
  return w.str() + "\n";
}

std::string show_json(const RunRecord& r, const std::vector<EpochRecord>& epochs,
                      const std::vector<LayerRecord>& layers) {
  JsonWriter w;
  w.begin_object();
  write_run_fields(w, r);
  w.key("epochs").begin_array();
  for (const EpochRecord& e : epochs) {
    w.begin_object().key("epoch").value(e.epoch);
    w.key("train_loss").value(e.train_loss).key("train_acc").value(e.train_acc);
    w.key("test_loss").value(e.test_loss).key("test_acc").value(e.test_acc);
    w.key("lr").value(e.lr).key("seconds").value(e.seconds).key("images_per_s").value(e.images_per_s);
    w.end_object();
  }
  w.end_array();
  w.key("layers").begin_array();
  for (const LayerRecord& l : layers) {
    w.begin_object().key("idx").value(l.idx).key("name").value(l.name).key("block").value(l.block);
    w.key("output_shape").value(l.output_shape).key("params").value(l.params).key("macs").value(l.macs);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.str() + "\n";
}

// ---- text -----------------------------------------------------------------------------------------------

std::string runs_table(const std::vector<RunRecord>& runs) {
  if (runs.empty()) return "no runs\n";
  // Runs of a sweep share the base config's name: the variant and the seed tell them apart.
  const bool any_variant =
      std::any_of(runs.begin(), runs.end(), [](const RunRecord& r) { return !r.variant.empty(); });
  std::vector<std::string> headers = {"id>", "name"};
  if (any_variant) headers.push_back("variant");
  headers.insert(headers.end(),
                 {"seed>", "status", "params>", "MACs>", "best %>", "final %>", "epochs>", "train s>", "started"});
  TextTable t(headers);
  for (const RunRecord& r : runs) {
    std::vector<std::string> cells = {std::to_string(r.id), r.name};
    if (any_variant) cells.push_back(or_dash(r.variant));
    cells.insert(cells.end(), {std::to_string(r.seed), to_string(r.status), human_count(static_cast<double>(r.params)),
                               human_count(static_cast<double>(r.macs)), percent(r.best_test_acc),
                               percent(r.final_test_acc), epochs_progress(r), fixed(r.train_seconds, 1), r.started_at});
    t.add_row(std::move(cells));
  }
  return t.str();
}

std::string run_fields_text(const RunRecord& r) {
  std::string out = fmt::format("run {}: {}\n", r.id, r.name);
  const auto field = [&out](const char* label, const std::string& value) {
    out += fmt::format("  {:<15} {}\n", label, value);
  };
  field("uid", or_dash(r.uid));
  field("status", to_string(r.status));
  if (!r.error.empty()) field("error", r.error);
  field("sweep", or_dash(r.sweep));
  field("variant", or_dash(r.variant));
  field("config hash", or_dash(r.config_hash));
  field("experiment", or_dash(r.experiment_hash));
  field("seed", std::to_string(r.seed));
  field("params", with_commas(r.params));
  field("MACs", with_commas(r.macs));
  field("best test %", percent(r.best_test_acc));
  field("final test %", percent(r.final_test_acc));
  field("epochs", epochs_progress(r));
  field("train seconds", fixed(r.train_seconds, 1));
  if (!r.trained_with.empty())
    field("trained with", fmt::format("run uid {} (prefix reuse: its epochs were recorded from that run's training, "
                                      "the same computation up to this run's last epoch)",
                                      r.trained_with));
  if (!r.packed_with.empty())
    field("packed", fmt::format("one of {} runs trained as one packed network (the pack's first run: uid {}){}; its "
                                "epoch seconds and images/s are the whole pack's",
                                r.pack_size, r.packed_with, r.cuda_graph ? ", its steps replayed a CUDA graph" : ""));
  else if (r.cuda_graph)
    field("CUDA graph", "its training steps replayed a CUDA graph");
  field("started", r.started_at);
  field("finished", or_dash(r.finished_at));
  field("heartbeat", r.heartbeat_at);
  field("process", r.pid > 0 ? fmt::format("{} on {}", r.pid, or_dash(r.host)) : "-");
  field("device", or_dash(r.device));
  field("torch", or_dash(r.torch_version));
  field("checkpoint", r.checkpoint.path.empty()
                          ? "-"
                          : fmt::format("{} (epoch {} batch {}{})", r.checkpoint.path, r.checkpoint.epochs_done,
                                        r.checkpoint.next_batch,
                                        r.checkpoint.md5.empty() ? "" : ", md5 " + r.checkpoint.md5));
  if (!r.config_toml.empty()) {
    out += "  config:\n";
    for (const std::string& line : split(r.config_toml, '\n')) out += line.empty() ? "\n" : "    " + line + "\n";
  }
  return out;
}

std::string epochs_table(const std::vector<EpochRecord>& epochs) {
  if (epochs.empty()) return "no epochs recorded\n";
  TextTable t({"epoch>", "train loss>", "train %>", "test loss>", "test %>", "lr>", "seconds>", "images/s>"});
  for (const EpochRecord& e : epochs)
    t.add_row({std::to_string(e.epoch), fixed(e.train_loss, 4), percent(e.train_acc), fixed(e.test_loss, 4),
               percent(e.test_acc), fmt::format("{:.3g}", e.lr), fixed(e.seconds, 1), fixed(e.images_per_s, 0)});
  return t.str();
}

std::string layers_table(const std::vector<LayerRecord>& layers) {
  if (layers.empty()) return "no layers recorded\n";
  TextTable t({"#>", "layer", "block", "output", "params>", "MACs>"});
  for (const LayerRecord& l : layers)
    t.add_row({std::to_string(l.idx), l.name, l.block, l.output_shape, with_commas(l.params), with_commas(l.macs)});
  return t.str();
}

// ---- commands -------------------------------------------------------------------------------------------

struct RunsOptions {
  std::string db = "runs.db";
  bool json = false;
  std::string sweep;
  std::int64_t since = 0;  // only runs with id >= since
};

struct ShowOptions {
  std::int64_t id = 0;
  std::string db = "runs.db";
  bool json = false;
};

struct MergeOptions {
  std::string out;
  std::vector<std::string> inputs;
};

void run_runs(const RunsOptions& o) {
  const RunStore store = open_for_report(o.db);
  std::vector<RunRecord> runs = store.list_runs(o.sweep);
  runs.erase(std::remove_if(runs.begin(), runs.end(), [&](const RunRecord& r) { return r.id < o.since; }),
             runs.end());
  std::cout << (o.json ? runs_json(runs) : runs_table(runs));
}

void run_show(const ShowOptions& o) {
  const RunStore store = open_for_report(o.db);
  const std::optional<RunRecord> run = store.get_run(o.id);
  if (!run) throw UserError(fmt::format("run {} not found in {}", o.id, o.db));
  const std::vector<EpochRecord> epochs = store.epochs(o.id);
  const std::vector<LayerRecord> layers = store.layers(o.id);
  if (o.json) {
    std::cout << show_json(*run, epochs, layers);
    return;
  }
  std::cout << run_fields_text(*run) << "\nepochs\n" << epochs_table(epochs) << "\nlayers\n" << layers_table(layers);
}

void run_merge(const MergeOptions& o) {
  for (const std::string& in : o.inputs) require_database(in);
  const MergeStats s = RunStore::merge(o.out, o.inputs);
  std::cout << fmt::format("merged {} into {}: {} run{} copied, {} updated (newer state), {} unchanged\n",
                           join(o.inputs, ", "), o.out, s.copied, s.copied == 1 ? "" : "s", s.updated, s.skipped);
}

void add_db_option(CLI::App& cmd, std::string& db) {
  cmd.add_option("--db", db, "SQLite experiment log")->capture_default_str()->check(non_empty());
}

}  // namespace

void add_run_commands(CLI::App& app) {
  auto runs_opts = std::make_shared<RunsOptions>();
  CLI::App* runs = app.add_subcommand("runs", "List the runs in an experiment log");
  add_db_option(*runs, runs_opts->db);
  runs->add_flag("--json", runs_opts->json, "JSON array with every field of every run");
  runs->add_option("--sweep", runs_opts->sweep, "only the runs of this sweep");
  runs->add_option("--since", runs_opts->since, "only runs with this id or a later one");
  runs->callback([runs_opts] { run_runs(*runs_opts); });

  auto show_opts = std::make_shared<ShowOptions>();
  CLI::App* show = app.add_subcommand("show", "Show one run: its fields, epochs and layers");
  show->add_option("RUN_ID", show_opts->id, "run id (see `incept runs`)")->required();
  add_db_option(*show, show_opts->db);
  show->add_flag("--json", show_opts->json, "JSON object with the run's fields, epochs and layers");
  show->callback([show_opts] { run_show(*show_opts); });

  auto merge_opts = std::make_shared<MergeOptions>();
  CLI::App* db = app.add_subcommand("db", "Maintain experiment logs");
  db->require_subcommand(1);
  CLI::App* merge = db->add_subcommand("merge", "Join several logs into one by run uid (newer states win; merging again changes nothing)");
  merge->add_option("OUT", merge_opts->out, "output database, created if missing")->required();
  merge->add_option("IN", merge_opts->inputs, "input databases")->required();
  merge->callback([merge_opts] { run_merge(*merge_opts); });
}

}  // namespace incept
