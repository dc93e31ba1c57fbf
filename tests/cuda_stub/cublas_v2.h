#pragma once
// Stub (tests/cuda_stub/README.md): just enough for LibTorch's CUDA headers to parse; not CUDA.
struct cublasContext; typedef cublasContext* cublasHandle_t; typedef int cublasStatus_t; struct cublasLtContext; typedef cublasLtContext* cublasLtHandle_t;
