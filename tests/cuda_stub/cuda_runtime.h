#pragma once
// Stub (tests/cuda_stub/README.md): just enough for LibTorch's CUDA headers to parse; not CUDA.
#include "cuda_runtime_api.h"
