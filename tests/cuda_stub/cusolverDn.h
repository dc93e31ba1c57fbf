#pragma once
// Stub (tests/cuda_stub/README.md): just enough for LibTorch's CUDA headers to parse; not CUDA.
struct cusolverDnContext; typedef cusolverDnContext* cusolverDnHandle_t; typedef int cusolverStatus_t;
