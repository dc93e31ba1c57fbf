#pragma once
// Stub (tests/cuda_stub/README.md): just enough for LibTorch's CUDA headers to parse; not CUDA.
struct __half { unsigned short x; }; struct __half2 { __half x, y; };
