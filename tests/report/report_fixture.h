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
                     "[[model.layers]]\nname = \"stem\"\nblock = \"conv\"\nout = 8\n\n"
                     "[[model.layers]]\nname = \"inception1\"\nblock = \"inception_reduced\"\nout = 8\n";
  if (variant == "ratio=0.25") text += "ratio = 0.25\n";
  text += "\n[[model.layers]]\nname = \"classifier\"\nblock = \"linear\"\nout = 10\n";
  if (variant == "naive") text += "\n[model.inception1]\nblock = \"inception_naive\"\n";
  text += "\n[train]\nepochs = 2\nlr = 0.1\nseed = " + std::to_string(seed) + "\n";
  return text;
}

inline std::vector<LayerRecord> variant_layers(const std::string& variant) {
  const bool naive = variant == "naive";
  const std::int64_t inception_params = naive ? 3000 : variant == "reduced" ? 1000 : 600;
  const std::int64_t inception_macs = naive ? 2000000 : variant == "reduced" ? 800000 : 500000;
  return {
      {0, 0, "stem", "conv", "[8, 28, 28]", 80, 56448},
      {0, 1, "inception1", naive ? "inception_naive" : "inception_reduced", "[32, 28, 28]", inception_params,
       inception_macs},
      {0, 2, "classifier", "linear", "[10]", 250890, 250880},
  };
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

}  // namespace incept::report_test
