#pragma once
// Trains several runs of one architecture as one packed network (framework/packed_model.h): on a GPU, where these
// small networks are launch-bound, K members cost about what one does. Each member is a run of its own in the log —
// its own uid, claim, epochs, figures, checkpoints and ending — as if it had trained alone:
//   - it starts from its own initialisation (its seed, its train.init) and draws its own batches (its seed);
//   - its loss, learning rate and schedule, momentum, weight decay, betas, eps, label smoothing are its own;
//   - its checkpoints are ordinary ones (its network, its optimizer's state as LibTorch's optimizer holds it, the
//     position, its dropout generator as the CPU RNG state): `incept resume` continues it alone;
//   - a member whose loss turns NaN is recorded diverged at that batch and stopped (its slices zeroed, its gradients
//     ignored); the others go on, their numbers untouched (tests/test_packing.cpp);
//   - an interruption checkpoints every member still training and marks it interrupted.
// On the CPU the members' figures equal their own runs' up to float rounding (a grouped convolution sums in another
// order than a plain one), which training amplifies over epochs: not bit for bit.
//
// What the members must share is decided by packing_key() (experiment_identity.h).
#include <vector>

#include "experiments/config/experiment_config.h"
#include "experiments/train/trainer.h"

namespace incept {

// Trains `leader` with `options.pack_with` as one packed network. Returns the leader's outcome with every other
// member's in `members` (in pack order). Throws UserError before recording anything when a member is not the
// experiment the sweep planned or cannot share the pack (naming the setting that differs).
TrainOutcome train_packed(const ExperimentConfig& leader, const TrainOptions& options);

// Resumes the stopped run `leader` with `options.pack_with_runs` as one packed network, each from its own checkpoint
// (verified against its log entry before anything is loaded): the pack continues exactly as the interrupted pack
// would have. A member that cannot go along (not stopped, no checkpoint, another position, another network) is named
// and left alone; `incept resume` continues it on its own.
TrainOutcome resume_packed(std::int64_t leader, const TrainOptions& options);

}  // namespace incept
