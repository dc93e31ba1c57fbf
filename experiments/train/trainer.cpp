#include "experiments/train/trainer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <torch/torch.h>

#include "experiments/config/experiment_identity.h"
#include "experiments/data/batch_order.h"
#include "experiments/data/dataset.h"
#include "experiments/store/heartbeat_thread.h"
#include "experiments/store/run_store.h"
#include "experiments/train/checkpoint.h"
#include "experiments/train/mixed_precision.h"
#include "experiments/train/optimization.h"
#include "experiments/train/packed_trainer.h"
#include "experiments/train/progress.h"
#include "experiments/train/running_metrics.h"
#include "experiments/train/train_parts.h"
#include "experiments/train/training_loss.h"
#include "framework/config_loader.h"
#include "framework/torch_model.h"
#include "platform/memory_limit.h"

namespace incept {

namespace {

std::atomic<bool> g_interrupted{false};  // interrupt_requested()
// A second SIGINT/SIGTERM: stop at once, whatever the training thread is stuck in. While a run is being trained
// its watchdog (the heartbeat thread) records it as interrupted and exits; before that there is nothing to record.
std::atomic<bool> g_force_stop{false};
std::atomic<bool> g_watchdog_active{false};

extern "C" void on_interrupt(int) {
  if (!g_interrupted.exchange(true)) return;
  if (g_watchdog_active.load()) g_force_stop.store(true);
  else ::_exit(130);
}

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

const std::atomic<bool>& interrupt_requested() { return g_interrupted; }
const std::atomic<bool>& force_stop_requested() { return g_force_stop; }
void set_watchdog_active(bool active) { g_watchdog_active.store(active); }

// train.checkpoint_dir, relative to the log's folder. Files in it are named by run uid, so any number of logs may
// share it.
std::string checkpoint_dir_for(const TrainConfig& c, const std::string& db_path) {
  namespace fs = std::filesystem;
  fs::path dir(c.checkpoint_dir);
  if (dir.is_relative()) dir = fs::absolute(db_path).parent_path() / dir;
  return dir.string();
}

// Checkpoint files of run `uid` other than `keep`: left behind by a crash between writing a checkpoint and
// recording it, or superseded by a newer one.
void remove_other_checkpoints(const std::string& dir, const std::string& uid, const std::string& keep) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(uid + "-", 0) != 0 || entry.path().string() == keep) continue;
    if (name.size() > 3 && (name.compare(name.size() - 3, 3, ".pt") == 0 || name.find(".pt.tmp") != std::string::npos))
      fs::remove(entry.path(), ec);
  }
}

void check_data_fits_model(const Dataset& data, const ExperimentConfig& cfg) {
  const ModelSpec& m = cfg.model;
  if (data.sample_shape != m.input.dims)
    throw UserError(fmt::format("{}: dataset '{}' has samples of shape {} but model.input is {}", cfg.path,
                                data.name, Shape{data.sample_shape}.str(), m.input.str()));
  Shape out = m.output();
  if (out.dims.size() != 1 || out.dims[0] < data.classes)
    throw UserError(fmt::format("{}: the model outputs {} but dataset '{}' has {} classes; the last layer should "
                                "be a linear layer with out = {}",
                                cfg.path, out.str(), data.name, data.classes, data.classes));
}

// A checkpoint folder that cannot be used must stop the run before it trains, not after its first epoch.
void check_checkpoint_dir(const std::string& dir, const std::string& config_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path existing = dir;
  while (!existing.empty() && !fs::exists(existing, ec)) existing = existing.parent_path();
  const std::string where = fmt::format("{}: train.checkpoint_dir {}", config_path, dir);
  if (!existing.empty() && !fs::is_directory(existing, ec))
    throw UserError(fmt::format("{} cannot be used: {} is not a directory", where, existing.string()));
  if (!existing.empty() && ::access(existing.c_str(), W_OK | X_OK) != 0)
    throw UserError(fmt::format("{} cannot be used: directory {} is not writable", where, existing.string()));
}

// The activations of a training batch (every intermediate output kept for the backward pass, float32, as the
// memory estimate of `incept summary` counts them) must fit in memory: refused before anything is allocated, naming
// the layer that needs the most, instead of failing inside an allocation.
void check_activations_fit(const ExperimentConfig& cfg, const Dataset& data, std::int64_t members) {
  const ModelSpec& m = cfg.model;
  const LayerSpec* largest = nullptr;
  for (const LayerSpec& l : m.layers)
    if (!largest || l.report.activation_elems > largest->report.activation_elems) largest = &l;
  if (!largest) return;
  // A batch is never larger than its split.
  const double batch = static_cast<double>(std::max(std::min(cfg.train.batch_size, data.train.size()),
                                                    std::min(cfg.train.eval_batch_size, data.test.size())));
  const double bytes = 2.0 * 4.0 * batch * static_cast<double>(members) * static_cast<double>(m.activation_elems());
  constexpr double kMiB = 1024.0 * 1024.0;
  check_fits_in_memory(
      bytes,
      fmt::format("{}: training in batches of {} (activations for the backward pass; the largest, layer '{}', "
                  "{:.0f} MiB per batch)",
                  cfg.path, static_cast<std::int64_t>(batch), largest->name,
                  2.0 * 4.0 * batch * static_cast<double>(largest->report.activation_elems) / kMiB),
      "lower train.batch_size (and train.eval_batch_size) or the input size");
}

EpochRecord finish_epoch(std::int64_t run_id, TrainPosition& pos, const EvalResult& test, double lr,
                         double train_seconds, double epoch_seconds) {
  EpochRecord e;
  e.run_id = run_id;
  e.epoch = static_cast<int>(pos.epochs_done + 1);
  e.train_loss = pos.loss_sum / static_cast<double>(std::max<std::int64_t>(1, pos.seen));
  e.train_acc = static_cast<double>(pos.correct) / static_cast<double>(std::max<std::int64_t>(1, pos.seen));
  e.test_loss = test.loss;
  e.test_acc = test.acc;
  e.lr = lr;
  e.seconds = epoch_seconds;
  e.images_per_s = static_cast<double>(pos.seen) / std::max(1e-9, train_seconds);
  pos.train_seconds += epoch_seconds;
  pos = TrainPosition{pos.epochs_done + 1, 0, 0, 0, 0, 0, pos.train_seconds};
  return e;
}

std::vector<LayerRecord> layer_records(const ModelSpec& m) {
  std::vector<LayerRecord> out;
  int idx = 0;
  for (const auto& l : m.layers)
    out.push_back({0, idx++, l.name, l.block, l.report.output.str(), l.report.cost.params, l.report.cost.macs});
  for (const auto& a : m.aux)
    out.push_back({0, idx++, a.head.name, a.head.block + " (aux @ " + a.at + ")", a.head.report.output.str(),
                   a.head.report.cost.params, a.head.report.cost.macs});
  return out;
}

torch::Device choose_device(const std::string& wanted) {
  bool cuda = torch::cuda::is_available();
  if (wanted == "cuda" && !cuda)
    throw UserError("train.device = \"cuda\" but this LibTorch build has no usable CUDA device "
                    "(use device = \"auto\" or \"cpu\")");
  return (wanted != "cpu" && cuda) ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

void configure_threads(const TrainConfig& c) {
  // Debian's LibTorch starts with one intra-op thread; use every core unless told otherwise.
  int threads = c.threads > 0 ? static_cast<int>(c.threads) : static_cast<int>(std::thread::hardware_concurrency());
  torch::set_num_threads(std::max(1, threads));
  // LibTorch already parallelises over OpenMP threads; an OpenBLAS that also spawns its own threads inside each
  // of them oversubscribes the cores (measured 5-10x slower on 2 cores). The env var is read only when the
  // library loads, so tell a loaded OpenBLAS directly. Other BLAS libraries lack the symbol and are left alone.
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
  if (c.parallel_branches && threads > 1) {
    try {
      at::set_num_interop_threads(threads - 1);  // helpers for the calling thread; possible only once per process
    } catch (const c10::Error&) {
    }
  }
}

void configure_cudnn(const TrainConfig& c) {
  // Benchmark mode times every convolution algorithm for each new input shape and keeps the fastest, which may
  // differ from run to run: allowed only when the config gives up bit-for-bit reproducibility.
  at::globalContext().setDeterministicCuDNN(c.deterministic);
  at::globalContext().setBenchmarkCuDNN(!c.deterministic);
}

namespace {

// NHWC strides, written out even where the shape makes them ambiguous (one channel, 1x1 kernels): contiguous()
// returns such a tensor unchanged with its NCHW strides, and a convolution whose input and weight both look NCHW
// runs the NCHW kernels (measured: half the speed on the MNIST network). Tensor::to() restrides, as PyTorch's
// module.to(memory_format=...) does.
torch::Tensor to_channels_last(const torch::Tensor& t) {
  return t.to(t.options(), /*non_blocking=*/false, /*copy=*/false, torch::MemoryFormat::ChannelsLast);
}

}  // namespace

void apply_performance_switches(Network& net, const TrainConfig& c) {
  if (c.channels_last) {
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters())
      if (p.dim() == 4) p.set_data(to_channels_last(p.data()));
  }
  // On a GPU the branches' kernels already queue up on one stream; host threads would only contend for it.
  const auto params = net->parameters();
  const bool on_cpu = params.empty() || params.front().device().is_cpu();
  net->set_parallel_branches(c.parallel_branches && on_cpu);
}

torch::Tensor network_input(const torch::Tensor& images, const TrainConfig& c) {
  if (c.channels_last && images.dim() == 4) return to_channels_last(images);
  return images;
}

EvalResult evaluate(Network& net, const Split& split, std::int64_t batch_size, const TrainConfig& c,
                    const std::atomic<bool>* stop) {
  c10::InferenceMode inference;  // no autograd bookkeeping at all, unlike NoGradGuard
  AutocastScope autocast(c.amp && split.images.is_cuda());
  net->eval();
  // Summed on the split's device and read once at the end: on CUDA each read waits for the GPU.
  const auto on_device = split.images.options();
  torch::Tensor loss_sum = torch::zeros({}, on_device.dtype(torch::kFloat64));
  torch::Tensor correct = torch::zeros({}, on_device.dtype(torch::kInt64));
  const std::int64_t n = split.size();
  for (std::int64_t start = 0; start < n; start += batch_size) {
    if (stop && stop->load()) {
      net->train();
      return {0, 0, true};
    }
    std::int64_t end = std::min(n, start + batch_size);
    torch::Tensor x = split.images.slice(0, start, end), y = split.labels.slice(0, start, end);
    torch::Tensor logits = net->forward(network_input(x, c));
    loss_sum += torch::nn::functional::cross_entropy(
        logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
    correct += logits.argmax(1).eq(y).sum();
  }
  net->train();
  const double count = static_cast<double>(std::max<std::int64_t>(1, n));
  return {loss_sum.item<double>() / count, static_cast<double>(correct.item<std::int64_t>()) / count, false};
}

namespace {

// Everything one training run needs, built from a config; shared by fresh runs and resumed ones.
class Run {
 public:
  Run(const ExperimentConfig& cfg, const TrainOptions& opts)
      : cfg_(cfg), opts_(opts), tc_(cfg.train), device_(choose_device(tc_.device)), store_(RunStore::open(opts.db_path)),
        progress_(detect_progress_mode(opts.quiet), std::cerr), members_(store_, opts.db_path) {
    checkpoint_dir_ = checkpoint_dir_for(tc_, opts_.db_path);
    check_checkpoint_dir(checkpoint_dir_, cfg.path);
    configure_threads(tc_);
    torch::manual_seed(tc_.seed);
    data_ = load_dataset(cfg.data, device_);
    check_data_fits_model(data_, cfg);
    x_buf_ = torch::empty({0}, data_.train.images.options());
    y_buf_ = torch::empty({0}, data_.train.labels.options());
    net_ = Network(cfg.model);  // refuses weights that cannot fit
    if (device_.is_cpu()) check_activations_fit(cfg, data_);
    initialize_weights(*net_, tc_);
    net_->to(device_);
    apply_performance_switches(net_, tc_);
    optimizer_ = make_optimizer(tc_, net_->parameters());
    amp_ = tc_.amp && device_.is_cuda();
    scaler_ = GradScaler(amp_);
    // Reading every batch costs nothing on the CPU and stops a diverging run at once; on CUDA it would stall.
    metrics_ = RunningMetrics(device_, device_.is_cuda() ? 50 : 1);
    if (device_.is_cuda()) configure_cudnn(tc_);
    if (tc_.amp && !amp_) progress_.message("note: train.amp applies to CUDA only; training in float32 on the CPU");
  }

  ~Run() {
    heartbeat_.reset();  // joins the thread before the members it uses go
    g_watchdog_active.store(false);
  }

  std::int64_t begin() {
    RunRecord r;
    r.name = cfg_.name;
    r.config_toml = cfg_.toml_text;
    r.config_hash = cfg_.hash;
    r.experiment_hash = experiment_hash(cfg_.resolved);
    r.device = device_.str();
    r.torch_version = TORCH_VERSION;
    r.sweep = opts_.sweep;
    r.variant = opts_.variant;
    r.seed = static_cast<std::int64_t>(tc_.seed);
    r.params = cfg_.model.cost().params + cfg_.model.aux_cost().params;
    r.macs = cfg_.model.cost().macs;
    r.epochs_planned = tc_.epochs;
    run_id_ = store_.begin_run(r);
    store_.add_layers(run_id_, layer_records(cfg_.model));
    const RunClaim claim = store_.claim_of(run_id_);
    for (const PrefixMemberConfig& m : opts_.prefix_members)
      members_.begin(m, r, claim.uid, layer_records(m.config.model));
    start_heartbeat(claim);
    return run_id_;
  }

  // `record` is the run as the log had it when `checkpoint` was verified against it. The run is claimed here;
  // anything that goes wrong before training starts gives it back as it was. `members` (checked by the caller:
  // stopped runs whose checkpoints hold this one's state) are claimed after it; one that cannot be is left alone.
  void resume_from(const RunRecord& record, const VerifiedCheckpoint& checkpoint,
                   const std::vector<RunRecord>& members) {
    run_id_ = record.id;
    const RunClaim claim = store_.claim_run(record.id, record.checkpoint.md5);
    try {
      pos_ = load_checkpoint(checkpoint, *net_, *optimizer_, device_);
      if (!checkpoint.legacy && (pos_.epochs_done != record.checkpoint.epochs_done ||
                                 pos_.next_batch != record.checkpoint.next_batch))
        throw UserError(fmt::format("checkpoint {}: its payload holds epoch {} batch {}, its header another position",
                                    checkpoint.path, pos_.epochs_done, pos_.next_batch));
      if (pos_.epochs_done > record.epochs_done)
        throw UserError(fmt::format("checkpoint {}: holds {} completed epoch(s), but the log recorded {}",
                                    checkpoint.path, pos_.epochs_done, record.epochs_done));
    } catch (const std::exception&) {
      store_.release_run(record.id, record.status, record.error);
      throw;
    }
    checkpoint_ = record.checkpoint;
    checkpoint_.epochs_done = pos_.epochs_done;
    checkpoint_.next_batch = pos_.next_batch;
    if (amp_ && pos_.loss_scale > 0) scaler_.restore(pos_.loss_scale, static_cast<int>(pos_.loss_scale_good_steps));
    // Epochs recorded after the checkpoint (a crash or a full disk between an epoch's record and its checkpoint)
    // are trained again; on the CPU they come out the same.
    store_.delete_epochs_from(record.id, static_cast<int>(pos_.epochs_done) + 1);
    remove_other_checkpoints(checkpoint_dir_, record.uid, checkpoint.path);
    for (const RunRecord& m : members) {
      try {
        members_.resume(m, pos_.epochs_done);
        remove_other_checkpoints(checkpoint_dir_, m.uid, m.checkpoint.path);
      } catch (const UserError& e) {
        progress_.message(fmt::format("run {} is not resumed with run {}: {}", m.id, record.id, e.what()));
      }
    }
    start_heartbeat(claim);
    progress_.message(fmt::format("resuming run {} at epoch {} batch {}", record.id, pos_.epochs_done + 1,
                                  pos_.next_batch));
  }

  TrainOutcome train() {
    TrainOutcome out;
    out.run_id = run_id_;
    RunStatus status = RunStatus::failed;
    try {
      status = loop(out);
    } catch (const c10::Error& e) {
      // LibTorch's what() carries a C++ backtrace, which belongs neither in the log nor on the terminal.
      out.error = e.what_without_backtrace();
    } catch (const std::exception& e) {
      out.error = e.what();
    }
    out.status = status;
    out.train_seconds = pos_.train_seconds;
    out.epochs_done = pos_.epochs_done;
    heartbeat_.reset();  // the claim ends with finish_run: no beat may race it
    g_watchdog_active.store(false);
    members_.finish(status, pos_.train_seconds, [&](const PrefixMembers::Member& m) {
      return member_error(status, out.error, m);
    });
    try {
      store_.finish_run(run_id_, status, pos_.train_seconds, out.error);
    } catch (const std::exception& e) {
      // A lost claim or a broken disk: the outcome the log holds is not this process's to decide.
      if (out.error.empty()) out.error = e.what();
      else out.error += fmt::format(" (and the log could not record it: {})", e.what());
      if (status != RunStatus::failed) out.status = RunStatus::failed;
    }
    if (auto r = store_.get_run(run_id_)) {
      out.final_test_acc = r->final_test_acc;
      out.best_test_acc = r->best_test_acc;
    }
    for (const PrefixMembers::Member& m : members_.members()) {
      TrainOutcome o;
      o.run_id = m.run_id;
      o.status = m.status;
      o.train_seconds = m.train_seconds;
      o.error = m.error;
      if (auto r = store_.get_run(m.run_id)) {
        o.final_test_acc = r->final_test_acc;
        o.best_test_acc = r->best_test_acc;
        o.epochs_done = r->epochs_done;
      }
      out.members.push_back(std::move(o));
    }
    return out;
  }

 private:
  // The heartbeat keeps the claim alive on its own thread and connection, and doubles as the watchdog that
  // honours a second Ctrl-C whatever the training thread is doing.
  void start_heartbeat(const RunClaim& claim) {
    uid_ = claim.uid;
    auto beat_store = std::make_shared<RunStore>(RunStore::open(opts_.db_path));
    beat_store->adopt_claim(claim);
    for (std::int64_t member : members_.riding_runs()) beat_store->adopt_claim(store_.claim_of(member));
    const std::int64_t id = claim.run_id;
    const std::string db = opts_.db_path;
    auto beat = [this, beat_store, id] {
      try {
        if (!beat_store->heartbeat(id)) claim_lost_.store(true);
      } catch (const std::exception&) {
        // A busy or full disk: the next beat tries again; the lease covers many missed beats.
      }
      for (std::int64_t member : members_.riding_runs()) {
        try {
          if (!beat_store->heartbeat(member)) members_.claim_lost(member);
        } catch (const std::exception&) {
        }
      }
    };
    auto watchdog = [this, beat_store, id, db] {
      if (!g_force_stop.load()) return;
      try {
        beat_store->finish_run(id, RunStatus::interrupted, checkpoint_train_seconds_.load(),
                               fmt::format("stopped at once by a second interrupt; the last checkpoint (epoch {} "
                                           "batch {}) is kept; continue with: incept resume {} --db {}",
                                           checkpoint_epoch_.load(), checkpoint_batch_.load(), id, db));
      } catch (const std::exception&) {
      }
      members_.stop_at_once(*beat_store, checkpoint_train_seconds_.load(),
                            fmt::format("run {}, which it was trained with", id));
      std::fputs("interrupted again: stopped at once (run marked interrupted; its last checkpoint is kept)\n", stderr);
      ::_exit(130);
    };
    note_checkpoint_position();
    heartbeat_ = std::make_unique<HeartbeatThread>(beat, kHeartbeatSeconds, watchdog);
    g_watchdog_active.store(true);
  }

  void note_checkpoint_position() {
    checkpoint_epoch_.store(checkpoint_.epochs_done);
    checkpoint_batch_.store(checkpoint_.next_batch);
    checkpoint_train_seconds_.store(pos_.train_seconds);
  }

  void check_claim() const {
    if (claim_lost_.load())
      throw UserError(fmt::format("run {} was taken over by another process (its claim was lost); this process "
                                  "stops without recording anything more",
                                  run_id_));
  }

  // Epochs from the current position to the last; each a pass over its batches, an evaluation and a record. Any
  // non-completed outcome stops the run; `out.error` says why.
  RunStatus loop(TrainOutcome& out) {
    BatchOrder order(data_.train.size(), tc_.batch_size, tc_.seed);
    net_->train();
    for (; pos_.epochs_done < tc_.epochs; ++pos_.epochs_done) {
      const std::int64_t epoch = pos_.epochs_done;
      const Clock::time_point epoch_start = Clock::now() - std::chrono::duration_cast<Clock::duration>(
                                                                std::chrono::duration<double>(pos_.epoch_seconds));
      progress_.start_epoch(epoch + 1, tc_.epochs, order.batches());
      double lr = 0;
      if (auto stop = train_batches(order, epoch_start, lr, out)) return *stop;
      const double train_seconds = seconds_since(epoch_start);
      EvalResult test = evaluate(net_, data_.test, tc_.eval_batch_size, tc_, &g_interrupted);
      if (test.stopped) {
        // Every batch of the epoch is trained: the resumed run starts with this evaluation.
        pos_.epoch_seconds = seconds_since(epoch_start);
        return stop_interrupted(fmt::format("while evaluating epoch {}", epoch + 1), out);
      }
      check_claim();
      record_epoch(lr, test, train_seconds, seconds_since(epoch_start));
      if (g_interrupted.load()) {
        ++pos_.epochs_done;
        return stop_interrupted(fmt::format("after epoch {}", epoch + 1), out, /*checkpoint=*/false);
      }
    }
    return RunStatus::completed;
  }

  // The rest of the current epoch's batches, from pos_.next_batch. Sets `lr` to the last batch's learning rate.
  // Returns how the run stops (diverged, interrupted), or nothing when every batch is done.
  std::optional<RunStatus> train_batches(const BatchOrder& order, Clock::time_point epoch_start, double& lr,
                                         TrainOutcome& out) {
    const std::int64_t epoch = pos_.epochs_done, batches = order.batches();
    const auto schedule_position = [&](std::int64_t batch) {
      return static_cast<double>(epoch) + static_cast<double>(batch) / static_cast<double>(batches);
    };
    // A resume that starts after the last batch (stopped during the evaluation) records the last batch's rate.
    lr = learning_rate_at(tc_, schedule_position(std::max<std::int64_t>(0, pos_.next_batch - 1)));
    torch::Tensor indices = order.epoch_indices(epoch).to(device_);
    for (; pos_.next_batch < batches; ++pos_.next_batch) {
      check_claim();
      lr = learning_rate_at(tc_, schedule_position(pos_.next_batch));
      set_learning_rate(*optimizer_, lr);
      train_step(order.batch_indices(indices, pos_.next_batch));
      if (metrics_.due(pos_.next_batch + 1 == batches)) {
        if (auto bad = metrics_.read_into(pos_)) {
          out.error = fmt::format("loss became {} at epoch {} {}", bad->loss, epoch + 1,
                                  bad->first_batch == pos_.next_batch
                                      ? fmt::format("batch {}", pos_.next_batch + 1)
                                      : fmt::format("within batches {}-{}", bad->first_batch + 1, pos_.next_batch + 1));
          progress_.message("diverged: " + out.error);
          return RunStatus::diverged;
        }
        progress_.batch(pos_.next_batch + 1, pos_.loss_sum / static_cast<double>(pos_.seen),
                        static_cast<double>(pos_.correct) / static_cast<double>(pos_.seen),
                        static_cast<double>(pos_.seen) / std::max(1e-9, seconds_since(epoch_start)));
      }
      scaler_.scale(step_loss_).backward();
      scaler_.step(*optimizer_);
      if (g_interrupted.load()) {
        (void)metrics_.read_into(pos_);  // the batches not yet read back belong in the checkpoint
        ++pos_.next_batch;
        pos_.epoch_seconds = seconds_since(epoch_start);
        return stop_interrupted(fmt::format("at epoch {} batch {}", epoch + 1, pos_.next_batch), out);
      }
    }
    return std::nullopt;
  }

  // Forward pass and loss of one batch (main head plus weighted aux heads), its running metrics queued; leaves the
  // total loss in step_loss_ for the backward pass.
  void train_step(const torch::Tensor& idx) {
    const Split& train = data_.train;
    // Gathered into buffers reused across batches rather than freshly allocated ones.
    torch::index_select_out(x_buf_, train.images, 0, idx);
    torch::index_select_out(y_buf_, train.labels, 0, idx);
    const torch::Tensor& y = y_buf_;
    for (auto& p : net_->parameters()) p.mutable_grad().reset();  // backward allocates them afresh
    AutocastScope autocast(amp_);
    ForwardResult f = net_->forward_train(network_input(x_buf_, tc_));
    const TrainingLoss losses = training_loss(f, y, tc_.label_smoothing);
    step_loss_ = losses.total;
    metrics_.add(losses.main.detach(), losses.total.detach(), f.logits.detach().argmax(1).eq(y).sum(), y.size(0));
  }

  // The epoch's figures and the checkpoint after it, in one transaction; the position moves to the next epoch.
  void record_epoch(double lr, const EvalResult& test, double train_seconds, double epoch_seconds) {
    const EpochRecord e = finish_epoch(run_id_, pos_, test, lr, train_seconds, epoch_seconds);
    write_checkpoint(e);
    progress_.end_epoch(fmt::format(
        "epoch {}/{}  train loss {:.4f} acc {:.2f}%  test loss {:.4f} acc {:.2f}%  lr {:.4g}  {:.1f} s  {:.0f} img/s",
        e.epoch, tc_.epochs, e.train_loss, 100 * e.train_acc, e.test_loss, 100 * e.test_acc, e.lr, e.seconds,
        e.images_per_s));
    --pos_.epochs_done;  // the for-loop increment moves past this epoch
  }

  // Stops the run as interrupted `where`, checkpointing the current position first (unless the last epoch's
  // checkpoint already holds it), and says how to continue.
  RunStatus stop_interrupted(const std::string& where, TrainOutcome& out, bool checkpoint = true) {
    stopped_where_ = where;
    if (checkpoint) write_checkpoint(std::nullopt);
    out.error = fmt::format("interrupted {}; continue with: incept resume {} --db {}", where, run_id_, opts_.db_path);
    progress_.message(out.error);
    return RunStatus::interrupted;
  }

  // Writes a checkpoint of the current position under a new name, then records it (with `epoch`, when an epoch
  // just ended, in the same transaction), then removes the one it replaces: at every moment the log vouches for a
  // checkpoint that exists. A checkpoint that cannot be written still lets the epoch's figures be recorded.
  void write_checkpoint(const std::optional<EpochRecord>& epoch) {
    check_claim();
    pos_.loss_scale = amp_ ? scaler_.current_scale() : 0;
    pos_.loss_scale_good_steps = amp_ ? scaler_.good_steps() : 0;
    CheckpointRef ref;
    try {
      ref = save_checkpoint(checkpoint_file(checkpoint_dir_, uid_, pos_), CheckpointOwner{uid_, cfg_.hash}, *net_,
                            *optimizer_, pos_);
    } catch (const UserError&) {
      if (epoch) {
        store_.record_epoch(*epoch);
        members_.record_epoch_without_checkpoint(*epoch);
      }
      throw;
    }
    if (epoch) store_.record_epoch(*epoch, ref);
    else store_.set_checkpoint(run_id_, ref);
    const std::string previous = checkpoint_.path;
    checkpoint_ = ref;
    note_checkpoint_position();
    if (!previous.empty() && previous != ref.path) std::remove(previous.c_str());
    // The same state, for every member still riding: its epoch and its own checkpoint, or its end.
    members_.checkpointed(
        epoch,
        [this](const std::string& uid, const std::string& config_hash) {
          return save_checkpoint(checkpoint_file(checkpoint_dir_, uid, pos_), CheckpointOwner{uid, config_hash},
                                 *net_, *optimizer_, pos_);
        },
        pos_.train_seconds);
  }

  // How a member that was still riding ends, given how this training ended: the same way, since up to here it is
  // the same computation.
  std::string member_error(RunStatus status, const std::string& error, const PrefixMembers::Member& m) const {
    switch (status) {
      case RunStatus::interrupted:
        return fmt::format("interrupted {} with run {}, which it was trained with; continue with: incept resume {} "
                           "--db {}",
                           stopped_where_, run_id_, m.run_id, opts_.db_path);
      case RunStatus::diverged:
        return fmt::format("{} (trained with run {}: the same computation up to this run's last epoch)", error,
                           run_id_);
      case RunStatus::failed:
        return fmt::format("{} (while trained with run {})", error, run_id_);
      case RunStatus::completed:
      case RunStatus::running:
        break;
    }
    // Completed: every member reached its end before the training's; nothing is left riding.
    return error;
  }

  const ExperimentConfig& cfg_;
  TrainOptions opts_;
  TrainConfig tc_;
  torch::Device device_;
  RunStore store_;
  Progress progress_;
  PrefixMembers members_;   // runs recorded from this training at their own last epochs
  std::string stopped_where_;  // "at epoch 2 batch 40", for the members an interruption stops
  Dataset data_;
  Network net_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  torch::Tensor x_buf_, y_buf_;  // batch buffers reused across batches
  torch::Tensor step_loss_;      // the current batch's total loss (main + weighted aux heads)
  bool amp_ = false;
  GradScaler scaler_{false};
  RunningMetrics metrics_;
  std::int64_t run_id_ = 0;
  std::string uid_;
  std::string checkpoint_dir_;
  CheckpointRef checkpoint_;  // the checkpoint the log vouches for
  TrainPosition pos_;
  // Shared with the heartbeat thread.
  std::atomic<bool> claim_lost_{false};
  std::atomic<std::int64_t> checkpoint_epoch_{0}, checkpoint_batch_{0};
  std::atomic<double> checkpoint_train_seconds_{0};
  std::unique_ptr<HeartbeatThread> heartbeat_;  // last: stopped first
};

}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

TrainOutcome train_experiment(const ExperimentConfig& cfg, const TrainOptions& options) {
  g_interrupted.store(false);
  g_force_stop.store(false);
  if (!options.expect_experiment.empty() && experiment_hash(cfg.resolved) != options.expect_experiment)
    throw UserError(fmt::format("{}: resolves to experiment {}, not the {} the sweep planned", cfg.path,
                                experiment_hash(cfg.resolved), options.expect_experiment));
  for (const PrefixMemberConfig& m : options.prefix_members) {
    const ExperimentConfig& c = m.config;
    if (!m.expect_experiment.empty() && experiment_hash(c.resolved) != m.expect_experiment)
      throw UserError(fmt::format("{}: resolves to experiment {}, not the {} the sweep planned", c.path,
                                  experiment_hash(c.resolved), m.expect_experiment));
    if (auto why = prefix_member_mismatch(cfg.resolved, c.resolved))
      throw UserError(fmt::format("{} cannot be recorded from the training of {}: {}", c.path, cfg.path, *why));
  }
  if (!options.pack_with.empty()) {
    if (!options.prefix_members.empty())
      throw UserError("a training records prefix members or trains in a pack, not both (--prefix-members and "
                      "--pack-with)");
    return train_packed(cfg, options);
  }
  // A CUDA graph needs the packed step (its learning rates live in device tensors): a pack of one.
  if (cfg.train.cuda_graph) {
    if (!choose_device(cfg.train.device).is_cuda()) {
      if (!options.quiet) std::cerr << "note: train.cuda_graph applies to CUDA only; training eagerly on the CPU\n";
    } else if (options.prefix_members.empty() && !cfg.train.amp) {
      return train_packed(cfg, options);
    } else if (!options.quiet) {
      std::cerr << "note: train.cuda_graph is not used with train.amp or with runs recorded from this one\n";
    }
  }
  Run run(cfg, options);
  run.begin();
  return run.train();
}

namespace {

// The runs of `options.resume_with` that can be resumed with `leader`: stopped, with a checkpoint of the same
// payload at the same position (the state they were trained to together), each the same computation as the
// leader up to its own last epoch. Any other is named and left alone (it resumes on its own).
std::vector<RunRecord> resumable_members(const RunRecord& leader, const ExperimentConfig& cfg,
                                         const TrainOptions& options) {
  std::vector<RunRecord> out;
  if (options.resume_with.empty()) return out;
  RunStore store = RunStore::open(options.db_path);
  for (std::int64_t id : options.resume_with) {
    std::optional<RunRecord> r = store.get_run(id);
    std::string why;
    if (!r) {
      why = "not found";
    } else if (r->status == RunStatus::completed || r->status == RunStatus::running) {
      why = fmt::format("it is {}", to_string(r->status));
    } else if (r->checkpoint.md5.empty() || r->checkpoint.md5 != leader.checkpoint.md5 ||
               r->checkpoint.epochs_done != leader.checkpoint.epochs_done ||
               r->checkpoint.next_batch != leader.checkpoint.next_batch) {
      why = "its checkpoint does not hold the same state";
    } else {
      try {
        const toml::table member = toml::parse(r->config_toml);
        if (auto mismatch = prefix_member_mismatch(cfg.resolved, member)) why = *mismatch;
        else verify_checkpoint(*r, r->epochs_done);
      } catch (const toml::parse_error& e) {
        why = fmt::format("its stored config is unreadable: {}", e.description());
      } catch (const UserError& e) {
        why = e.what();
      }
    }
    if (why.empty()) out.push_back(*r);
    else std::cerr << fmt::format("note: run {} is not resumed with run {}: {}\n", id, leader.id, why);
  }
  return out;
}

}  // namespace

TrainOutcome resume_run(std::int64_t run_id, const TrainOptions& options) {
  g_interrupted.store(false);
  g_force_stop.store(false);
  if (!options.pack_with_runs.empty()) return resume_packed(run_id, options);
  const StoppedRun stopped = stopped_run(open_log_to_resume(options.db_path), run_id, options.db_path);
  TrainOptions opts = options;
  opts.sweep = stopped.record.sweep;
  opts.variant = stopped.record.variant;
  opts.prefix_members.clear();
  const std::vector<RunRecord> members = resumable_members(stopped.record, stopped.config, options);
  Run run(stopped.config, opts);
  run.resume_from(stopped.record, stopped.checkpoint, members);
  return run.train();
}

RunStore open_log_to_resume(const std::string& db_path) {
  if (!std::filesystem::is_regular_file(db_path)) throw UserError(fmt::format("no database at {}", db_path));
  RunStore store = RunStore::open(db_path);
  store.mark_stale_runs();
  return store;
}

StoppedRun stopped_run(const RunStore& store, std::int64_t id, const std::string& db_path) {
  std::optional<RunRecord> record = store.get_run(id);
  if (!record) throw UserError(fmt::format("run {} not found in {}", id, db_path));
  if (record->status == RunStatus::completed) throw UserError(fmt::format("run {} already completed", id));
  if (record->status == RunStatus::running) throw UserError(held_by_another_message(*record));
  if (record->checkpoint.path.empty())
    throw UserError(fmt::format("run {} has no checkpoint (it stopped before its first one); train it again", id));
  VerifiedCheckpoint checkpoint = verify_checkpoint(*record, record->epochs_done);
  toml::table root;
  try {
    root = toml::parse(record->config_toml, std::string_view("run " + std::to_string(id) + " config"));
  } catch (const toml::parse_error& e) {
    throw UserError(fmt::format("run {}: stored config is unreadable: {}", id, e.description()));
  }
  ExperimentConfig config = resolve_experiment(std::move(root), record->name);
  return {std::move(*record), std::move(checkpoint), std::move(config)};
}

}  // namespace incept
