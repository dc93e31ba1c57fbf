#pragma once
// Experiment logs for the report tests, written through RunStore as training would write them (no training
// involved): a sweep with three variants, several seeds each, one diverged and one failed run.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "experiments/config/experiment_config.h"
#include "experiments/store/run_store.h"

namespace incept::report_test {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed with everything in it when done.
class ScratchDir {
 public:
  ScratchDir() {
    std::string templ = (fs::temp_directory_path() / "incept-report-XXXXXX").string();
    if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The resolved config of one variant, shaped like seed 004's MNIST network: `block` for inception1 comes
// from an override table in the naive variant (as configs/mnist/naive.toml does it), `ratio` only in one.
inline std::string variant_config(const std::string& variant, std::int64_t seed) {
  std::string text = "name = \"mnist-" + variant + "\"\ndescription = \"variant " + variant +
                     "\"\n\n[data]\ndataset = \"mnist\"\n\n[model]\ninput = [1, 28, 28]\n\n"
                     "[[model.layers]]\nname = \"stem\"\nblock = \"conv\"\nout = 8\nkernel = 3\npadding = 1\n\n"
                     "[[model.layers]]\nname = \"inception1\"\nblock = \"inception_reduced\"\nout = 8\n";
  if (variant == "ratio=0.25") text += "ratio = 0.25\n";
  if (variant == "residual") text += "residual = true\n";
  text += "\n[[model.layers]]\nname = \"classifier\"\nblock = \"linear\"\nout = 10\n";
  if (variant == "naive") text += "\n[model.inception1]\nblock = \"inception_naive\"\n";
  text += "\n[train]\nepochs = 2\nlr = 0.1\nseed = " + std::to_string(seed) + "\n";
  return text;
}

// The layers training records for a variant: its config resolved, as the trainer records them.
inline std::vector<LayerRecord> variant_layers(const std::string& variant) {
  const ExperimentConfig cfg = resolve_experiment(toml::parse(variant_config(variant, 1)), "fixture " + variant);
  std::vector<LayerRecord> out;
  int idx = 0;
  for (const LayerSpec& l : cfg.model.layers)
    out.push_back({0, idx++, l.name, l.block, l.report.output.str(), l.report.cost.params, l.report.cost.macs});
  return out;
}

struct PlannedRun {
  std::string variant;
  std::int64_t seed;
  std::string status;               // how it ends
  std::vector<double> test_accs;    // one per recorded epoch
  std::string sweep = "blocks";
  std::string name = "";            // default: mnist-<variant>
};

// Records `run` as training would: begin, layers, one row per epoch, finish.
inline std::int64_t record_run(RunStore& store, const PlannedRun& run) {
  RunRecord r;
  r.name = run.name.empty() ? "mnist-" + run.variant : run.name;
  r.config_toml = variant_config(run.variant, run.seed);
  r.config_hash = run.variant + std::to_string(run.seed);
  r.device = "cpu";
  r.torch_version = "1.13.1";
  r.sweep = run.sweep;
  r.variant = run.sweep.empty() ? "" : run.variant;
  r.seed = run.seed;
  const std::vector<LayerRecord> layers = variant_layers(run.variant);
  for (const LayerRecord& l : layers) {
    r.params += l.params;
    r.macs += l.macs;
  }
  r.epochs_planned = 2;
  const std::int64_t id = store.begin_run(r);
  store.add_layers(id, layers);
  for (std::size_t i = 0; i < run.test_accs.size(); ++i) {
    EpochRecord e;
    e.run_id = id;
    e.epoch = static_cast<int>(i) + 1;
    e.train_loss = 0.5;
    e.train_acc = run.test_accs[i];
    e.test_loss = 0.4;
    e.test_acc = run.test_accs[i];
    e.lr = 0.1;
    e.seconds = run.variant == "naive" ? 4.0 : 2.0;
    e.images_per_s = run.variant == "naive" ? 15000 : 30000;
    store.record_epoch(e);
  }
  const RunStatus status = parse_run_status(run.status).value();
  if (status != RunStatus::running)
    store.finish_run(id, status, 10.0, status == RunStatus::completed ? "" : "loss became NaN at epoch 2");
  return id;
}

// Sweep "blocks" (run ids in order):
//   1-3 naive     seeds 1-3, completed, final test acc 0.98, 0.99, 0.97     -> mean 0.98, std 0.01, n 3
//   4-6 reduced   seeds 1-3: two completed (0.985, 0.975) and seed 3 diverged -> mean 0.98, n 2
//   7-8 ratio=0.25 seed 1 completed (0.96), seed 2 failed
inline void write_blocks_sweep(const std::string& path) {
  RunStore store = RunStore::open(path);
  const std::vector<PlannedRun> runs = {
      {"naive", 1, "completed", {0.95, 0.98}},   {"naive", 2, "completed", {0.96, 0.99}},
      {"naive", 3, "completed", {0.94, 0.97}},   {"reduced", 1, "completed", {0.95, 0.985}},
      {"reduced", 2, "completed", {0.95, 0.975}}, {"reduced", 3, "diverged", {0.50}},
      {"ratio=0.25", 1, "completed", {0.93, 0.96}}, {"ratio=0.25", 2, "failed", {}},
  };
  for (const PlannedRun& run : runs) record_run(store, run);
}

// The main job's four variants (scripts/main_job.sh: seed 004's reduced and naive networks, each with the seed's
// N(0, 0.1) init and with Xavier init), trained alone, three seeds each so accuracies show their widest form;
// configs as `incept train` resolves them, made-up epochs. Run ids 1-12: variants in that order, seeds 0-2.
inline void write_main_job_runs(const std::string& path) {
  struct Variant {
    std::string config;
    std::vector<std::string> sets;
    double acc;
  };
  const std::string dir = std::string(INCEPT_SOURCE_DIR) + "/configs/mnist/";
  const std::vector<Variant> variants = {
      {"reduced.toml", {}, 0.9788},
      {"naive.toml", {}, 0.1135},
      {"reduced.toml", {"name=mnist-reduced-xavier", "train.init=xavier"}, 0.9861},
      {"naive.toml", {"name=mnist-naive-xavier", "train.init=xavier"}, 0.9873},
  };
  RunStore store = RunStore::open(path);
  for (const Variant& v : variants)
    for (std::int64_t seed = 0; seed < 3; ++seed) {
      std::vector<std::string> sets = v.sets;
      sets.push_back("train.seed=" + std::to_string(seed));
      const ExperimentConfig cfg = load_experiment(dir + v.config, sets);
      RunRecord r;
      r.name = cfg.name;
      r.config_toml = cfg.toml_text;
      r.config_hash = cfg.hash;
      r.device = "cpu";
      r.torch_version = "1.13.1";
      r.seed = seed;
      r.params = cfg.model.cost().params + cfg.model.aux_cost().params;
      r.macs = cfg.model.cost().macs;
      r.epochs_planned = 2;
      const std::int64_t id = store.begin_run(r);
      std::vector<LayerRecord> layers;
      int idx = 0;
      for (const LayerSpec& l : cfg.model.layers)
        layers.push_back({id, idx++, l.name, l.block, l.report.output.str(), l.report.cost.params, l.report.cost.macs});
      store.add_layers(id, layers);
      for (int epoch = 1; epoch <= 2; ++epoch) {
        EpochRecord e;
        e.run_id = id;
        e.epoch = epoch;
        e.train_loss = 0.3 / epoch;
        e.test_loss = 0.25 / epoch;
        e.test_acc = e.train_acc = v.acc - 0.01 * (2 - epoch) + 0.001 * static_cast<double>(seed);
        e.lr = 0.1;
        e.seconds = 60.0;
        e.images_per_s = 2345.6;
        store.record_epoch(e);
      }
      store.finish_run(id, RunStatus::completed, 120.0);
    }
}

}  // namespace incept::report_test
