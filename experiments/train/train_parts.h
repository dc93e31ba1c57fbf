#pragma once
// The pieces of a training run that bench/incept_bench reuses, so that it measures what `incept train` runs.
// Kept out of trainer.h, so that the command-line code that only starts a run does not need LibTorch's headers.
#include <atomic>
#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "experiments/config/experiment_config.h"
#include "experiments/data/dataset.h"
#include "framework/torch_model.h"

namespace incept {

// The device train.device names: "auto" is CUDA when this LibTorch build has a usable GPU, else the CPU.
torch::Device choose_device(const std::string& wanted);
// cuDNN settings from train.deterministic: deterministic algorithms, or benchmark mode (fastest per shape).
void configure_cudnn(const TrainConfig& c);
// Process-wide thread setup from train.threads: LibTorch's intra-op threads, and OpenBLAS kept to one thread.
void configure_threads(const TrainConfig& c);
// Applies the performance switches that change the network itself (train.channels_last,
// train.parallel_branches, which applies on the CPU only); call after moving it to its device and before creating
// the optimizer.
void apply_performance_switches(Network& net, const TrainConfig& c);
// A batch as the network wants it (channels-last copy when train.channels_last).
torch::Tensor network_input(const torch::Tensor& images, const TrainConfig& c);

struct EvalResult {
  double loss = 0, acc = 0;
  bool stopped = false;  // `stop` was set before the pass ended: loss and acc mean nothing
};
// Mean loss and accuracy over a split, in eval mode and batches of `batch_size` (each epoch's test figures).
// `stop`, when given, is checked between batches: a long test pass must not delay a Ctrl-C.
EvalResult evaluate(Network& net, const Split& split, std::int64_t batch_size, const TrainConfig& c,
                    const std::atomic<bool>* stop = nullptr);

}  // namespace incept
