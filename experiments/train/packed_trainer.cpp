#include "experiments/train/packed_trainer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <atomic>
#include <deque>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <torch/torch.h>

#include "experiments/config/experiment_identity.h"
#include "experiments/data/batch_order.h"
#include "experiments/data/dataset.h"
#include "experiments/store/heartbeat_thread.h"
#include "experiments/store/run_store.h"
#include "experiments/train/checkpoint.h"
#include "experiments/train/optimization.h"
#include "experiments/train/packed_optimizer.h"
#include "experiments/train/packed_step.h"
#include "experiments/train/progress.h"
#include "experiments/train/running_metrics.h"
#include "experiments/train/train_parts.h"
#include "experiments/train/training_loss.h"
#include "framework/config_loader.h"
#include "framework/packed_model.h"

namespace incept {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Why `member` cannot train in a pack with `leader`: the first setting that differs outside the members' own
// (experiment_identity.h), or amp, which keeps one loss scale per run.
std::optional<std::string> packing_mismatch(const ExperimentConfig& leader, const ExperimentConfig& member) {
  if (leader.train.amp || member.train.amp) return std::string("train.amp is not packed (one loss scale per run)");
  if (auto why = packed_optimizer_mismatch(leader.train, member.train)) return why;
  if (packing_key(leader.resolved) != packing_key(member.resolved))
    return std::string("they differ in a setting the members of a pack share (the network, the data, train.epochs, "
                       "the batch sizes, the device or threads)");
  return std::nullopt;
}

// One member of the pack: a run of its own.
struct Member {
  const ExperimentConfig* cfg = nullptr;
  std::string variant, expect_experiment;
  std::int64_t run_id = 0;
  std::string uid;
  std::string checkpoint_dir;
  CheckpointRef checkpoint;  // the one its log vouches for
  TrainPosition pos;
  RunStatus status = RunStatus::running;
  std::string error;
  std::unique_ptr<BatchOrder> order;
  torch::Tensor epoch_order;  // this epoch's sample order (on the device)
  double lr = 0;              // the current batch's learning rate
  // Its own network and optimizer on the CPU, for its checkpoints (the packed network holds the numbers).
  Network scratch{nullptr};
  std::unique_ptr<torch::optim::Optimizer> scratch_optimizer;
  torch::Generator rng;  // what its dropout draws from (on the CPU), saved as its CPU RNG state
  std::atomic<bool> claim_lost{false};

  bool training() const { return status == RunStatus::running; }
};

class PackedRun {
 public:
  PackedRun(std::vector<const ExperimentConfig*> configs, std::vector<std::string> variants, const TrainOptions& opts)
      : opts_(opts), tc_(configs.front()->train), device_(choose_device(tc_.device)),
        store_(RunStore::open(opts.db_path)), progress_(detect_progress_mode(opts.quiet), std::cerr) {
    const auto k = static_cast<std::int64_t>(configs.size());
    configure_threads(tc_);
    data_ = load_dataset(configs.front()->data, device_);
    for (std::size_t i = 0; i < configs.size(); ++i) {
      auto m = std::make_unique<Member>();
      m->cfg = configs[i];
      m->variant = variants[i];
      m->checkpoint_dir = checkpoint_dir_for(m->cfg->train, opts.db_path);
      check_checkpoint_dir(m->checkpoint_dir, m->cfg->path);
      check_data_fits_model(data_, *m->cfg);
      members_.push_back(std::move(m));
    }
    packed_ = PackedNetwork(configs.front()->model, k);
    if (device_.is_cpu()) check_activations_fit(*configs.front(), data_, k);
    // Each member starts as its own run would: the default generator seeded with its seed, its network built and
    // initialised from it; the generator's state after that is what its dropout then draws from.
    std::vector<TrainConfig> train_configs;
    for (std::int64_t i = 0; i < k; ++i) {
      Member& m = *members_[static_cast<std::size_t>(i)];
      torch::manual_seed(m.cfg->train.seed);
      m.scratch = Network(m.cfg->model);
      initialize_weights(*m.scratch, m.cfg->train);
      packed_->load_member(i, *m.scratch);
      m.rng = at::detail::getDefaultCPUGenerator().clone();
      m.scratch_optimizer = make_optimizer(m.cfg->train, m.scratch->parameters());
      m.order = std::make_unique<BatchOrder>(data_.train.size(), tc_.batch_size, m.cfg->train.seed);
      train_configs.push_back(m.cfg->train);
    }
    // Every member's running figures summed as one [K] tensor each: on CUDA, read back every 50 batches.
    metrics_ = RunningMetrics(device_, device_.is_cuda() ? 50 : 1, k);
    packed_->to(device_);
    if (device_.is_cpu())
      for (std::int64_t i = 0; i < k; ++i) packed_->set_member_generator(i, members_[static_cast<std::size_t>(i)]->rng);
    optimizer_ = std::make_unique<PackedOptimizer>(packed_->parameters(), train_configs);
    if (device_.is_cuda()) configure_cudnn(tc_);
    step_ = std::make_unique<PackedStep>(*packed_, *optimizer_, k, device_, tc_.cuda_graph, tc_.batch_size);
    note_step_changes();
    // The packed network is NCHW and runs its branches in turn: say so rather than record a switch as if applied.
    // (A pack of one too: a CUDA-graphed `incept train` runs through here.)
    if (tc_.channels_last || tc_.parallel_branches)
      note("train.channels_last and train.parallel_branches do not apply to a packed network or a CUDA-graphed step "
           "(it trains NCHW, branch after branch); the runs' figures are those of the same computation up to float "
           "rounding");
  }

  ~PackedRun() {
    heartbeat_.reset();
    set_watchdog_active(false);
  }

  void begin() {
    try {
      begin_runs();
    } catch (const std::exception& e) {
      // Runs already begun end failed with the reason, rather than wait, marked running, for a stale lease.
      for (auto& m : members_)
        if (m->run_id != 0) {
          try {
            store_.finish_run(m->run_id, RunStatus::failed, 0, e.what());
          } catch (const std::exception&) {
          }
        }
      throw;
    }
    start_heartbeat();
    progress_.message(fmt::format("training {} runs as one packed network: {}", members_.size(), join_ids()));
  }

  void begin_runs() {
    for (auto& mp : members_) {
      Member& m = *mp;
      RunRecord r;
      r.name = m.cfg->name;
      r.config_toml = m.cfg->toml_text;
      r.config_hash = m.cfg->hash;
      r.experiment_hash = experiment_hash(m.cfg->resolved);
      r.device = device_.str();
      r.torch_version = TORCH_VERSION;
      r.sweep = opts_.sweep;
      r.variant = m.variant;
      r.seed = static_cast<std::int64_t>(m.cfg->train.seed);
      r.params = m.cfg->model.cost().params + m.cfg->model.aux_cost().params;
      r.macs = m.cfg->model.cost().macs;
      r.epochs_planned = m.cfg->train.epochs;
      m.run_id = store_.begin_run(r);
      store_.add_layers(m.run_id, layer_records(m.cfg->model));
      m.uid = store_.claim_of(m.run_id).uid;
    }
    record_packing();
  }

  // runs.packed_with / pack_size / cuda_graph of every member still training (a pack of one is not a pack).
  void record_packing() {
    const auto k = static_cast<std::int64_t>(members_.size());
    for (auto& m : members_)
      if (m->training() && (k > 1 || step_->graphed()))
        store_.set_packing(m->run_id, k > 1 ? members_.front()->uid : "", k > 1 ? k : 0, step_->graphed());
  }

  // A note for the person running it, shown with --quiet too (a sweep's trainings are quiet).
  void note(const std::string& text) { std::cerr << "note: " << text << "\n" << std::flush; }

  // Says once when the step started replaying a CUDA graph (and records it on the runs), or why it could not.
  void note_step_changes() {
    if (!step_fallback_noted_ && !step_->fallback_reason().empty()) {
      step_fallback_noted_ = true;
      note("train.cuda_graph: training without a CUDA graph: " + step_->fallback_reason());
    }
    if (!graph_noted_ && step_->graphed()) {
      graph_noted_ = true;
      progress_.message("training steps now replay a CUDA graph");
      if (members_.front()->run_id != 0) record_packing();
    }
  }

  // Claims each stopped run and loads its checkpoint into its slice of the pack: its network, its optimizer's
  // state, its dropout generator and its position. Anything that goes wrong gives every claimed run back as it was.
  void resume_from(const std::deque<StoppedRun>& runs) {
    std::vector<const RunRecord*> claimed;
    try {
      for (std::size_t i = 0; i < members_.size(); ++i) {
        Member& m = *members_[i];
        const RunRecord& r = runs[i].record;
        const VerifiedCheckpoint& checkpoint = runs[i].checkpoint;
        m.run_id = r.id;
        m.uid = store_.claim_run(r.id, r.checkpoint.md5).uid;
        claimed.push_back(&r);
        m.pos = load_checkpoint(checkpoint, *m.scratch, *m.scratch_optimizer, torch::Device(torch::kCPU));
        if (!checkpoint.legacy &&
            (m.pos.epochs_done != r.checkpoint.epochs_done || m.pos.next_batch != r.checkpoint.next_batch))
          throw UserError(fmt::format("checkpoint {}: its payload holds epoch {} batch {}, its header another position",
                                      checkpoint.path, m.pos.epochs_done, m.pos.next_batch));
        const auto k = static_cast<std::int64_t>(i);
        packed_->load_member(k, *m.scratch);
        optimizer_->load_member(k, *m.scratch_optimizer, m.scratch->parameters());
        m.rng = at::detail::getDefaultCPUGenerator().clone();  // load_checkpoint restored its CPU RNG state
        if (device_.is_cpu()) packed_->set_member_generator(k, m.rng);
        m.checkpoint = r.checkpoint;
        m.checkpoint.epochs_done = m.pos.epochs_done;
        m.checkpoint.next_batch = m.pos.next_batch;
      }
      const TrainPosition& first = members_.front()->pos;
      for (const auto& m : members_)
        if (m->pos.epochs_done != first.epochs_done || m->pos.next_batch != first.next_batch)
          throw UserError(fmt::format("run {} stopped at epoch {} batch {}, run {} at epoch {} batch {}: a pack resumes "
                                      "from one position",
                                      members_.front()->run_id, first.epochs_done, first.next_batch, m->run_id,
                                      m->pos.epochs_done, m->pos.next_batch));
    } catch (const std::exception&) {
      for (const RunRecord* r : claimed) {
        try {
          store_.release_run(r->id, r->status, r->error);
        } catch (const std::exception&) {
        }
      }
      throw;
    }
    for (std::size_t i = 0; i < members_.size(); ++i) {
      Member& m = *members_[i];
      // Epochs recorded after the checkpoint are trained again, as a resume alone does.
      store_.delete_epochs_from(m.run_id, static_cast<int>(m.pos.epochs_done) + 1);
      remove_other_checkpoints(m.checkpoint_dir, m.uid, m.checkpoint.path);
    }
    record_packing();
    start_heartbeat();
    progress_.message(fmt::format("resuming runs {} as one packed network at epoch {} batch {}", join_ids(),
                                  members_.front()->pos.epochs_done + 1, members_.front()->pos.next_batch));
  }

  TrainOutcome train() {
    std::string error;
    RunStatus status = RunStatus::failed;
    try {
      status = loop();
    } catch (const c10::Error& e) {
      error = e.what_without_backtrace();
    } catch (const std::exception& e) {
      error = e.what();
    }
    heartbeat_.reset();
    set_watchdog_active(false);
    for (auto& mp : members_) {
      Member& m = *mp;
      if (!m.training()) continue;
      // Completed, or stopped with the pack: interrupted (checkpointed by the loop) or failed with its error.
      end(m, status, status == RunStatus::failed ? error : m.error);
    }
    std::vector<TrainOutcome> outcomes;
    for (auto& mp : members_) {
      const Member& m = *mp;
      TrainOutcome o;
      o.run_id = m.run_id;
      if (!m.variant.empty()) o.label = fmt::format("{} seed={}", m.variant, m.cfg->train.seed);
      o.status = m.status;
      o.error = m.error;
      o.train_seconds = m.pos.train_seconds;
      if (auto r = store_.get_run(m.run_id)) {
        o.final_test_acc = r->final_test_acc;
        o.best_test_acc = r->best_test_acc;
        o.epochs_done = r->epochs_done;
      }
      outcomes.push_back(std::move(o));
    }
    TrainOutcome leader = std::move(outcomes.front());
    leader.members.assign(std::make_move_iterator(outcomes.begin() + 1), std::make_move_iterator(outcomes.end()));
    leader.packed = true;
    return leader;
  }

 private:
  std::string join_ids() const {
    std::string out;
    for (const auto& m : members_) out += (out.empty() ? "" : ", ") + std::to_string(m->run_id);
    return out;
  }

  std::size_t training_count() const {
    std::size_t n = 0;
    for (const auto& m : members_) n += m->training() ? 1 : 0;
    return n;
  }

  void start_heartbeat() {
    auto beat_store = std::make_shared<RunStore>(RunStore::open(opts_.db_path));
    for (auto& m : members_) beat_store->adopt_claim(store_.claim_of(m->run_id));
    auto beat = [this, beat_store] {
      for (auto& m : members_) {
        if (!riding(*m)) continue;
        try {
          if (!beat_store->heartbeat(m->run_id)) m->claim_lost.store(true);
        } catch (const std::exception&) {
          // A busy or full disk: the next beat tries again; the lease covers many missed beats.
        }
      }
    };
    auto watchdog = [this, beat_store] {
      if (!force_stop_requested().load()) return;
      for (auto& m : members_) {
        if (!riding(*m)) continue;
        try {
          beat_store->finish_run(m->run_id, RunStatus::interrupted, last_train_seconds_.load(),
                                 fmt::format("stopped at once by a second interrupt; its last checkpoint is kept; "
                                             "continue with: incept resume {} --db {}",
                                             m->run_id, opts_.db_path));
        } catch (const std::exception&) {
        }
      }
      std::fputs("interrupted again: stopped at once (runs marked interrupted; their last checkpoints are kept)\n",
                 stderr);
      ::_exit(130);
    };
    heartbeat_ = std::make_unique<HeartbeatThread>(beat, kHeartbeatSeconds, watchdog);
    set_watchdog_active(true);
  }

  // Whether the heartbeat keeps `m`'s claim alive (thread-safe).
  bool riding(const Member& m) const {
    std::lock_guard<std::mutex> lock(riding_mutex_);
    return m.status == RunStatus::running;
  }

  // Ends a member's run: its status in the log (its claim with it), and the member stops training.
  void end(Member& m, RunStatus status, const std::string& error) {
    {
      std::lock_guard<std::mutex> lock(riding_mutex_);
      m.status = status;
      m.error = error;
    }
    try {
      store_.finish_run(m.run_id, status, m.pos.train_seconds, error);
    } catch (const std::exception& e) {
      // A lost claim or a broken disk: the outcome the log holds is not this process's to decide.
      m.status = RunStatus::failed;
      m.error = error.empty() ? e.what() : fmt::format("{} (and the log could not record it: {})", error, e.what());
    }
  }

  // A member whose claim another process took: it stops here without writing anything more.
  void drop_lost_claims() {
    for (std::size_t i = 0; i < members_.size(); ++i) {
      Member& m = *members_[i];
      if (!m.training() || !m.claim_lost.load()) continue;
      optimizer_->stop_member(static_cast<std::int64_t>(i));
      std::lock_guard<std::mutex> lock(riding_mutex_);
      m.status = RunStatus::failed;
      m.error = fmt::format("run {} was taken over by another process (its claim was lost); this process stopped "
                            "training it without recording anything more",
                            m.run_id);
    }
  }

  RunStatus loop() {
    const std::int64_t epochs = tc_.epochs;
    const std::int64_t batches = members_.front()->order->batches();
    // Every member stands at the same position: a fresh pack at the start, a resumed one at its checkpoints'.
    const TrainPosition start = members_.front()->pos;
    packed_->train();
    for (std::int64_t epoch = start.epochs_done; epoch < epochs; ++epoch) {
      const std::int64_t first_batch = epoch == start.epochs_done ? start.next_batch : 0;
      const double seconds_before = epoch == start.epochs_done ? start.epoch_seconds : 0.0;
      const Clock::time_point epoch_start =
          Clock::now() - std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds_before));
      progress_.start_epoch(epoch + 1, epochs, batches);
      for (auto& m : members_) {
        m->epoch_order = m->order->epoch_indices(epoch).to(device_);
        // A resume after the last batch (stopped while evaluating) records the last batch's rate.
        m->lr = learning_rate_at(m->cfg->train, static_cast<double>(epoch) +
                                                    static_cast<double>(std::max<std::int64_t>(0, first_batch - 1)) /
                                                        static_cast<double>(batches));
      }
      for (std::int64_t b = first_batch; b < batches; ++b) {
        drop_lost_claims();
        if (training_count() == 0) return RunStatus::failed;
        std::vector<double> lrs;
        std::vector<torch::Tensor> indices;
        for (auto& m : members_) {
          m->lr = learning_rate_at(m->cfg->train, static_cast<double>(epoch) + static_cast<double>(b) /
                                                                                static_cast<double>(batches));
          lrs.push_back(m->lr);
          indices.push_back(m->order->batch_indices(m->epoch_order, b));
        }
        optimizer_->prepare(lrs);
        const PackedStepResult r = step_->run(data_.train, torch::stack(indices), label_smoothing());
        metrics_.add(r.main_loss, r.total_loss, r.correct, r.batch_size);
        step_->finish();  // an eager step's backward pass and update (a replayed graph has done them)
        note_step_changes();
        if (metrics_.due(b + 1 == batches)) stop_diverged(metrics_.read_members(positions(b)), epoch, b, epoch_start);
        if (training_count() == 0) return RunStatus::diverged;
        last_train_seconds_.store(members_.front()->pos.train_seconds);
        if (interrupt_requested().load()) {
          (void)metrics_.read_members(positions(b));  // the batches not yet read back belong in the checkpoints
          for (auto& m : members_)
            if (m->training()) {
              m->pos.next_batch = b + 1;
              m->pos.epoch_seconds = seconds_since(epoch_start);
            }
          return stop_interrupted(fmt::format("at epoch {} batch {}", epoch + 1, b + 1));
        }
      }
      const double train_seconds = seconds_since(epoch_start);
      std::vector<EvalResult> tests = evaluate_members();
      if (tests.empty()) {
        for (auto& m : members_)
          if (m->training()) {
            m->pos.next_batch = batches;
            m->pos.epoch_seconds = seconds_since(epoch_start);
          }
        return stop_interrupted(fmt::format("while evaluating epoch {}", epoch + 1));
      }
      drop_lost_claims();
      record_epoch(tests, train_seconds, seconds_since(epoch_start));
      if (interrupt_requested().load()) {
        for (auto& m : members_)
          if (m->training())
            end(*m, RunStatus::interrupted,
                fmt::format("interrupted after epoch {}; continue with: incept resume {} --db {}", epoch + 1,
                            m->run_id, opts_.db_path));
        return RunStatus::interrupted;
      }
    }
    for (auto& m : members_)
      if (m->training()) end(*m, RunStatus::completed, "");
    return RunStatus::completed;
  }

  // Members whose running figures came back non-finite stop here, as their own runs would: recorded diverged at that
  // batch. Their slices are zeroed and their gradients ignored from now on; the others' numbers never depended on
  // them (tests/test_packing.cpp).
  void stop_diverged(const std::vector<std::optional<RunningMetrics::NonFinite>>& read, std::int64_t epoch,
                     std::int64_t b, Clock::time_point epoch_start) {
    for (std::size_t i = 0; i < members_.size(); ++i) {
      Member& m = *members_[i];
      const auto& bad = read[i];
      if (!m.training() || !bad) continue;
      optimizer_->stop_member(static_cast<std::int64_t>(i));
      m.pos.train_seconds += seconds_since(epoch_start);
      const std::string error =
          fmt::format("loss became {} at epoch {} {}", bad->loss, epoch + 1,
                      bad->first_batch == b ? fmt::format("batch {}", b + 1)
                                            : fmt::format("within batches {}-{}", bad->first_batch + 1, b + 1));
      progress_.message(fmt::format("run {} diverged: {} (the other members go on)", m.run_id, error));
      end(m, RunStatus::diverged, error);
    }
  }

  // Each training member's position, at batch `b` (the last one its running figures hold); nullptr for the others.
  std::vector<TrainPosition*> positions(std::int64_t b) {
    std::vector<TrainPosition*> out;
    for (auto& m : members_) {
      if (m->training()) m->pos.next_batch = b;
      out.push_back(m->training() ? &m->pos : nullptr);
    }
    return out;
  }

  std::vector<double> label_smoothing() const {
    std::vector<double> out;
    for (const auto& m : members_) out.push_back(m->cfg->train.label_smoothing);
    return out;
  }

  // Each member's test loss and accuracy (the same images for all); empty when an interrupt stopped the pass.
  std::vector<EvalResult> evaluate_members() {
    c10::InferenceMode inference;
    packed_->eval();
    const auto k = static_cast<std::int64_t>(members_.size());
    const Split& split = data_.test;
    const auto on_device = split.images.options();
    torch::Tensor loss_sum = torch::zeros({k}, on_device.dtype(torch::kFloat64));
    torch::Tensor correct = torch::zeros({k}, on_device.dtype(torch::kInt64));
    const std::int64_t n = split.size();
    for (std::int64_t start = 0; start < n; start += tc_.eval_batch_size) {
      if (interrupt_requested().load()) {
        packed_->train();
        return {};
      }
      const std::int64_t end = std::min(n, start + tc_.eval_batch_size);
      const torch::Tensor x = split.images.slice(0, start, end), y = split.labels.slice(0, start, end);
      std::vector<std::int64_t> shape = x.sizes().vec();
      shape.insert(shape.begin(), k);
      const torch::Tensor logits = packed_->forward(x.unsqueeze(0).expand(shape));  // [K, N, classes]
      const torch::Tensor targets = y.unsqueeze(0).expand({k, y.size(0)});
      loss_sum += torch::nn::functional::cross_entropy(logits.transpose(1, 2), targets,
                                                       torch::nn::functional::CrossEntropyFuncOptions().reduction(
                                                           torch::kNone))
                      .sum(1)
                      .to(torch::kFloat64);
      correct += logits.argmax(2).eq(targets).sum(1);
    }
    packed_->train();
    const double count = static_cast<double>(std::max<std::int64_t>(1, n));
    const torch::Tensor losses = loss_sum.cpu(), rights = correct.cpu();
    std::vector<EvalResult> out;
    for (std::int64_t i = 0; i < k; ++i)
      out.push_back({losses[i].item<double>() / count, static_cast<double>(rights[i].item<std::int64_t>()) / count,
                     false});
    return out;
  }

  // Each training member's epoch figures and its checkpoint after it, in one transaction.
  void record_epoch(const std::vector<EvalResult>& tests, double train_seconds, double epoch_seconds) {
    for (std::size_t i = 0; i < members_.size(); ++i) {
      Member& m = *members_[i];
      if (!m.training()) continue;
      const EpochRecord e = finish_epoch(m.run_id, m.pos, tests[i], m.lr, train_seconds, epoch_seconds);
      if (!write_checkpoint_or_end(i, e)) continue;
      progress_.end_epoch(fmt::format(
          "run {} epoch {}/{}  train loss {:.4f} acc {:.2f}%  test loss {:.4f} acc {:.2f}%  lr {:.4g}  {:.1f} s",
          m.run_id, e.epoch, tc_.epochs, e.train_loss, 100 * e.train_acc, e.test_loss, 100 * e.test_acc, e.lr,
          e.seconds));
    }
  }

  RunStatus stop_interrupted(const std::string& where) {
    for (std::size_t i = 0; i < members_.size(); ++i) {
      Member& m = *members_[i];
      if (!m.training()) continue;
      if (!write_checkpoint_or_end(i, std::nullopt)) continue;
      const std::string error =
          fmt::format("interrupted {}; continue with: incept resume {} --db {}", where, m.run_id, opts_.db_path);
      end(m, RunStatus::interrupted, error);
    }
    progress_.message(fmt::format("interrupted {}: every member checkpointed", where));
    return RunStatus::interrupted;
  }

  // write_checkpoint, but a member whose checkpoint or record cannot be written (its own checkpoint folder full,
  // its claim lost) ends failed with that error on its own — its epoch recorded without a checkpoint where the log
  // takes it — and the others go on. False when it ended.
  bool write_checkpoint_or_end(std::size_t i, const std::optional<EpochRecord>& epoch) {
    try {
      write_checkpoint(i, epoch);
      return true;
    } catch (const std::exception& e) {
      optimizer_->stop_member(static_cast<std::int64_t>(i));
      end(*members_[i], RunStatus::failed, e.what());
      return false;
    }
  }

  // Member i's checkpoint: its own network and optimizer state and its dropout generator as the CPU RNG state, so
  // the file is what its run alone would write and `incept resume` continues it alone. Recorded (with `epoch`) in
  // one transaction; the one it replaces is removed after.
  void write_checkpoint(std::size_t i, const std::optional<EpochRecord>& epoch) {
    Member& m = *members_[i];
    const auto k = static_cast<std::int64_t>(i);
    packed_->store_member(k, *m.scratch);
    optimizer_->store_member(k, *m.scratch_optimizer, m.scratch->parameters());
    if (device_.is_cpu()) m.rng = packed_->member_generator(k);
    CheckpointRef ref;
    try {
      at::Generator global = at::detail::getDefaultCPUGenerator();
      const torch::Tensor saved = global.get_state();
      global.set_state(m.rng.get_state());
      try {
        ref = save_checkpoint(checkpoint_file(m.checkpoint_dir, m.uid, m.pos), CheckpointOwner{m.uid, m.cfg->hash},
                              *m.scratch, *m.scratch_optimizer, m.pos);
      } catch (...) {
        global.set_state(saved);
        throw;
      }
      global.set_state(saved);
    } catch (const UserError&) {
      if (epoch) store_.record_epoch(*epoch);
      throw;
    }
    if (epoch) store_.record_epoch(*epoch, ref);
    else store_.set_checkpoint(m.run_id, ref);
    const std::string previous = m.checkpoint.path;
    m.checkpoint = ref;
    if (!previous.empty() && previous != ref.path) std::remove(previous.c_str());
  }

  TrainOptions opts_;
  TrainConfig tc_;  // the settings the members share (the leader's)
  torch::Device device_;
  RunStore store_;
  Progress progress_;
  Dataset data_;
  std::vector<std::unique_ptr<Member>> members_;
  PackedNetwork packed_{nullptr};
  std::unique_ptr<PackedOptimizer> optimizer_;
  std::unique_ptr<PackedStep> step_;
  RunningMetrics metrics_;  // every member's running figures, [K] each
  mutable std::mutex riding_mutex_;
  bool step_fallback_noted_ = false, graph_noted_ = false;
  std::atomic<double> last_train_seconds_{0};
  std::unique_ptr<HeartbeatThread> heartbeat_;  // last: stopped first
};

}  // namespace

TrainOutcome resume_packed(std::int64_t leader_id, const TrainOptions& options) {
  std::deque<StoppedRun> runs;  // a deque: the pack holds pointers to their configs
  {
    const RunStore store = open_log_to_resume(options.db_path);
    runs.push_back(stopped_run(store, leader_id, options.db_path));
    for (std::int64_t id : options.pack_with_runs) {
      try {
        StoppedRun r = stopped_run(store, id, options.db_path);
        const StoppedRun& leader = runs.front();
        if (auto mismatch = packing_mismatch(leader.config, r.config)) throw UserError(*mismatch);
        if (r.record.checkpoint.epochs_done != leader.record.checkpoint.epochs_done ||
            r.record.checkpoint.next_batch != leader.record.checkpoint.next_batch)
          throw UserError("its checkpoint is at another position");
        runs.push_back(std::move(r));
      } catch (const UserError& e) {
        std::cerr << fmt::format("note: run {} is not resumed with run {}: {}\n", id, leader_id, e.what());
      }
    }
  }
  std::vector<const ExperimentConfig*> members;
  std::vector<std::string> variants;
  for (const StoppedRun& r : runs) {
    members.push_back(&r.config);
    variants.push_back(r.record.variant);
  }
  TrainOptions opts = options;
  opts.sweep = runs.front().record.sweep;
  PackedRun run(members, variants, opts);
  run.resume_from(runs);
  return run.train();
}

TrainOutcome train_packed(const ExperimentConfig& leader, const TrainOptions& options) {
  std::vector<const ExperimentConfig*> configs{&leader};
  std::vector<std::string> variants{options.variant};
  for (const PrefixMemberConfig& m : options.pack_with) {
    const ExperimentConfig& c = m.config;
    if (!m.expect_experiment.empty() && experiment_hash(c.resolved) != m.expect_experiment)
      throw UserError(fmt::format("{}: resolves to experiment {}, not the {} the sweep planned", c.path,
                                  experiment_hash(c.resolved), m.expect_experiment));
    if (auto why = packing_mismatch(leader, c))
      throw UserError(fmt::format("{} cannot train in one pack with {}: {}", c.path, leader.path, *why));
    configs.push_back(&c);
    variants.push_back(m.variant);
  }
  PackedRun run(configs, variants, options);
  run.begin();
  return run.train();
}

}  // namespace incept
