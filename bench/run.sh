#!/usr/bin/env bash
# Benchmark: incept against the same networks in PyTorch, in one invocation on this machine. Builds what it needs
# and prints a Markdown table on stdout (progress on stderr).
#
#   bash bench/run.sh                      CPU: Debian's LibTorch 1.13 against Debian's python3-torch (the same 1.13)
#   BENCH_DEVICE=cuda bash bench/run.sh    GPU: a CUDA LibTorch (scripts/build_cuda.sh; BENCH_CMAKE_ARGS go to its
#                                          configure step) against the pip torch of BENCH_PYTHON (default python3)
#
# Environment: BENCH_BUILD (build directory, default build-bench), BENCH_MAX_LOAD (1-minute load average below
# which a measurement starts, default 0.7), BENCH_QUIET_WAIT (seconds to wait for it before measuring anyway,
# default 900), BENCH_QUICK=1 (shorter runs, for trying the script out; not for reporting).
set -euo pipefail
cd "$(dirname "$0")/.."

DEVICE=${BENCH_DEVICE:-cpu}
MAX_LOAD=${BENCH_MAX_LOAD:-0.7}
QUIET_WAIT=${BENCH_QUIET_WAIT:-900}
if [[ $DEVICE == cuda ]]; then
  BUILD=build-cuda
  PY=${BENCH_PYTHON:-python3}
else
  BUILD=${BENCH_BUILD:-build-bench}
  PY=/usr/bin/python3  # Debian's interpreter, the one python3-torch installs into (a pyenv/venv python3 lacks torch)
fi
BENCH=$BUILD/bench/incept_bench
OUT=$(mktemp -d /tmp/incept-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
log() { echo "bench: $*" >&2; }

"$PY" -c 'import torch' 2>/dev/null || { log "needs python3-torch: run bash scripts/setup.sh --bench"; exit 1; }
log "building incept and incept_bench in $BUILD"
if [[ $DEVICE == cuda ]]; then
  # shellcheck disable=SC2086  # BENCH_CMAKE_ARGS is a list of CMake arguments
  INCEPT_CUDA_TARGETS="incept incept_bench" TORCH_PREFIX=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)') \
    bash scripts/build_cuda.sh ${BENCH_CMAKE_ARGS:-} >"$OUT/build.log" 2>&1 || { cat "$OUT/build.log" >&2; exit 1; }
else
  { cmake -S . -B "$BUILD" -G Ninja && cmake --build "$BUILD" --target incept incept_bench -j2; } >"$OUT/build.log" 2>&1 ||
    { cat "$OUT/build.log" >&2; exit 1; }
fi

# Seed 004's MNIST network on MNIST when the files are there (fetched if possible), else synthetic data of MNIST's
# shape and size.
if [[ ! -f data/mnist/train-images-idx3-ubyte ]]; then
  log "fetching MNIST"
  "$BUILD/incept" data fetch mnist >&2 || log "MNIST fetch failed: using synthetic data of the same shape"
fi
MNIST_CFG=(configs/mnist/reduced.toml)
MNIST_PY=(--net mnist --order incept)  # the same batches as incept: accuracies compare like with like
if [[ ! -f data/mnist/train-images-idx3-ubyte ]]; then
  MNIST_CFG+=(--set data.dataset=synthetic --set data.synthetic_train=60000 --set data.synthetic_test=10000)
fi
# Seed 000's GoogLeNet at 3x96x96: the final 7x7 average pool becomes 2x2, the global average it is at 224-256
# (parameters unchanged: 6,951,502). Synthetic data, 10 classes into the 1000-way classifier, batch 32, SGD lr 0.1.
GOOGLENET_CFG=(configs/seed/googlenet.toml --set 'model.input=[3,96,96]' --set model.avgpool.kernel=2
  --set data.dataset=synthetic --set 'data.synthetic_shape=[3,96,96]' --set data.synthetic_train=512
  --set data.synthetic_test=256 --set train.batch_size=32 --set train.epochs=3 --set train.lr=0.1)
GOOGLENET_PY=(--net googlenet --epochs 3 --synthetic-train 512 --synthetic-test 256)
if [[ ${BENCH_QUICK:-0} == 1 ]]; then
  MNIST_CFG+=(--set data.train_limit=10000 --set data.test_limit=2000)
  MNIST_PY+=(--train-limit 10000 --test-limit 2000)
  GOOGLENET_CFG+=(--set data.synthetic_train=128 --set data.synthetic_test=64 --set train.epochs=2)
  GOOGLENET_PY=(--net googlenet --epochs 2 --synthetic-train 128 --synthetic-test 64)
fi
# The switches incept's rows run with (README, "CPU performance"); the PyTorch rows mirror them where PyTorch has
# the same one-line setting.
INCEPT_SWITCHES=(--set train.channels_last=true)

wait_quiet() {
  local waited=0 load
  while :; do
    read -r load _ </proc/loadavg
    awk -v l="$load" -v m="$MAX_LOAD" 'BEGIN { exit !(l < m) }' && break
    if ((waited >= QUIET_WAIT)); then
      log "warning: 1-minute load $load still >= $MAX_LOAD after ${QUIET_WAIT} s; measuring anyway"
      break
    fi
    ((waited % 60 == 0)) && log "waiting for a quiet machine (1-minute load $load, want < $MAX_LOAD)"
    sleep 5
    waited=$((waited + 5))
  done
  echo "$load"
}

# measure NAME COMMAND...: one JSON line with the command's JSON result and the load average around it.
measure() {
  local name=$1 load_before load_after result
  shift
  load_before=$(wait_quiet)
  log "measuring $name (load $load_before)"
  result=$("$@") || { log "$name failed"; exit 1; }
  read -r load_after _ </proc/loadavg
  printf '{"name": "%s", "load_before": %s, "load_after": %s, "result": %s}\n' "$name" "$load_before" \
    "$load_after" "$result" >>"$OUT/results.jsonl"
}

py_default() { env -u OPENBLAS_NUM_THREADS "$PY" bench/baseline.py "$@"; }
py_tuned() { OPENBLAS_NUM_THREADS=1 "$PY" bench/baseline.py --tuned "$@"; }

unset OPENBLAS_NUM_THREADS
if [[ $DEVICE == cuda ]]; then
  # Both sides on the GPU. incept's rows: the defaults (deterministic cuDNN), then cuDNN benchmark mode with
  # channels-last, then that with mixed precision; PyTorch's rows mirror them.
  # GoogLeNet gets 4096 synthetic images (128 batches an epoch): 512 would time mostly the warm-up on a GPU.
  GOOGLENET_CFG+=(--set data.synthetic_train=4096)
  GOOGLENET_PY+=(--synthetic-train 4096)
  GPU=(--set train.device=cuda)
  FAST=(--set train.deterministic=false --set train.channels_last=true)
  measure gemm "$BENCH" --gemm --device cuda --size 8192
  for net in mnist googlenet; do
    if [[ $net == mnist ]]; then CFG=("${MNIST_CFG[@]}") PYA=("${MNIST_PY[@]}"); else CFG=("${GOOGLENET_CFG[@]}") PYA=("${GOOGLENET_PY[@]}"); fi
    measure $net/incept "$BENCH" "${CFG[@]}" "${GPU[@]}"
    measure $net/incept-fast "$BENCH" "${CFG[@]}" "${GPU[@]}" "${FAST[@]}"
    measure $net/incept-fast-amp "$BENCH" "${CFG[@]}" "${GPU[@]}" "${FAST[@]}" --set train.amp=true
    measure $net/pytorch-default "$PY" bench/baseline.py "${PYA[@]}" --device cuda
    measure $net/pytorch-tuned-cl "$PY" bench/baseline.py --tuned "${PYA[@]}" --device cuda --channels-last
    measure $net/pytorch-tuned-cl-amp "$PY" bench/baseline.py --tuned "${PYA[@]}" --device cuda --channels-last --amp
  done
  "$PY" bench/table.py "$OUT/results.jsonl" --gpu "$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)" \
    --cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  exit 0
fi
measure gemm "$BENCH" --gemm
measure mnist/incept "$BENCH" "${MNIST_CFG[@]}" "${INCEPT_SWITCHES[@]}"
measure mnist/pytorch-default py_default "${MNIST_PY[@]}"
measure mnist/pytorch-tuned py_tuned "${MNIST_PY[@]}"
measure mnist/pytorch-tuned-cl py_tuned "${MNIST_PY[@]}" --channels-last
measure googlenet/incept "$BENCH" "${GOOGLENET_CFG[@]}" "${INCEPT_SWITCHES[@]}"
measure googlenet/pytorch-default py_default "${GOOGLENET_PY[@]}"
measure googlenet/pytorch-tuned py_tuned "${GOOGLENET_PY[@]}"
measure googlenet/pytorch-tuned-cl py_tuned "${GOOGLENET_PY[@]}" --channels-last

BLAS_ALT=$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | sed -n 's/^Value: //p')
"$PY" bench/table.py "$OUT/results.jsonl" --blas-alternative "${BLAS_ALT:-unknown}" --cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
