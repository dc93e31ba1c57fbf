#include "experiments/train/throughput_probe.h"

#include <sys/resource.h>

#include <chrono>

#include <fmt/format.h>
#include <torch/torch.h>

#include "experiments/data/batch_order.h"
#include "experiments/data/dataset.h"
#include "experiments/train/optimization.h"
#include "experiments/train/train_parts.h"
#include "experiments/train/training_loss.h"
#include "framework/diagnostics.h"
#include "framework/torch_model.h"

namespace incept {

namespace {

std::int64_t peak_resident_bytes() {
  struct rusage usage {};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<std::int64_t>(usage.ru_maxrss) * 1024;  // kilobytes on Linux
}

}  // namespace

ThroughputSample probe_training_throughput(const ExperimentConfig& cfg, int threads, double seconds,
                                           const std::function<void()>& ready) {
  TrainConfig tc = cfg.train;
  tc.threads = threads;
  const torch::Device device = choose_device(tc.device);
  if (!device.is_cpu())
    throw UserError(fmt::format("{}: trains on {}; the throughput probe measures trainings sharing the CPU only",
                                cfg.path, device.str()));
  configure_threads(tc);
  torch::manual_seed(tc.seed);
  const Dataset data = load_dataset(cfg.data, device);
  Network net(cfg.model);
  initialize_weights(*net, tc);
  apply_performance_switches(net, tc);
  auto optimizer = make_optimizer(tc, net->parameters());
  net->train();

  // The trainer's step (trainer.cpp): gather the batch, forward, loss with aux heads, backward, step.
  const BatchOrder order(data.train.size(), tc.batch_size, tc.seed);
  torch::Tensor x = torch::empty({0}, data.train.images.options());
  torch::Tensor y = torch::empty({0}, data.train.labels.options());
  std::int64_t epoch = 0, batch = 0, images = 0;
  torch::Tensor indices = order.epoch_indices(epoch);
  auto step = [&] {
    if (batch == order.batches()) {
      indices = order.epoch_indices(++epoch);
      batch = 0;
    }
    set_learning_rate(*optimizer, learning_rate_at(tc, static_cast<double>(epoch)));
    const torch::Tensor idx = order.batch_indices(indices, batch++);
    torch::index_select_out(x, data.train.images, 0, idx);
    torch::index_select_out(y, data.train.labels, 0, idx);
    for (auto& p : net->parameters()) p.mutable_grad().reset();
    const ForwardResult f = net->forward_train(network_input(x, tc));
    const TrainingLoss loss = training_loss(f, y, tc.label_smoothing);
    loss.total.backward();
    optimizer->step();
    (void)loss.main.item<float>();  // the trainer reads every batch's loss back on the CPU
    images += y.size(0);
  };
  step();
  step();
  ready();
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  images = 0;
  ThroughputSample s;
  for (;;) {
    step();
    ++s.batches;
    s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (s.seconds >= seconds && s.batches >= 3) break;
  }
  s.images_per_s = static_cast<double>(images) / s.seconds;
  s.peak_rss = peak_resident_bytes();
  return s;
}

}  // namespace incept
