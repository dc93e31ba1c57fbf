#pragma once
// Where a sweep's trainings will run, known without LibTorch's headers: the sweep process only starts children.
#include "experiments/sweep/sweep.h"

namespace incept {

// Whether this process runs a CUDA build of LibTorch (libtorch_cuda is loaded).
bool built_with_cuda();

// Whether a variant trains on a GPU: train.device = "cuda", or "auto" with a CUDA build.
bool trains_on_gpu(const ResolvedVariant& v);

}  // namespace incept
