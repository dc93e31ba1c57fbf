#!/usr/bin/env python3
"""Packing (issue 17, parts 3-4), side by side in one invocation: seed 004's MNIST network (configs/mnist/reduced.toml,
the seed's recipe) trained for N seeds

  separate        one run at a time, unpacked (`incept sweep --pack 1 --jobs 1`): incept before packing
  separate auto   unpacked, `--jobs auto` (CPU only: trainings side by side, cores split)
  packed          all seeds as one packed network (`--pack N --jobs 1`)
  packed+graph    the same with train.cuda_graph = true (CUDA only: the step captured and replayed)
  pytorch eager   bench/baseline.py once per seed (plain PyTorch, the same batches), one after the other

printing a Markdown table of wall time, runs per hour, the speed-up over `separate`, the time of one epoch (of a
run; for a pack, of the whole pack and per run) and the final test accuracies; then how far each incept mode's
recorded figures are from `separate`'s for the same seed (a packed member computes what its run alone computes up
to float rounding; the table says how far apart they end up).

    python3 bench/pack_bench.py --device cuda                          # on a GPU machine: 12 seeds, full MNIST
    python3 bench/pack_bench.py --device cpu --seeds 0-3 --train-limit 10000 --no-pytorch

On a GPU: build incept against a CUDA LibTorch first (scripts/build_cuda.sh; --incept build-cuda/incept), and have
MNIST in --data-dir (`incept data fetch mnist`). The PyTorch rows need `import torch` in --python.
"""
import argparse
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(msg):
    print(f"pack-bench: {msg}", file=sys.stderr, flush=True)


def seeds_list(text):
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def write_sweep(folder, seeds, device, train_limit, test_limit, data_dir):
    base = os.path.join(ROOT, "configs", "mnist", "reduced.toml")
    lines = ['name = "pack-bench"', f'base = "{base}"', "seeds = [" + ", ".join(map(str, seeds)) + "]", "[set]",
             f'"train.device" = "{device}"', f'"data.dir" = "{data_dir}"']
    if train_limit:
        lines.append(f'"data.train_limit" = {train_limit}')
    if test_limit:
        lines.append(f'"data.test_limit" = {test_limit}')
    path = os.path.join(folder, "sweep.toml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def runs_of(db):
    """seed -> (status, final test acc, [(epoch, train_loss, test_loss, test_acc, seconds)])."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    out = {}
    for run_id, seed, status, final in con.execute("SELECT id, seed, status, final_test_acc FROM runs"):
        epochs = list(con.execute("SELECT epoch, train_loss, test_loss, test_acc, seconds FROM epochs "
                                  "WHERE run_id = ? ORDER BY epoch", (run_id,)))
        out[seed] = (status, final, epochs)
    con.close()
    return out


def run_incept_mode(args, folder, sweep, name, extra):
    db = os.path.join(folder, name.replace(" ", "-").replace("+", "-") + ".db")
    cmd = [args.incept, "sweep", sweep, "--db", db] + extra
    log(f"{name}: {' '.join(cmd)} (load {loadavg():.2f})")
    start = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=folder)
    wall = time.monotonic() - start
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{name}: incept sweep exited {done.returncode}")
    notes = [line for line in (done.stdout + done.stderr).splitlines() if "cuda_graph" in line]  # a graph that fell back
    runs = runs_of(db)
    epoch_seconds = [e[4] for _, _, epochs in runs.values() for e in epochs]
    return {"name": name, "wall": wall, "runs": runs, "epoch_seconds": statistics.median(epoch_seconds),
            "notes": notes[:3]}


def run_pytorch(args, seeds):
    total = 0.0
    accs, epoch_seconds = [], []
    for seed in seeds:
        cmd = [args.python, os.path.join(ROOT, "bench", "baseline.py"), "--net", "mnist", "--order", "incept",
               "--tuned", "--seed", str(seed), "--epochs", "2", "--device", args.device, "--data", args.data_dir,
               "--infer-repeats", "0"]
        if args.train_limit:
            cmd += ["--train-limit", str(args.train_limit)]
        if args.test_limit:
            cmd += ["--test-limit", str(args.test_limit)]
        start = time.monotonic()
        done = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        total += time.monotonic() - start
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            raise SystemExit(f"pytorch eager seed {seed}: exited {done.returncode}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        accs.append(result["epochs"][-1]["test_acc"])
        epoch_seconds.extend(e["seconds"] for e in result["epochs"])
    return {"name": "pytorch eager", "wall": total, "accs": accs,
            "epoch_seconds": statistics.median(epoch_seconds) if epoch_seconds else float("nan")}


def acc_cell(accs):
    accs = [a for a in accs if a is not None]
    if not accs:
        return "-"
    return f"{100 * statistics.mean(accs):.2f} [{100 * min(accs):.2f}-{100 * max(accs):.2f}]"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--incept", default=os.path.join(ROOT, "build", "incept"))
    p.add_argument("--device", choices=["cpu", "cuda"], default="cuda")
    p.add_argument("--seeds", default="0-11")
    p.add_argument("--train-limit", type=int, default=0, help="data.train_limit (0 = all 60,000)")
    p.add_argument("--test-limit", type=int, default=0, help="data.test_limit (0 = all 10,000)")
    p.add_argument("--data-dir", default=os.path.join(ROOT, "data", "mnist"))
    p.add_argument("--python", default="python3", help="the interpreter with torch, for the PyTorch rows")
    p.add_argument("--no-pytorch", action="store_true")
    p.add_argument("--keep", help="keep the logs in this folder")
    args = p.parse_args()
    seeds = seeds_list(args.seeds)
    args.incept = os.path.abspath(args.incept)
    args.data_dir = os.path.abspath(args.data_dir)
    folder = args.keep or tempfile.mkdtemp(prefix="incept-pack-bench.")
    os.makedirs(folder, exist_ok=True)
    sweep = write_sweep(folder, seeds, args.device, args.train_limit, args.test_limit, args.data_dir)
    n = len(seeds)
    modes = [("separate", ["--pack", "1", "--jobs", "1"])]
    if args.device == "cpu":
        modes.append(("separate auto", ["--pack", "1", "--jobs", "auto"]))
    modes.append(("packed", ["--pack", str(n), "--jobs", "1"]))
    if args.device == "cuda":
        modes.append(("packed+graph", ["--pack", str(n), "--jobs", "1", "--set", "train.cuda_graph=true"]))
    results = [run_incept_mode(args, folder, sweep, name, extra) for name, extra in modes]
    if not args.no_pytorch:
        results.append(run_pytorch(args, seeds))

    base = results[0]
    images = f"{args.train_limit or 60000} training images" + (f", {args.test_limit} test" if args.test_limit else "")
    print(f"### Packing: seed 004's MNIST network, {n} seeds x 2 epochs ({images}), device {args.device}\n")
    print("| mode | wall s | runs/hour | speed-up | one epoch s (per run) | final test acc % mean [min-max] |")
    print("|---|---:|---:|---:|---:|---|")
    for r in results:
        packed = r["name"].startswith("packed")
        epoch = (f"{r['epoch_seconds']:.2f} ({r['epoch_seconds'] / n:.3f})" if packed
                 else f"{r['epoch_seconds']:.2f}")
        accs = r["accs"] if "accs" in r else [final for _, final, _ in r["runs"].values()]
        print(f"| {r['name']} | {r['wall']:.1f} | {3600 * n / r['wall']:.0f} | {base['wall'] / r['wall']:.2f}x | "
              f"{epoch} | {acc_cell(accs)} |")
    print()
    for r in results[1:]:
        if "runs" not in r:
            continue
        worst_loss = worst_acc = 0.0
        statuses = set()
        for seed, (status, final, epochs) in r["runs"].items():
            b_status, b_final, b_epochs = base["runs"][seed]
            statuses.add(status == b_status)
            for e, be in zip(epochs, b_epochs):
                worst_loss = max(worst_loss, abs(e[1] - be[1]) / max(1.0, abs(be[1])))
                worst_acc = max(worst_acc, abs(e[3] - be[3]))
        print(f"- {r['name']} against separate: statuses {'equal' if statuses == {True} else 'DIFFER'}; largest "
              f"train-loss difference {worst_loss:.2e} (relative), largest test-accuracy difference "
              f"{100 * worst_acc:.2f} pp" + (f"; notes: {'; '.join(r['notes'])}" if r["notes"] else ""))
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
