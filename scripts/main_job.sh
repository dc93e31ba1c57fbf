#!/usr/bin/env bash
# The README's main job: builds incept and shows what seed 004's naive and reduced Inception blocks cost.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
./build/incept compare configs/mnist/naive.toml configs/mnist/reduced.toml
