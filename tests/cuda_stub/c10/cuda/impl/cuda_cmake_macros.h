#pragma once
// Stub (tests/cuda_stub/README.md): LibTorch generates this file in CUDA builds; its macros are not needed here.
