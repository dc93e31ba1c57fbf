#!/usr/bin/env bash
# Builds incept with its tests and runs the whole suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build -j "$(nproc)" --output-on-failure
