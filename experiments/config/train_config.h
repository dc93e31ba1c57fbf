#pragma once
// The [train] section of a config. Torch-free so the config loader can validate it without LibTorch.
#include <cstdint>
#include <string>

namespace incept {

struct TrainConfig {
  std::int64_t epochs = 2;
  std::int64_t batch_size = 100;
  std::int64_t eval_batch_size = 1000;
  std::uint64_t seed = 0;
  std::string device = "auto";  // auto | cpu | cuda
  std::int64_t threads = 0;     // intra-op threads; 0 = all cores
  bool deterministic = true;    // deterministic kernels; off allows cuDNN benchmark mode

  // optimizer
  std::string optimizer = "sgd";  // sgd | rmsprop | adam | adamw
  double lr = 0.1;
  double momentum = 0.0;          // sgd, rmsprop
  bool nesterov = false;          // sgd
  double weight_decay = 0.0;
  double alpha = 0.99;            // rmsprop smoothing constant (the V3 paper's "decay" 0.9)
  double eps = 1e-8;              // rmsprop / adam epsilon (the V3 paper uses 1.0 for RMSProp)
  double beta1 = 0.9, beta2 = 0.999;

  // learning-rate schedule, evaluated per batch
  std::string schedule = "constant";  // constant | step | exponential | cosine
  double step_size = 1;               // step: epochs between decays
  double gamma = 0.1;                 // step / exponential: decay factor (exponential: per epoch)
  double min_lr = 0.0;                // cosine: final learning rate
  double warmup_epochs = 0;           // linear warmup from 0, in epochs (fractions allowed)

  // initialisation
  std::string init = "default";  // default | normal | truncated_normal | kaiming | xavier
  double init_std = 0.01;        // normal / truncated_normal standard deviation (seed 004: 0.1)

  double label_smoothing = 0.0;

  // performance switches
  bool amp = false;               // CUDA mixed precision (autocast + grad scaling)
  bool channels_last = false;     // NHWC memory format
  bool parallel_branches = false; // run the branches of each Inception block concurrently (CPU)
  // CUDA: capture the training step in a CUDA graph and replay it (experiments/train/packed_step.h). Off until
  // measured on a GPU: no machine with one has run it yet.
  bool cuda_graph = false;

  std::string checkpoint_dir = "checkpoints";
};

}  // namespace incept
