#!/usr/bin/env python3
"""Formats bench/run.sh's results (one JSON object per line) as a Markdown report."""
import argparse
import json

NETS = {"mnist": "seed 004 MNIST net (reduced blocks), batch 100",
        "googlenet": "seed 000 GoogLeNet, 3x96x96, batch 32"}
RUNS = {"incept": "incept (C++)", "pytorch-default": "PyTorch, defaults", "pytorch-tuned": "PyTorch, tuned",
        "pytorch-tuned-cl": "PyTorch, tuned + channels_last",
        "incept-fast": "incept, deterministic = false, channels_last",
        "incept-fast-amp": "incept, deterministic = false, channels_last, amp",
        "pytorch-tuned-cl-amp": "PyTorch, tuned + channels_last + amp"}
# On the GPU each PyTorch row is compared with the incept row of the same settings; on the CPU with incept's one row.
GPU_PAIRS = {"pytorch-default": "incept", "pytorch-tuned-cl": "incept-fast", "pytorch-tuned-cl-amp": "incept-fast-amp"}


def steady(epochs, key):
    """Mean over the epochs after the first (warm-up), or the only epoch."""
    vals = [e[key] for e in epochs]
    vals = vals[1:] if len(vals) > 1 else vals
    return sum(vals) / len(vals)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("results")
    p.add_argument("--blas-alternative", default="unknown")
    p.add_argument("--cpu", default="unknown CPU")
    p.add_argument("--gpu", default=None, help="the GPU's name, for a run with BENCH_DEVICE=cuda")
    a = p.parse_args()
    rows = [json.loads(line) for line in open(a.results)]
    by_name = {r["name"]: r for r in rows}
    g = by_name["gemm"]["result"]
    if g.get("device") == "cuda":
        gpu_table(a, rows, by_name, g)
        return
    limit = max(g["blas_gmacs_all_cores"], g["onednn_gmacs_all_cores"])
    out = []
    w = out.append
    w(f"Machine: {a.cpu}, {g['cores']} cores. GEMM (float32 {g['size']}^3, GMAC/s, 1 thread / all cores): "
      f"oneDNN as a 1x1 convolution {g['onednn_gmacs_1_thread']:.1f} / {g['onednn_gmacs_all_cores']:.1f}; "
      f"OpenBLAS sgemm (core {g['openblas_core']}) {g['blas_gmacs_1_thread']:.1f} / {g['blas_gmacs_all_cores']:.1f}. "
      f"Hardware limit used below: **{limit:.1f} GMAC/s** (the best all-core figure; load "
      f"{by_name['gemm']['load_before']:.2f} before).")
    w("")
    inc = next(r["result"] for r in rows if r["name"].endswith("/incept"))
    w(f"Threads and BLAS: libblas.so.3 -> {a.blas_alternative} (update-alternatives); incept: "
      f"{inc['threads']} intra-op threads (OpenMP), {inc['interop_threads']} inter-op, OpenBLAS at "
      f"{inc['openblas_threads']} thread (set by incept), OPENBLAS_NUM_THREADS {inc['OPENBLAS_NUM_THREADS']}.")
    for side in ("pytorch-default", "pytorch-tuned"):
        r = next((r["result"] for r in rows if r["name"].endswith("/" + side)), None)
        if r:
            w(f"{RUNS[side]}: torch.get_num_threads() {r['threads']} (default {r['threads_default']}), "
              f"OPENBLAS_NUM_THREADS {r['OPENBLAS_NUM_THREADS']}, zero_grad(set_to_none={r['zero_grad_set_to_none']}), "
              f"evaluation under {r['eval_guard']}.")
    w("Training MACs per image = 3 x inference MACs (forward + 2 for backward, the usual estimate).")
    w("")
    w("| network | run | train img/s | inference img/s | s/epoch | test acc | train GMAC/s (% of limit) "
      "| inference GMAC/s (% of limit) | incept is (train / inference) | load before/after |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    notes = []
    for net in ("mnist", "googlenet"):
        net_rows = [r for r in rows if r["name"].startswith(net + "/")]
        if not net_rows:
            continue
        base = by_name[net + "/incept"]["result"]
        macs = base["macs"]
        base_train = steady(base["epochs"], "images_per_s")
        base_infer = base["infer_images_per_s"]
        for r in net_rows:
            res, side = r["result"], r["name"].split("/", 1)[1]
            train = steady(res["epochs"], "images_per_s")
            infer = res["infer_images_per_s"]
            sw = res.get("switches")
            label = RUNS.get(side, side)
            if sw:
                on = [k for k in ("channels_last", "parallel_branches") if sw.get(k)]
                label += " (" + ", ".join(on) + ")" if on else ""
            ratio = "-" if side == "incept" else f"{base_train / train:.2f}x / {base_infer / infer:.2f}x"
            w(f"| {NETS[net] if side == 'incept' else ''} | {label} | {train:,.0f} | {infer:,.0f} "
              f"| {steady(res['epochs'], 'seconds'):.1f} | {100 * res['epochs'][-1]['test_acc']:.2f}% "
              f"| {train * 3 * macs / 1e9:.1f} ({100 * train * 3 * macs / 1e9 / limit:.0f}%) "
              f"| {infer * macs / 1e9:.1f} ({100 * infer * macs / 1e9 / limit:.0f}%) | {ratio} "
              f"| {r['load_before']:.2f} / {r['load_after']:.2f} |")
        params = {r["name"].split("/", 1)[1]: r["result"].get("built_params", r["result"].get("params")) for r in net_rows}
        checks = {r["name"].split("/", 1)[1]: r["result"]["init_checksum"] for r in net_rows}
        same_params = len(set(params.values())) == 1 and base["ir_params"] == base["built_params"]
        same_init = max(checks.values()) - min(checks.values()) <= 1e-9 * abs(base["init_checksum"])
        notes.append(f"{NETS[net]}: data {base['data']}; {macs / 1e6:.2f} M MACs/image inference, "
                     f"{3 * macs / 1e6:.2f} M training; params {base['built_params']:,} on every side "
                     f"({'equal' if same_params else 'DIFFERENT: ' + str(params)}); initial weights "
                     f"{'identical (same seed, same checksum)' if same_init else 'differ: ' + str(checks)}; "
                     f"{order_note(net_rows)}; "
                     f"{len(base['epochs'])} epochs, train img/s and s/epoch averaged over epochs after the first.")
    w("")
    for n in notes:
        w("- " + n)
    w("- Inference: evaluation passes (eval mode, no autograd) over the test split in batches of the training batch "
      "size, after a warm-up pass. s/epoch includes the epoch's test pass (batches of 1000), as `incept train` "
      "records it.")
    print("\n".join(out))


def order_note(net_rows):
    orders = {r["result"]["order"] for r in net_rows if "order" in r["result"]}  # the PyTorch rows carry one
    if orders == {"incept"}:
        return "the same batches on every side (the PyTorch script draws incept's batch order)"
    return "each side draws its batches with its own generator"


def gpu_table(a, rows, by_name, g):
    out = []
    w = out.append
    w(f"Machine: {a.gpu} (host CPU {a.cpu}). GEMM {g['size']}^3 on the GPU, GMAC/s: float32 {g['cuda_gmacs_fp32']:,.0f}, "
      f"float32 with TF32 tensor cores {g['cuda_gmacs_tf32']:,.0f}, float16 {g['cuda_gmacs_fp16']:,.0f}. Hardware limit "
      f"used below: the TF32 figure for float32 rows (cuDNN convolutions use TF32 by default on both sides), the "
      f"float16 figure for amp rows.")
    py = next((r["result"] for r in rows if r["name"].endswith("/pytorch-default")), {})
    w(f"Both sides on the GPU with data resident there; PyTorch {py.get('torch', '?')} from Python, incept built "
      f"against the same release's LibTorch (scripts/build_cuda.sh). Training MACs per image = 3 x inference MACs.")
    w("")
    w("| network | run | train img/s | inference img/s | s/epoch | test acc | train GMAC/s (% of limit) "
      "| incept / PyTorch (train, inference) |")
    w("|---|---|---:|---:|---:|---:|---:|---:|")
    notes = []
    for net in ("mnist", "googlenet"):
        net_rows = [r for r in rows if r["name"].startswith(net + "/")]
        if not net_rows:
            continue
        notes.append(f"{NETS[net]}: {order_note(net_rows)}.")
        macs = by_name[net + "/incept"]["result"]["macs"]
        for i, r in enumerate(net_rows):
            res, side = r["result"], r["name"].split("/", 1)[1]
            train, infer = steady(res["epochs"], "images_per_s"), res["infer_images_per_s"]
            limit = g["cuda_gmacs_fp16"] if side.endswith("amp") else g["cuda_gmacs_tf32"]
            ratio = "-"
            if side in GPU_PAIRS and (net + "/" + GPU_PAIRS[side]) in by_name:
                inc = by_name[net + "/" + GPU_PAIRS[side]]["result"]
                ratio = (f"{steady(inc['epochs'], 'images_per_s') / train:.2f}x, "
                         f"{inc['infer_images_per_s'] / infer:.2f}x")
            w(f"| {NETS[net] if i == 0 else ''} | {RUNS.get(side, side)} | {train:,.0f} | {infer:,.0f} "
              f"| {steady(res['epochs'], 'seconds'):.2f} | {100 * res['epochs'][-1]['test_acc']:.2f}% "
              f"| {train * 3 * macs / 1e9:,.0f} ({100 * train * 3 * macs / 1e9 / limit:.1f}%) | {ratio} |")
    w("")
    for n in notes:
        w("- " + n)
    w("- Train img/s and s/epoch are averaged over the epochs after the first (cuDNN autotuning and allocator "
      "warm-up happen in the first). Inference: evaluation passes over the test split in batches of the training "
      "batch size, after a warm-up pass.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
