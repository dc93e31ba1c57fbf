#pragma once
// What `incept sweep --jobs auto` measures: how fast one training of a config runs with a given number of threads
// while others run beside it. The probe builds exactly what `incept train` builds (data, network, initial weights,
// optimizer, performance switches) and trains batches in the config's own order for a fixed time, recording
// nothing. Several probes started at once line up their timed windows through a start signal, so each measures
// the machine shared as the sweep would share it.
#include <cstdint>
#include <functional>

#include "experiments/config/experiment_config.h"

namespace incept {

struct ThroughputSample {
  double images_per_s = 0;    // training images per second over the timed window
  std::int64_t batches = 0;   // batches in the window
  double seconds = 0;         // length of the window
  std::int64_t peak_rss = 0;  // bytes: the largest resident size of this process (data, network, activations)
};

// Builds `cfg`'s training with `threads` intra-op threads on the CPU, trains two batches (allocations, first-call
// costs), calls `ready` (which may wait for the other probes), then trains for at least `seconds` and at least three
// batches. A config that does not train on the CPU is a UserError: the probe measures CPU sharing only.
ThroughputSample probe_training_throughput(const ExperimentConfig& cfg, int threads, double seconds,
                                           const std::function<void()>& ready);

}  // namespace incept
