#!/usr/bin/env bash
# Builds incept against a CUDA-enabled LibTorch into build-cuda/. The LibTorch comes from, in order:
#   $TORCH_PREFIX (an unpacked libtorch archive from pytorch.org, or any CMake prefix holding TorchConfig.cmake),
#   or the pip-installed torch of `python3` (torch.utils.cmake_prefix_path).
# Extra arguments go to CMake's configure step (e.g. -DCMAKE_CXX_STANDARD=20 if that LibTorch asks for it).
# INCEPT_CUDA_TARGETS: what to build (default: incept; bench/run.sh adds incept_bench).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${TORCH_PREFIX:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DINCEPT_BUILD_TESTS=OFF \
  -DCMAKE_PREFIX_PATH="$prefix${EXTRA_PREFIX:+;$EXTRA_PREFIX}" "$@"
# shellcheck disable=SC2086  # a list of targets
cmake --build build-cuda -j "$(nproc)" --target ${INCEPT_CUDA_TARGETS:-incept}
