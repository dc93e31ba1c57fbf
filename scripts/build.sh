#!/usr/bin/env bash
# Configures and builds incept (binary: build/incept) and its tests. Extra arguments go to CMake's configure step;
# INCEPT_BUILD_TARGET=incept builds only the command-line tool.
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
fi
cmake --build build -j "$(nproc)" ${INCEPT_BUILD_TARGET:+--target "$INCEPT_BUILD_TARGET"}
