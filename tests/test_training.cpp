// Training as users rely on it: reproducible on CPU, recorded in the run log, divergence and interruption handled,
// resumption reaching the same result as an uninterrupted run.
#include <catch2/catch.hpp>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <limits>
#include <sstream>
#include <thread>

#include "experiments/config/experiment_config.h"
#include "experiments/store/run_store.h"
#include "experiments/train/checkpoint.h"
#include "experiments/train/mixed_precision.h"
#include "experiments/train/optimization.h"
#include "experiments/train/running_metrics.h"
#include "experiments/train/train_parts.h"
#include "experiments/train/trainer.h"
#include "experiments/train/training_loss.h"
#include "framework/torch_model.h"
#include "tests/support/skip.h"
#include "tests/support/temp_files.h"
#include "tests/support/tiny_config.h"

using namespace incept;
using incept::testing::TempDir;

namespace {

const char* kTiny = incept::testing::kTinyTrainingConfig;

TrainOutcome train(const TempDir& tmp, const std::string& db, std::vector<std::string> sets = {}) {
  ExperimentConfig cfg = load_experiment(tmp.write("tiny.toml", kTiny), sets);
  TrainOptions opts;
  opts.db_path = (tmp.path() / db).string();
  opts.quiet = true;
  return train_experiment(cfg, opts);
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

bool wait_for(const std::function<bool()>& done, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// The scheduler state of process `pid` from /proc ('R', 'S', 'T' stopped, 'Z' exited, ...), 0 when it is gone.
char process_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ? 0 : stat[paren + 2];
}

// Epochs the log at `db` has recorded for run 1: 0 until the trainer has created it.
std::size_t epochs_recorded(const std::string& db) {
  if (!std::filesystem::exists(db)) return 0;
  try {
    return RunStore::open_read_only(db).epochs(1).size();
  } catch (const UserError&) {
    return 0;  // the writer is still creating the schema
  }
}

// A forked child, killed and reaped if the test ends before it has been waited for.
struct ChildGuard {
  pid_t pid;
  ~ChildGuard() {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  bool wait(int& status) {
    const bool ok = waitpid(pid, &status, 0) == pid;
    pid = -1;
    return ok;
  }
};

}  // namespace

TEST_CASE("a training run is recorded with its config, costs, epochs and layers", "[training]") {
  TempDir tmp;
  TrainOutcome out = train(tmp, "runs.db");
  REQUIRE(out.status == RunStatus::completed);
  CHECK(out.epochs_done == 2);
  RunStore store = RunStore::open((tmp.path() / "runs.db").string());
  auto run = store.get_run(out.run_id);
  REQUIRE(run);
  CHECK(run->status == RunStatus::completed);
  CHECK(run->params > 0);
  CHECK(run->macs > 0);
  CHECK(contains(run->config_toml, "inception_reduced"));
  CHECK(run->config_hash.size() == 16);
  CHECK(run->device == "cpu");
  CHECK(run->seed == 7);
  // The checkpoint after the last epoch, named by the run's uid and position, vouched for by the log.
  CHECK(run->checkpoint.path == checkpoint_file((tmp.path() / "checkpoints").string(), run->uid, TrainPosition{2}));
  CHECK(run->checkpoint.epochs_done == 2);
  CHECK(run->checkpoint.md5.size() == 32);
  CHECK(std::filesystem::exists(run->checkpoint.path));
  CHECK(std::distance(std::filesystem::directory_iterator(tmp.path() / "checkpoints"),
                      std::filesystem::directory_iterator()) == 1);  // the one it replaced is gone
  auto epochs = store.epochs(out.run_id);
  REQUIRE(epochs.size() == 2);
  CHECK(epochs[1].test_acc > 0.5);  // synthetic classes are learnable: far above chance (0.1)
  CHECK(epochs[0].images_per_s > 0);
  CHECK(store.layers(out.run_id).size() == 4);
  CHECK(*run->final_test_acc == Approx(epochs[1].test_acc));
}

TEST_CASE("same seed and config on CPU give identical losses and accuracies", "[training]") {
  TempDir tmp;
  TrainOutcome a = train(tmp, "a.db");
  TrainOutcome b = train(tmp, "b.db");
  RunStore sa = RunStore::open((tmp.path() / "a.db").string());
  RunStore sb = RunStore::open((tmp.path() / "b.db").string());
  auto ea = sa.epochs(a.run_id), eb = sb.epochs(b.run_id);
  REQUIRE(ea.size() == eb.size());
  for (std::size_t i = 0; i < ea.size(); ++i) {
    CHECK(ea[i].train_loss == eb[i].train_loss);
    CHECK(ea[i].test_loss == eb[i].test_loss);
    CHECK(ea[i].test_acc == eb[i].test_acc);
  }
  TrainOutcome c = train(tmp, "c.db", {"train.seed=8"});
  RunStore sc = RunStore::open((tmp.path() / "c.db").string());
  CHECK(sc.epochs(c.run_id)[0].train_loss != ea[0].train_loss);
}

TEST_CASE("a NaN loss stops the run as diverged, naming where", "[training]") {
  TempDir tmp;
  TrainOutcome out = train(tmp, "runs.db", {"train.lr=1e5", "model.bn=false", "train.momentum=0"});
  CHECK(out.status == RunStatus::diverged);
  CHECK(contains(out.error, "at epoch 1 batch"));
  RunStore store = RunStore::open((tmp.path() / "runs.db").string());
  CHECK(store.get_run(out.run_id)->status == RunStatus::diverged);
  CHECK(contains(store.get_run(out.run_id)->error, "loss became"));
}

TEST_CASE("aux heads train with their loss weight and are ignored at evaluation", "[training]") {
  TempDir tmp;
  const auto with_aux = [&](const std::string& weight, std::vector<std::string> sets = {}) {
    const std::string text = std::string(kTiny) +
                             "\n[[model.aux]]\nname = \"aux\"\nblock = \"aux_googlenet\"\nat = \"mix\"\nclasses = 10\n"
                             "pool_kernel = 3\npool_stride = 3\nhidden = 32\nweight = " +
                             weight + "\n";
    return load_experiment(tmp.write("aux-" + weight + ".toml", text), sets);
  };
  const ExperimentConfig off = with_aux("0.0"), on = with_aux("0.3");
  REQUIRE(on.model.aux.at(0).weight == 0.3);
  REQUIRE(off.model.aux.at(0).weight == 0.0);
  torch::manual_seed(11);
  const torch::Tensor x = torch::randn({16, 1, 12, 12});
  const torch::Tensor y = torch::randint(10, {16}, torch::kLong);

  // One training step as the trainer takes it (training_loss, backward, the run's SGD with momentum), from the
  // same initial weights (seed 1) and the same aux dropout mask (seed 2).
  struct Step {
    double main = 0, total = 0;
    std::vector<std::string> names;
    std::vector<torch::Tensor> after;
  };
  const auto one_step = [&](const ExperimentConfig& c) {
    torch::manual_seed(1);
    Network net(c.model);
    net->train();
    auto optimizer = make_optimizer(c.train, net->parameters());
    torch::manual_seed(2);
    const TrainingLoss loss = training_loss(net->forward_train(x), y, c.train.label_smoothing);
    loss.total.backward();
    optimizer->step();
    Step s{loss.main.item<double>(), loss.total.item<double>(), {}, {}};
    for (const auto& p : net->named_parameters()) {
      s.names.push_back(p.key());
      s.after.push_back(p.value().detach().clone());
    }
    return s;
  };
  const Step s_off = one_step(off), s_on = one_step(on);

  // The same forward pass by hand: each head's cross entropy, and the aux loss's gradient on its own.
  torch::manual_seed(1);
  Network net(on.model);
  net->train();
  torch::manual_seed(2);
  const ForwardResult f = net->forward_train(x);
  REQUIRE(f.aux.size() == 1);
  const torch::Tensor main_ce = torch::nn::functional::cross_entropy(f.logits, y);
  const torch::Tensor aux_ce = torch::nn::functional::cross_entropy(f.aux[0], y);
  const auto params = net->parameters();
  const auto aux_grad = torch::autograd::grad({aux_ce}, params, {}, /*retain_graph=*/true, /*create_graph=*/false,
                                              /*allow_unused=*/true);

  // The loss: main + 0.3 * aux with weight 0.3, main alone with weight 0.
  const double main = main_ce.item<double>(), aux = aux_ce.item<double>();
  CHECK(s_on.main == main);
  CHECK(s_on.total == Approx(main + 0.3 * aux).epsilon(1e-6));
  CHECK(std::abs(0.3 * aux) > 0.1);  // large enough that a wrong weight cannot pass the line above
  CHECK(s_off.main == main);
  CHECK(s_off.total == main);

  // The step: the first SGD step moves each parameter by -lr * gradient (the momentum buffer starts as the
  // gradient), so the two runs' parameters differ by lr * 0.3 * (the aux loss's gradient), up to float32
  // rounding of parameters of magnitude < 1. Downstream of the aux head's branch point nothing differs.
  const double lr = on.train.lr;
  REQUIRE(s_on.after.size() == params.size());
  double largest_trunk_difference = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::string& name = s_on.names[i];
    INFO("parameter " << name);
    const torch::Tensor g = aux_grad[i].defined() ? aux_grad[i] : torch::zeros_like(params[i]);
    const torch::Tensor expected = lr * 0.3 * g;
    const torch::Tensor got = s_off.after[i] - s_on.after[i];
    CHECK(torch::allclose(got, expected, /*rtol=*/1e-3, /*atol=*/1e-6));
    if (!aux_grad[i].defined()) CHECK(torch::equal(s_off.after[i], s_on.after[i]));  // main path after "mix"
    if (name.rfind("stem.", 0) == 0 || name.rfind("mix.", 0) == 0)
      largest_trunk_difference = std::max(largest_trunk_difference, expected.abs().max().item<double>());
  }
  // The aux loss reaches the shared layers, by far more than the tolerance above.
  CHECK(largest_trunk_difference > 1e-4);

  // At evaluation the aux heads are not run, and the loss is the main head's alone.
  {
    net->eval();
    torch::NoGradGuard no_grad;
    const ForwardResult e = net->forward_train(x);
    CHECK(e.aux.empty());
    const TrainingLoss eval_loss = training_loss(e, y, 0.0);
    CHECK(torch::equal(eval_loss.total, eval_loss.main));
  }

  // The trainer applies the weight: the same run with weight 0 and with weight 0.3 records different losses.
  TrainOptions opts;
  opts.quiet = true;
  opts.db_path = (tmp.path() / "off.db").string();
  const TrainOutcome run_off = train_experiment(with_aux("0.0", {"train.epochs=1"}), opts);
  opts.db_path = (tmp.path() / "on.db").string();
  const TrainOutcome run_on = train_experiment(with_aux("0.3", {"train.epochs=1"}), opts);
  INFO("weight 0: " << run_off.error << "\nweight 0.3: " << run_on.error);
  REQUIRE(run_off.status == RunStatus::completed);
  REQUIRE(run_on.status == RunStatus::completed);
  const auto e_off = RunStore::open((tmp.path() / "off.db").string()).epochs(run_off.run_id);
  const auto e_on = RunStore::open((tmp.path() / "on.db").string()).epochs(run_on.run_id);
  REQUIRE(e_off.size() == 1);
  REQUIRE(e_on.size() == 1);
  CHECK(e_off[0].train_loss != e_on[0].train_loss);
}

TEST_CASE("a model that does not fit the dataset is a clear error", "[training]") {
  TempDir tmp;
  try {
    train(tmp, "runs.db", {"model.head.out=5"});
    FAIL("mismatch accepted");
  } catch (const UserError& e) {
    CHECK(contains(e.what(), "has 10 classes"));
  }
  try {
    train(tmp, "runs.db", {"data.synthetic_shape=[1, 10, 10]"});
    FAIL("shape mismatch accepted");
  } catch (const UserError& e) {
    CHECK(contains(e.what(), "samples of shape 1x10x10 but model.input is 1x12x12"));
  }
}

TEST_CASE("the seed-004 initialiser draws N(0, std) weights and zero biases", "[training]") {
  TempDir tmp;
  ExperimentConfig cfg = load_experiment(tmp.write("tiny.toml", kTiny), {"model.bn=false"});
  Network net(cfg.model);
  TrainConfig tc;
  tc.init = "normal";
  tc.init_std = 0.1;
  torch::manual_seed(0);
  initialize_weights(*net, tc);
  std::vector<torch::Tensor> weights;
  for (const auto& p : net->named_parameters()) {
    if (p.value().dim() >= 2) weights.push_back(p.value().flatten());
    else CHECK(p.value().abs().max().item<double>() == 0.0);
  }
  torch::Tensor all = torch::cat(weights);
  CHECK(all.std().item<double>() == Approx(0.1).epsilon(0.05));
  CHECK(std::abs(all.mean().item<double>()) < 0.01);
}

TEST_CASE("learning-rate schedules and warmup", "[training]") {
  TrainConfig c;
  c.lr = 1.0;
  c.epochs = 10;
  CHECK(learning_rate_at(c, 3.5) == 1.0);
  c.schedule = "step";
  c.step_size = 2;
  c.gamma = 0.5;
  CHECK(learning_rate_at(c, 1.9) == 1.0);
  CHECK(learning_rate_at(c, 4.0) == 0.25);
  c.schedule = "exponential";
  CHECK(learning_rate_at(c, 2.0) == Approx(0.25));
  c.schedule = "cosine";
  c.min_lr = 0.0;
  CHECK(learning_rate_at(c, 5.0) == Approx(0.5));
  CHECK(learning_rate_at(c, 10.0) == Approx(0.0).margin(1e-12));
  TrainConfig warm = c;
  warm.warmup_epochs = 1;  // linear ramp from 0 over the first epoch, on top of the schedule
  CHECK(learning_rate_at(warm, 0.5) == Approx(0.5 * learning_rate_at(c, 0.5)));
  CHECK(learning_rate_at(warm, 2.0) == Approx(learning_rate_at(c, 2.0)));
}

TEST_CASE("Ctrl-C checkpoints the run as interrupted and resume reaches the uninterrupted result", "[training]") {
  TempDir tmp;
  std::string config = tmp.write("tiny.toml", kTiny);
  const std::string sets = " --set train.epochs=3 --set data.synthetic_train=2048";

  // Reference: uninterrupted.
  auto ref = incept::testing::run_incept("train '" + config + "' --quiet --db ref.db" + sets, tmp.path().string());
  REQUIRE(ref.status == 0);

  // Interrupted part-way through epoch 2: the trainer is stopped (SIGSTOP) as soon as its first epoch is
  // recorded, so that it cannot go on while the test looks; if it is still in its second epoch, SIGINT is queued
  // and it continues (SIGCONT) into the interruption. Only a test process starved for a whole epoch finds it
  // further on: such an attempt lets the run finish, exercised nothing and is made again, never counted as a pass.
  std::string db;
  int code = -1;
  for (int attempt = 1; attempt <= 3 && code < 0; ++attempt) {
    db = (tmp.path() / ("int" + std::to_string(attempt) + ".db")).string();
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      std::string cmd = std::string("'") + INCEPT_BINARY + "' train '" + config + "' --quiet --db '" + db + "'" +
                        sets + " > /dev/null 2>&1";
      execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    ChildGuard child{pid};
    REQUIRE(wait_for([&] { return epochs_recorded(db) >= 1; }, 120));
    kill(pid, SIGSTOP);
    char state = 0;
    REQUIRE(wait_for([&] { return (state = process_state(pid)) == 'T' || state == 'Z' || state == 0; }, 30));
    const bool in_second_epoch = state == 'T' && epochs_recorded(db) == 1;
    if (in_second_epoch) kill(pid, SIGINT);
    kill(pid, SIGCONT);
    int status = 0;
    REQUIRE(child.wait(status));
    REQUIRE(WIFEXITED(status));
    if (!in_second_epoch) {
      UNSCOPED_INFO("attempt " << attempt << ": the run was past its second epoch when it was stopped");
      continue;
    }
    code = WEXITSTATUS(status);
  }
  INFO("the run was past its second epoch before SIGINT in each of 3 attempts: the interruption was never "
       "exercised");
  REQUIRE(code >= 0);
  {
    RunStore store = RunStore::open(db);
    auto run = store.get_run(1);
    REQUIRE(run);
    INFO("run error: " << run->error);
    CHECK(code == 130);
    CHECK(run->status == RunStatus::interrupted);
    CHECK(contains(run->error, "interrupted "));
    CHECK(contains(run->error, "incept resume 1"));
    // In epoch 2, or right after it when SIGINT came during its evaluation or its checkpoint.
    CHECK(run->epochs_done >= 1);
    CHECK(run->epochs_done <= 2);
    CHECK(run->checkpoint.epochs_done == run->epochs_done);
  }
  auto resumed = incept::testing::run_incept("resume 1 --quiet --db '" + db + "'", tmp.path().string());
  REQUIRE(resumed.status == 0);
  RunStore a = RunStore::open((tmp.path() / "ref.db").string());
  RunStore b = RunStore::open(db);
  auto ea = a.epochs(1), eb = b.epochs(1);
  REQUIRE(ea.size() == 3);
  REQUIRE(eb.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(ea[i].train_loss == eb[i].train_loss);
    CHECK(ea[i].test_acc == eb[i].test_acc);
  }
  CHECK(b.get_run(1)->status == RunStatus::completed);
}

TEST_CASE("a checkpoint restores the weights, the optimizer and the position, amp's loss scale included",
          "[training]") {
  TempDir tmp;
  ExperimentConfig cfg = load_experiment(tmp.write("tiny.toml", kTiny), {"train.momentum=0.9"});
  const auto train_step = [&](Network& net, torch::optim::Optimizer& optimizer) {
    optimizer.zero_grad();
    torch::nn::functional::cross_entropy(net->forward(torch::ones({2, 1, 12, 12})), torch::tensor({1, 2})).backward();
    optimizer.step();
  };
  torch::manual_seed(1);
  Network saved(cfg.model);
  auto saved_optimizer = make_optimizer(cfg.train, saved->parameters());
  train_step(saved, *saved_optimizer);  // momentum buffers exist now
  TrainPosition position{3, 17, 1.25, 40, 50, 2.5, 30.0};
  position.loss_scale = 1024;
  position.loss_scale_good_steps = 37;
  const std::string path = (tmp.path() / "run.pt").string();
  RunRecord run;
  run.id = 5;
  run.uid = "0123456789abcdef0123456789abcdef";
  run.config_hash = cfg.hash;
  run.checkpoint = save_checkpoint(path, CheckpointOwner{run.uid, run.config_hash}, *saved, *saved_optimizer, position);
  CHECK(run.checkpoint.path == path);
  CHECK(run.checkpoint.epochs_done == 3);
  CHECK(run.checkpoint.next_batch == 17);

  torch::manual_seed(2);
  Network loaded(cfg.model);
  auto loaded_optimizer = make_optimizer(cfg.train, loaded->parameters());
  const TrainPosition back = load_checkpoint(verify_checkpoint(run, 3), *loaded, *loaded_optimizer, torch::kCPU);
  CHECK(back.epochs_done == 3);
  CHECK(back.next_batch == 17);
  CHECK(back.loss_sum == 1.25);
  CHECK(back.correct == 40);
  CHECK(back.seen == 50);
  CHECK(back.epoch_seconds == 2.5);
  CHECK(back.train_seconds == 30.0);
  CHECK(back.loss_scale == 1024);
  CHECK(back.loss_scale_good_steps == 37);
  // The same next step from both: equal weights and equal momentum buffers.
  train_step(saved, *saved_optimizer);
  train_step(loaded, *loaded_optimizer);
  const auto a = saved->parameters(), b = loaded->parameters();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i], b[i]));
  const auto sa = saved->buffers(), sb = loaded->buffers();  // batch-norm running statistics
  REQUIRE(sa.size() == sb.size());
  for (std::size_t i = 0; i < sa.size(); ++i) CHECK(torch::equal(sa[i], sb[i]));
}

TEST_CASE("performance switches train the same network to the same result", "[training][performance]") {
  TempDir tmp;
  TrainOutcome plain = train(tmp, "plain.db");
  RunStore sp = RunStore::open((tmp.path() / "plain.db").string());
  const auto reference = sp.epochs(plain.run_id);
  REQUIRE(reference.size() == 2);
  // Different kernels (NHWC, one-thread branches running side by side) sum in a different order: equal up to
  // float rounding, which two epochs of SGD with momentum amplify to a few tenths of a percent.
  for (const std::vector<std::string>& sets :
       {std::vector<std::string>{"train.channels_last=true"},
        std::vector<std::string>{"train.parallel_branches=true", "train.threads=2"}}) {
    INFO("switch " << sets.front());
    TrainOutcome out = train(tmp, "switch.db", sets);
    REQUIRE(out.status == RunStatus::completed);
    RunStore s = RunStore::open((tmp.path() / "switch.db").string());
    const auto epochs = s.epochs(out.run_id);
    REQUIRE(epochs.size() == reference.size());
    for (std::size_t i = 0; i < epochs.size(); ++i) {
      CHECK(epochs[i].train_loss == Approx(reference[i].train_loss).epsilon(1e-2));
      CHECK(epochs[i].test_loss == Approx(reference[i].test_loss).epsilon(1e-2));
    }
  }
}

TEST_CASE("train.amp on the CPU trains in float32, says so, and gives exactly the run without amp",
          "[training][performance][amp]") {
  // amp is CUDA autocast with loss scaling; on the CPU the trainer notes that it does not apply and trains as
  // usual, so the run is bit for bit the run without amp, and its checkpoints hold no loss scale.
  TempDir tmp;
  const std::string config = tmp.write("tiny.toml", kTiny);
  const auto run = [&](const std::string& db, const std::vector<std::string>& sets, std::string& progress) {
    const ExperimentConfig cfg = load_experiment(config, sets);
    TrainOptions opts;
    opts.db_path = (tmp.path() / db).string();
    opts.quiet = false;  // notes go where progress goes: stderr
    std::ostringstream captured;
    std::streambuf* old = std::cerr.rdbuf(captured.rdbuf());
    TrainOutcome out;
    try {
      out = train_experiment(cfg, opts);
    } catch (...) {
      std::cerr.rdbuf(old);
      throw;
    }
    std::cerr.rdbuf(old);
    progress = captured.str();
    return out;
  };
  std::string plain_progress, amp_progress;
  const TrainOutcome plain = run("plain.db", {"train.device=cpu"}, plain_progress);
  const TrainOutcome amp = run("amp.db", {"train.device=cpu", "train.amp=true"}, amp_progress);
  REQUIRE(plain.status == RunStatus::completed);
  REQUIRE(amp.status == RunStatus::completed);
  INFO("progress with amp:\n" << amp_progress);
  CHECK(contains(amp_progress, "note: train.amp applies to CUDA only; training in float32 on the CPU\n"));
  CHECK_FALSE(contains(plain_progress, "train.amp"));

  RunStore sp = RunStore::open((tmp.path() / "plain.db").string());
  RunStore sa = RunStore::open((tmp.path() / "amp.db").string());
  const RunRecord amp_run = *sa.get_run(amp.run_id);
  CHECK(amp_run.device == "cpu");
  CHECK(contains(amp_run.config_toml, "amp = true"));
  const auto ep = sp.epochs(plain.run_id), ea = sa.epochs(amp.run_id);
  REQUIRE(ep.size() == 2);
  REQUIRE(ea.size() == 2);
  for (std::size_t i = 0; i < ep.size(); ++i) {
    INFO("epoch " << i + 1);
    CHECK(ea[i].train_loss == ep[i].train_loss);
    CHECK(ea[i].train_acc == ep[i].train_acc);
    CHECK(ea[i].test_loss == ep[i].test_loss);
    CHECK(ea[i].test_acc == ep[i].test_acc);
  }

  // The checkpoint holds float32 weights and no loss scale (0: no scaler ran).
  const ExperimentConfig cfg = load_experiment(config, {"train.device=cpu", "train.amp=true"});
  Network net(cfg.model);
  auto optimizer = make_optimizer(cfg.train, net->parameters());
  const TrainPosition position = load_checkpoint(verify_checkpoint(amp_run, 2), *net, *optimizer, torch::kCPU);
  CHECK(position.epochs_done == 2);
  CHECK(position.loss_scale == 0);
  for (const auto& p : net->parameters()) CHECK(p.scalar_type() == torch::kFloat);
}

TEST_CASE("train.amp on CUDA computes in float16 and scales the loss, landing near float32",
          "[training][performance][amp][cuda]") {
  if (!torch::cuda::is_available())
    INCEPT_SKIP("no CUDA device: amp's float16 autocast and loss scaling need one (on the CPU amp does nothing)");
  TempDir tmp;
  const std::string config = tmp.write("tiny.toml", kTiny);

  // Autocast: inside the scope the network computes in float16, outside in float32.
  const ExperimentConfig cfg = load_experiment(config, {"train.device=cuda"});
  torch::manual_seed(1);
  Network net(cfg.model);
  net->to(torch::kCUDA);
  const torch::Tensor x = torch::randn({4, 1, 12, 12}, torch::TensorOptions().device(torch::kCUDA));
  {
    torch::NoGradGuard no_grad;
    {
      AutocastScope autocast(true);
      CHECK(net->forward(x).scalar_type() == torch::kHalf);
    }
    CHECK(net->forward(x).scalar_type() == torch::kFloat);
  }

  // Loss scaling: an overflowing step is skipped and halves the scale; good steps apply the unscaled gradient,
  // and the scale doubles after `growth_interval` of them.
  torch::Tensor w = torch::ones({3}, torch::TensorOptions().device(torch::kCUDA)).requires_grad_();
  torch::optim::SGD sgd({w}, torch::optim::SGDOptions(0.5));
  GradScaler scaler(true, 1024.0, 2);
  sgd.zero_grad();
  scaler.scale((w * std::numeric_limits<float>::infinity()).sum()).backward();
  CHECK_FALSE(scaler.step(sgd));
  CHECK(scaler.current_scale() == 512.0);
  CHECK(torch::equal(w.detach().cpu(), torch::ones({3})));
  for (int i = 0; i < 2; ++i) {
    sgd.zero_grad();
    scaler.scale(w.sum()).backward();  // gradient 1 per element, scaled by 512 until unscaled
    CHECK(scaler.step(sgd));
  }
  CHECK(torch::allclose(w.detach().cpu(), torch::zeros({3})));  // 1 - 2 * 0.5 * 1
  CHECK(scaler.current_scale() == 1024.0);

  // End to end: an amp run on CUDA completes without the CPU note and lands near the float32 run.
  TrainOptions opts;
  opts.quiet = true;
  opts.db_path = (tmp.path() / "fp32.db").string();
  const TrainOutcome fp32 = train_experiment(load_experiment(config, {"train.device=cuda"}), opts);
  opts.db_path = (tmp.path() / "amp.db").string();
  const TrainOutcome amp = train_experiment(load_experiment(config, {"train.device=cuda", "train.amp=true"}), opts);
  REQUIRE(fp32.status == RunStatus::completed);
  REQUIRE(amp.status == RunStatus::completed);
  const auto e32 = RunStore::open((tmp.path() / "fp32.db").string()).epochs(fp32.run_id);
  const auto e16 = RunStore::open((tmp.path() / "amp.db").string()).epochs(amp.run_id);
  REQUIRE(e32.size() == e16.size());
  for (std::size_t i = 0; i < e32.size(); ++i) {
    INFO("epoch " << i + 1);
    CHECK(e16[i].train_loss == Approx(e32[i].train_loss).epsilon(0.05));
    CHECK(e16[i].test_loss == Approx(e32[i].test_loss).epsilon(0.05));
  }
  CHECK(e16.back().test_acc > 0.5);
}

TEST_CASE("channels-last and parallel branches compute the same outputs and gradients", "[training][performance]") {
  TempDir tmp;
  const ExperimentConfig cfg = load_experiment(tmp.write("tiny.toml", kTiny));
  torch::manual_seed(3);
  const torch::Tensor x = torch::randn({16, 1, 12, 12});
  auto run = [&](const std::vector<std::string>& sets) {
    const ExperimentConfig c = load_experiment(tmp.write("tiny.toml", kTiny), sets);
    torch::manual_seed(1);
    Network net(c.model);
    apply_performance_switches(net, c.train);
    torch::Tensor out = net->forward(network_input(x, c.train));
    out.pow(2).sum().backward();
    std::vector<torch::Tensor> grads;
    for (const auto& p : net->parameters()) grads.push_back(p.grad().contiguous());
    return std::make_pair(out.contiguous(), grads);
  };
  const auto reference = run({});
  for (const std::vector<std::string>& sets : {std::vector<std::string>{"train.channels_last=true"},
                                                std::vector<std::string>{"train.parallel_branches=true"}}) {
    INFO("switch " << sets.front());
    const auto got = run(sets);
    CHECK(torch::allclose(got.first, reference.first, 1e-5, 1e-6));
    REQUIRE(got.second.size() == reference.second.size());
    for (std::size_t i = 0; i < got.second.size(); ++i) {
      INFO("parameter " << i << ": max difference " << (got.second[i] - reference.second[i]).abs().max().item<double>()
                        << ", max magnitude " << reference.second[i].abs().max().item<double>());
      // Batch norm's backward cancels large terms, so compare at the scale of each gradient tensor.
      const double scale = reference.second[i].abs().max().item<double>();
      CHECK(torch::allclose(got.second[i], reference.second[i], 1e-3, 1e-3 * scale));
    }
  }
}

TEST_CASE("running metrics read back in windows sum to the per-batch figures and locate a bad batch",
          "[training][performance]") {
  const std::vector<double> losses = {2.0, 1.5, 1.25, 1.0, 0.5};
  const std::vector<std::int64_t> correct = {3, 5, 6, 7, 9};
  RunningMetrics every(torch::kCPU, 1), windows(torch::kCPU, 2);
  TrainPosition a, b;
  for (std::size_t i = 0; i < losses.size(); ++i) {
    const torch::Tensor loss = torch::tensor(losses[i]), n_ok = torch::tensor(correct[i]);
    a.next_batch = b.next_batch = static_cast<std::int64_t>(i);
    const bool last = i + 1 == losses.size();
    every.add(loss, loss, n_ok, 10);
    windows.add(loss, loss, n_ok, 10);
    CHECK(every.due(last));
    if (every.due(last)) CHECK_FALSE(every.read_into(a));
    CHECK(windows.due(last) == (i % 2 == 1 || last));
    if (windows.due(last)) CHECK_FALSE(windows.read_into(b));
  }
  CHECK(a.seen == 50);
  CHECK(b.seen == 50);
  CHECK(a.correct == 30);
  CHECK(b.correct == 30);
  CHECK(a.loss_sum == Approx(62.5));
  CHECK(b.loss_sum == Approx(62.5));

  // An inf total loss (an aux head's, say) in the second batch of a window: reported with the window's first batch.
  RunningMetrics m(torch::kCPU, 3);
  TrainPosition p;
  const double totals[] = {1.0, INFINITY, 1.0};
  for (int i = 0; i < 3; ++i) {
    p.next_batch = 10 + i;
    m.add(torch::tensor(1.0), torch::tensor(totals[i]), torch::tensor(std::int64_t{1}), 4);
  }
  REQUIRE(m.due(false));
  auto bad = m.read_into(p);
  REQUIRE(bad);
  CHECK(bad->first_batch == 10);
  CHECK(p.seen == 0);  // a window with a bad batch is not added
}
