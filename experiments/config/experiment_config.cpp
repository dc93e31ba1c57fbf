#include "experiments/config/experiment_config.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "blocks/builtin.h"
#include "framework/config_loader.h"
#include "framework/toml_util.h"

namespace incept {

namespace {

const toml::table* section(const toml::table& root, const std::string& key, Diagnostics& diags) {
  const toml::node* n = root.get(key);
  if (!n) return nullptr;
  if (!n->is_table()) {
    diags.error(pos_of(*n), fmt::format("'{}' must be a table ([{}])", key, key));
    return nullptr;
  }
  return n->as_table();
}

DataConfig read_data(const toml::table* t, const SourcePos& file, Diagnostics& diags) {
  DataConfig d;
  TableReader r(t, "data", file, diags);
  d.dataset = r.choice("dataset", d.dataset, {"mnist", "fashion-mnist", "synthetic"});
  d.dir = r.text("dir", d.dir);
  d.train_limit = r.integer("train_limit", 0, 0);
  d.test_limit = r.integer("test_limit", 0, 0);
  d.normalize = r.flag("normalize", false);
  d.mean = r.number("mean", -1);
  d.std = r.number("std", -1);
  if (r.present("std") && d.std <= 0) diags.error(r.pos("std"), "data.std must be positive");
  d.synthetic_train = r.integer("synthetic_train", d.synthetic_train, 1, 10'000'000);
  d.synthetic_test = r.integer("synthetic_test", d.synthetic_test, 1, 10'000'000);
  d.synthetic_classes = r.integer("synthetic_classes", d.synthetic_classes, 2, 100'000);
  const std::size_t errors_before_shape = diags.items().size();
  d.synthetic_shape = r.integers("synthetic_shape", d.synthetic_shape, 1, kMaxInputDim);
  if (diags.items().size() == errors_before_shape && d.synthetic_shape.size() != 3)
    diags.error(r.pos("synthetic_shape"), "data.synthetic_shape must be [C, H, W]");
  d.synthetic_seed = static_cast<std::uint64_t>(r.integer("synthetic_seed", 0, 0));
  r.finish();
  return d;
}

TrainConfig read_train(const toml::table* t, const SourcePos& file, Diagnostics& diags) {
  TrainConfig c;
  TableReader r(t, "train", file, diags);
  c.epochs = r.integer("epochs", c.epochs, 1, 100'000);
  c.batch_size = r.integer("batch_size", c.batch_size, 1, 1'000'000);
  c.eval_batch_size = r.integer("eval_batch_size", c.eval_batch_size, 1, 1'000'000);
  c.seed = static_cast<std::uint64_t>(r.integer("seed", 0, 0));
  c.device = r.choice("device", c.device, {"auto", "cpu", "cuda"});
  c.threads = r.integer("threads", c.threads, 0, 4096);
  c.deterministic = r.flag("deterministic", c.deterministic);
  c.optimizer = r.choice("optimizer", c.optimizer, {"sgd", "rmsprop", "adam", "adamw"});
  c.lr = r.number("lr", c.lr, 0.0, 1e6);
  c.momentum = r.number("momentum", c.momentum, 0.0, 1.0);
  c.nesterov = r.flag("nesterov", c.nesterov);
  c.weight_decay = r.number("weight_decay", c.optimizer == "adamw" ? 0.01 : 0.0, 0.0, 1e3);
  c.alpha = r.number("alpha", c.alpha, 0.0, 1.0);
  c.eps = r.number("eps", c.eps, 0.0, 1e3);
  c.beta1 = r.number("beta1", c.beta1, 0.0, 0.999999);
  c.beta2 = r.number("beta2", c.beta2, 0.0, 0.999999);
  c.schedule = r.choice("schedule", c.schedule, {"constant", "step", "exponential", "cosine"});
  c.step_size = r.number("step_size", c.step_size, 1e-9, 1e9);
  c.gamma = r.number("gamma", c.gamma, 0.0, 10.0);
  c.min_lr = r.number("min_lr", c.min_lr, 0.0, 1e6);
  c.warmup_epochs = r.number("warmup_epochs", c.warmup_epochs, 0.0, 1e6);
  c.init = r.choice("init", c.init, {"default", "normal", "truncated_normal", "kaiming", "xavier"});
  c.init_std = r.number("init_std", c.init_std, 1e-12, 1e3);
  c.label_smoothing = r.number("label_smoothing", c.label_smoothing, 0.0, 0.999);
  c.amp = r.flag("amp", c.amp);
  c.channels_last = r.flag("channels_last", c.channels_last);
  c.parallel_branches = r.flag("parallel_branches", c.parallel_branches);
  c.cuda_graph = r.flag("cuda_graph", c.cuda_graph);
  c.checkpoint_dir = r.text("checkpoint_dir", c.checkpoint_dir);
  if (c.nesterov && c.optimizer == "sgd" && c.momentum <= 0)
    diags.error(r.pos("nesterov"), "train.nesterov needs train.momentum > 0");
  if (c.schedule == "cosine" && c.min_lr > c.lr)
    diags.error(r.pos("min_lr"), fmt::format("train.min_lr = {} is above train.lr = {}: the cosine schedule would "
                                             "raise the learning rate instead of lowering it",
                                             c.min_lr, c.lr));
  r.finish();
  return c;
}

}  // namespace

ExperimentConfig resolve_experiment(toml::table root, const std::string& path) {
  ExperimentConfig cfg;
  cfg.path = path;
  Diagnostics diags;
  SourcePos file{path};
  TableReader top(&root, "", file, diags);
  cfg.name = top.text("name", std::filesystem::path(path).stem().string());
  cfg.description = top.text("description", "");
  cfg.data = read_data(section(root, "data", diags), file, diags);
  cfg.train = read_train(section(root, "train", diags), file, diags);
  top.finish({"data", "train", "model"});
  cfg.model = resolve_model(root, file, builtin_registry(), diags);
  diags.throw_if_any();
  cfg.toml_text = to_toml_text(root);
  cfg.hash = config_hash(root);
  cfg.resolved = std::move(root);
  return cfg;
}

ExperimentConfig load_experiment(const std::string& path, const std::vector<std::string>& overrides) {
  return resolve_experiment(load_config(path, overrides), path);
}

std::optional<std::string> data_model_mismatch(const ExperimentConfig& cfg) {
  const DataConfig& d = cfg.data;
  const bool idx = d.dataset == "mnist" || d.dataset == "fashion-mnist";
  const std::vector<std::int64_t> shape = idx ? std::vector<std::int64_t>{1, 28, 28} : d.synthetic_shape;
  const std::int64_t classes = idx ? 10 : d.synthetic_classes;
  const ModelSpec& m = cfg.model;
  if (shape != m.input.dims)
    return fmt::format("dataset '{}' has samples of shape {} but model.input is {}", d.dataset, Shape{shape}.str(),
                       m.input.str());
  const Shape out = m.output();
  if (out.dims.size() != 1 || out.dims[0] < classes)
    return fmt::format("the model outputs {} but dataset '{}' has {} classes; the last layer should be a linear "
                       "layer with out = {}",
                       out.str(), d.dataset, classes, classes);
  return std::nullopt;
}

std::int64_t known_train_images(const DataConfig& d) {
  // Both IDX datasets ship 60,000 training images; a smaller file is refused when it is loaded, not here.
  const std::int64_t full = d.dataset == "synthetic" ? d.synthetic_train : 60000;
  return d.train_limit > 0 ? std::min(full, d.train_limit) : full;
}

}  // namespace incept
