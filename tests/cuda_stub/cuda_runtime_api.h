#pragma once
// Stub (tests/cuda_stub/README.md): just enough for LibTorch's CUDA headers to parse; not CUDA.
#include <cstddef>
struct CUstream_st; struct CUevent_st; struct CUgraph_st; struct CUgraphExec_st; struct CUgraphNode_st;
typedef CUstream_st* cudaStream_t; typedef CUevent_st* cudaEvent_t; typedef CUgraph_st* cudaGraph_t;
typedef CUgraphExec_st* cudaGraphExec_t; typedef CUgraphNode_st* cudaGraphNode_t;
typedef cudaStream_t CUstream; typedef cudaEvent_t CUevent;
enum cudaError { cudaSuccess = 0, cudaErrorNotReady = 600, cudaErrorInvalidValue = 1, cudaErrorMemoryAllocation = 2,
  cudaErrorCudartUnloading = 4, cudaErrorNoDevice = 100, cudaErrorInsufficientDriver = 35, cudaErrorStreamCaptureUnsupported = 900 };
typedef cudaError cudaError_t;
enum cudaMemcpyKind { cudaMemcpyHostToHost, cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice, cudaMemcpyDefault };
enum cudaStreamCaptureStatus { cudaStreamCaptureStatusNone, cudaStreamCaptureStatusActive, cudaStreamCaptureStatusInvalidated };
enum cudaStreamCaptureMode { cudaStreamCaptureModeGlobal, cudaStreamCaptureModeThreadLocal, cudaStreamCaptureModeRelaxed };
#define cudaEventDisableTiming 0x02
#define cudaEventDefault 0x00
#define cudaEventBlockingSync 0x01
#define cudaEventInterprocess 0x04
#define cudaStreamNonBlocking 0x01
#define cudaStreamDefault 0x00
#define CUDART_VERSION 11070
typedef unsigned long long cuuint64_t;
struct cudaDeviceProp { int major, minor; char name[256]; size_t totalGlobalMem; int multiProcessorCount; int warpSize; };
struct cudaIpcEventHandle_t { char reserved[64]; };
struct cudaPointerAttributes { int type; int device; void* devicePointer; void* hostPointer; };
extern "C" {
const char* cudaGetErrorString(cudaError_t);
const char* cudaGetErrorName(cudaError_t);
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
cudaError_t cudaStreamQuery(cudaStream_t);
cudaError_t cudaStreamSynchronize(cudaStream_t);
cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned int);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t*, unsigned int);
cudaError_t cudaEventDestroy(cudaEvent_t);
cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t);
cudaError_t cudaEventQuery(cudaEvent_t);
cudaError_t cudaEventSynchronize(cudaEvent_t);
cudaError_t cudaEventElapsedTime(float*, cudaEvent_t, cudaEvent_t);
cudaError_t cudaIpcGetEventHandle(cudaIpcEventHandle_t*, cudaEvent_t);
cudaError_t cudaIpcOpenEventHandle(cudaEvent_t*, cudaIpcEventHandle_t);
cudaError_t cudaMemcpyAsync(void*, const void*, size_t, cudaMemcpyKind, cudaStream_t);
cudaError_t cudaStreamGetPriority(cudaStream_t, int*);
cudaError_t cudaStreamIsCapturing(cudaStream_t, cudaStreamCaptureStatus*);
cudaError_t cudaGetDevice(int*);
cudaError_t cudaSetDevice(int);
cudaError_t cudaGetDeviceCount(int*);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaDeviceGetStreamPriorityRange(int*, int*);
}
