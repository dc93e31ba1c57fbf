#!/usr/bin/env python3
"""Sweep throughput, side by side in one invocation: the same sweep trained

  sequential     one training at a time with every core (`--jobs 1 --no-prefix-reuse`: incept before --jobs auto)
  jobs auto      `--jobs auto --no-prefix-reuse` (split chosen for this machine and network)
  prefix reuse   `--jobs 1` with prefix reuse (the same threads as sequential: its records must be bitwise equal)
  auto + reuse   `--jobs auto` with prefix reuse (incept's default)

each into a log of its own, printing wall time, runs per hour and the speed-up over sequential as a Markdown table,
and checking every run's recorded figures (each epoch's train loss and accuracy, test loss and accuracy, learning
rate) against the sequential run of the same cell: equal bit for bit where the computation is the same (the same
threads); where a mode trains with other threads the figures are not expected to be equal (the thread count changes
float rounding, which training amplifies) and the table says by how much they differ.

    python3 bench/sweep_bench.py                                   # a reduced seed004_reproduction (see --help)
    python3 bench/sweep_bench.py --seeds 0-11 --train-limit 0      # the whole sweep (24 runs, about an hour here)

The machine's load average is printed before and after each mode: on a shared machine timings are noisy. With
--repeat N the modes run N times, interleaved (all modes, then all again), so a burst of other work does not land on
one mode alone; the table gives the median wall time and every repetition's, and each repetition's records are also
checked against the first repetition of the same mode (the same threads: bitwise).
"""
import argparse
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MODES = [
    ("sequential", ["--jobs", "1", "--no-prefix-reuse"]),
    ("jobs auto", ["--jobs", "auto", "--no-prefix-reuse"]),
    ("prefix reuse", ["--jobs", "1"]),
    ("auto + reuse", ["--jobs", "auto"]),
]


def log(msg):
    print(f"sweep-bench: {msg}", file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def seeds_list(text):
    out = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            out.extend(range(int(lo), int(hi) + 1))
        else:
            out.append(int(part))
    return out


def derived_sweep(src, dest, seeds, name):
    """The sweep file `src` with its own name, its seeds replaced and its base made absolute."""
    text = open(src).read()
    parsed = tomllib.loads(text)
    base = os.path.join(os.path.dirname(os.path.abspath(src)), parsed["base"])
    for key, value in (("name", f'"{name}"'), ("seeds", "[" + ", ".join(map(str, seeds)) + "]"),
                       ("base", f'"{base}"')):
        text, n = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, count=1, flags=re.M)
        if n != 1:
            raise SystemExit(f"{src}: no top-level `{key} = ...` line to replace")
    with open(dest, "w") as f:
        f.write(text)


def figures(db):
    """(variant, seed) -> (threads, [(epoch, train_loss, train_acc, test_loss, test_acc, lr), ...], status)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    out = {}
    for run_id, variant, seed, config, status in con.execute(
            "SELECT id, variant, seed, config_toml, status FROM runs"):
        threads = tomllib.loads(config).get("train", {}).get("threads", 0)
        epochs = con.execute("SELECT epoch, train_loss, train_acc, test_loss, test_acc, lr FROM epochs "
                             "WHERE run_id = ? ORDER BY epoch", (run_id,)).fetchall()
        out[(variant, seed)] = (threads, epochs, status)
    con.close()
    return out


def compare(base, other):
    """Equal runs, and for the others the largest difference in test accuracy (points) and the threads on each side."""
    equal, diffs, missing = 0, [], 0
    for cell, (threads, epochs, status) in base.items():
        if cell not in other:
            missing += 1
            continue
        o_threads, o_epochs, o_status = other[cell]
        if epochs == o_epochs and status == o_status:
            equal += 1
        else:
            worst = max((abs(a[4] - b[4]) for a, b in zip(epochs, o_epochs)), default=float("nan"))
            diffs.append((cell, threads, o_threads, 100 * worst))
    return equal, diffs, missing


def run_mode(a, work, sweep_file, sets, name, args, repetition):
    """One `incept sweep` of the mode into a fresh log; its wall time, split, reasons and records."""
    db = os.path.join(work, f"{name.replace(' ', '-').replace('+', 'and')}-{repetition}.db")
    extra = ["--calibrate"] if "auto" in " ".join(args) and not a.no_calibrate else []
    cmd = [a.incept, "sweep", sweep_file, "--db", db] + args + extra + sets
    log(f"{name} (repetition {repetition}): {' '.join(cmd)}")
    before = loadavg()
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.monotonic() - start
    after = loadavg()
    with open(db + ".out", "w") as f:
        f.write(proc.stdout)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout)
        raise SystemExit(f"{name}: incept sweep exited with {proc.returncode}")
    lines = proc.stdout.splitlines()
    split = next((l for l in lines if re.search(r" at once, \d+ threads? each$", l)), "")
    m = re.search(r"(\d+) at once, (\d+) threads? each$", split)
    why = []
    for i, l in enumerate(lines):
        if l.startswith("--jobs auto:"):
            why = [l] + [x.strip() for x in lines[i + 1:] if x.startswith("  ")][:3]
            break
    trainings = sum(1 for l in lines if re.match(r"\[\d+\] (train|resume) ", l))
    log(f"{name} (repetition {repetition}): {wall:.1f} s")
    return dict(name=name, args=" ".join(args + extra), wall=wall, before=before, after=after, db=db,
                split=f"{m.group(1)} x {m.group(2)}" if m else "?", why=why, trainings=trainings,
                figures=figures(db))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--incept", default=os.path.join(ROOT, "build", "incept"))
    p.add_argument("--sweep", default=os.path.join(ROOT, "configs", "sweeps", "seed004_reproduction.toml"))
    p.add_argument("--seeds", default="0-3", help="seeds to keep, e.g. 0-3 or 0,5,7 (default 0-3)")
    p.add_argument("--train-limit", type=int, default=20000, help="data.train_limit (0 = all; default 20000)")
    p.add_argument("--test-limit", type=int, default=0, help="data.test_limit (0 = all)")
    p.add_argument("--data-dir", default=os.path.join(ROOT, "data", "mnist"))
    p.add_argument("--no-calibrate", action="store_true",
                   help="let --jobs auto apply its rules (a reduced sweep is too short to repay a calibration); by "
                        "default the auto modes are given --calibrate, so the split is measured, and the calibration "
                        "counts in their wall time")
    p.add_argument("--modes", default=",".join(m for m, _ in MODES), help="which modes, comma-separated")
    p.add_argument("--repeat", type=int, default=1, help="run every mode this many times, interleaved (default 1)")
    p.add_argument("--keep", help="keep the logs in this folder")
    a = p.parse_args()
    if not os.path.exists(a.incept):
        raise SystemExit(f"no incept binary at {a.incept}: build it first (bash scripts/build.sh)")
    if not os.path.exists(os.path.join(a.data_dir, "train-images-idx3-ubyte")) and \
            not os.path.exists(os.path.join(a.data_dir, "train-images-idx3-ubyte.gz")):
        raise SystemExit(f"no MNIST in {a.data_dir}: run `{a.incept} data fetch mnist`")
    seeds = seeds_list(a.seeds)
    work = a.keep or tempfile.mkdtemp(prefix="incept-sweep-bench.")
    os.makedirs(work, exist_ok=True)
    sweep_file = os.path.join(work, "sweep.toml")
    derived_sweep(a.sweep, sweep_file, seeds, "sweep-bench")
    sets = ["--set", f"data.dir={os.path.abspath(a.data_dir)}"]
    if a.train_limit:
        sets += ["--set", f"data.train_limit={a.train_limit}"]
    if a.test_limit:
        sets += ["--set", f"data.test_limit={a.test_limit}"]
    cores = len(os.sched_getaffinity(0))
    chosen = [m for m in MODES if m[0] in a.modes.split(",")]
    if not chosen or chosen[0][0] != "sequential":
        raise SystemExit("--modes must start with sequential, the baseline the others are checked against")

    runs_of = {}  # mode -> one result per repetition
    for repetition in range(1, a.repeat + 1):
        for name, args in chosen:
            runs_of.setdefault(name, []).append(run_mode(a, work, sweep_file, sets, name, args, repetition))

    results = []
    for name, _ in chosen:
        reps = runs_of[name]
        r = dict(reps[0])
        walls = sorted(x["wall"] for x in reps)
        r["wall"] = walls[len(walls) // 2] if len(walls) % 2 else (walls[len(walls) // 2 - 1] + walls[len(walls) // 2]) / 2
        r["walls"] = [x["wall"] for x in reps]
        r["loads"] = [(x["before"], x["after"]) for x in reps]
        r["splits"] = sorted({x["split"] for x in reps})
        r["repeatable"] = all(compare(reps[0]["figures"], x["figures"])[0] == len(reps[0]["figures"]) for x in reps[1:])
        results.append(r)
    base = results[0]
    runs = len(base["figures"])
    print(f"Sweep benchmark: {os.path.relpath(a.sweep, ROOT)}, seeds {a.seeds} ({runs} runs), "
          f"data.train_limit={a.train_limit or 'all'}, data.test_limit={a.test_limit or 'all'}; "
          f"{cores} cores; incept {a.incept}.\n")
    print("| mode | incept sweep options | jobs x threads | trainings | wall s (median) | each repetition, s | "
          "runs/hour | vs sequential | load before/after | records vs sequential |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        equal, diffs, missing = compare(base["figures"], r["figures"])
        if r is base:
            check = "(baseline)"
        elif not diffs and not missing:
            check = f"all {equal} bitwise equal"
        else:
            threads = sorted({f"{d[1]} vs {d[2]}" for d in diffs})
            worst = max(d[3] for d in diffs) if diffs else 0
            check = (f"{equal} of {runs} bitwise equal; {len(diffs)} differ (threads {', '.join(threads)}; "
                     f"test accuracy up to {worst:.2f} points apart)")
            if missing:
                check += f"; {missing} missing"
        if len(r["splits"]) > 1:
            check += "; the repetitions chose different splits (so other threads, other rounding)"
        elif len(r["walls"]) > 1:
            check += "; its repetitions " + ("bitwise equal" if r["repeatable"] else "NOT bitwise equal")
        loads = ", ".join(f"{b:.2f} / {e:.2f}" for b, e in r["loads"])
        walls = ", ".join(f"{w:.1f}" for w in r["walls"])
        print(f"| {r['name']} | `{r['args']}` | {', '.join(r['splits'])} | {r['trainings']} | {r['wall']:.1f} | "
              f"{walls} | {runs / r['wall'] * 3600:.0f} | {base['wall'] / r['wall']:.2f}x | {loads} | {check} |")
    # Prefix reuse with auto against auto alone: the same threads, so the same computation.
    by_name = {r["name"]: r for r in results}
    if "jobs auto" in by_name and "auto + reuse" in by_name:
        equal, diffs, missing = compare(by_name["jobs auto"]["figures"], by_name["auto + reuse"]["figures"])
        print(f"\nauto + reuse against jobs auto (the same threads): {equal} of {runs} runs bitwise equal"
              + (f"; {len(diffs)} differ" if diffs else "") + (f"; {missing} missing" if missing else "") + ".")
    for r in results:
        if r["why"]:
            print(f"\n{r['name']}: " + "\n  ".join(r["why"]))
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"\nlogs and outputs kept in {work}")


if __name__ == "__main__":
    main()
