#!/usr/bin/env python3
"""PyTorch baseline for bench/run.sh (comparison only; not part of incept).

Builds seed 004's MNIST network (configs/mnist/reduced.toml) or seed 000's GoogLeNet (configs/seed/googlenet.toml
at 3x96x96 with avgpool kernel 2) in plain torch.nn, with the same module/parameter order as incept (so the same
seed gives the same initial weights), and trains it the way `incept train` does: data in memory as tensors,
index_select batches, cross_entropy, SGD lr 0.1, loss.item() and the accuracy read every batch, an evaluation pass
after every epoch. Prints one JSON object.

  --order incept: draw incept's batches (its SplitMix64 Fisher-Yates shuffle, experiments/data/batch_order.cpp)
           instead of torch.randperm's, so both sides train on the same batches from the same initial weights.

  --tuned: the baseline's best simple settings (torch.set_num_threads(cores), zero_grad(set_to_none=True),
           inference_mode for evaluation); OPENBLAS_NUM_THREADS=1 must be exported by the caller (OpenBLAS reads
           it at load time). Without --tuned, everything is left at the defaults of Debian's python3-torch.
  --channels-last: model.to(memory_format=torch.channels_last) and channels-last inputs (incept's
           train.channels_last).
  --device cuda: data and model on the GPU. With --tuned also torch.backends.cudnn.benchmark = True and the
           running loss/accuracy summed on the GPU and read once per epoch (incept reads them every 50 batches),
           instead of loss.item() after every batch. --amp: autocast to float16 with a GradScaler (train.amp).
"""
import argparse
import json
import math
import os
import struct
import time
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvUnit(nn.Module):  # incept's ConvUnitImpl: conv (bias) [+ relu_]
    def __init__(self, cin, cout, k, stride=1, padding=None, relu=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2 if padding is None else padding)
        self.relu = relu

    def forward(self, x):
        y = self.conv(x)
        return torch.relu_(y) if self.relu else y


class Concat(nn.Module):  # incept's ConcatImpl: branches in order, then cat on channels
    def __init__(self, branches):
        super().__init__()
        for name, module in branches:
            self.add_module(name, module)

    def forward(self, x):
        return torch.cat([b(x) for b in self.children()], 1)


class Classifier(nn.Linear):  # incept's LinearImpl: flattens, then linear
    def forward(self, x):
        return super().forward(x.flatten(1))


def seq(*named):
    return nn.Sequential(OrderedDict(named))


def inception_reduced(cin, out, ratio=0.5):
    red = math.floor(out * ratio)
    return Concat([("branch1x1", ConvUnit(cin, out, 1)),
                   ("branch3x3", seq(("reduce", ConvUnit(cin, red, 1, relu=False)), ("conv", ConvUnit(red, out, 3)))),
                   ("branch5x5", seq(("reduce", ConvUnit(cin, red, 1, relu=False)), ("conv", ConvUnit(red, out, 5)))),
                   ("branch_pool", seq(("pool", nn.MaxPool2d(3, 1, 1)), ("proj", ConvUnit(cin, out, 1))))]), 4 * out


def inception_v1(cin, c1, c3r, c3, c5r, c5, pp):
    return Concat([("branch1x1", ConvUnit(cin, c1, 1)),
                   ("branch3x3", seq(("reduce", ConvUnit(cin, c3r, 1)), ("conv", ConvUnit(c3r, c3, 3)))),
                   ("branch5x5", seq(("reduce", ConvUnit(cin, c5r, 1)), ("conv", ConvUnit(c5r, c5, 5)))),
                   ("branch_pool", seq(("pool", nn.MaxPool2d(3, 1, 1)), ("proj", ConvUnit(cin, pp, 1))))]), \
        c1 + c3 + c5 + pp


def mnist_net():
    layers = [("stem", ConvUnit(1, 8, 3, padding=1, relu=False))]
    b, c = inception_reduced(8, 8); layers += [("inception1", b), ("pool1", nn.MaxPool2d(3, 2))]
    b, c = inception_reduced(c, 16); layers += [("inception2", b), ("pool2", nn.MaxPool2d(3, 2))]
    b, c = inception_reduced(c, 16); layers += [("inception3", b)]
    layers += [("classifier", Classifier(c * 6 * 6, 10))]
    return seq(*layers)


GOOGLENET = [("inception3a", 64, 96, 128, 16, 32, 32), ("inception3b", 128, 128, 192, 32, 96, 64), "pool3",
             ("inception4a", 192, 96, 208, 16, 48, 64), ("inception4b", 160, 112, 224, 24, 64, 64),
             ("inception4c", 128, 128, 256, 24, 64, 64), ("inception4d", 112, 144, 288, 32, 64, 64),
             ("inception4e", 256, 160, 320, 32, 128, 128), "pool4",
             ("inception5a", 256, 160, 320, 32, 128, 128), ("inception5b", 384, 182, 384, 48, 128, 128)]


def googlenet(avgpool_kernel):
    layers = [("conv1", ConvUnit(3, 64, 7, 2, 3)), ("pool1", nn.MaxPool2d(3, 2)),
              ("conv2", ConvUnit(64, 192, 3, 1, 1)), ("pool2", nn.MaxPool2d(3, 2))]
    c = 192
    for spec in GOOGLENET:
        if isinstance(spec, str):
            layers.append((spec, nn.MaxPool2d(3, 2)))
            continue
        b, c = inception_v1(c, *spec[1:])
        layers.append((spec[0], b))
    layers += [("avgpool", nn.AvgPool2d(avgpool_kernel, 1)), ("dropout", nn.Dropout(0.4)),
               ("classifier", Classifier(c, 1000))]
    return seq(*layers)


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    dims = [n] + list(struct.unpack(">" + "I" * ((magic & 0xFF) - 1), data[8:8 + 4 * ((magic & 0xFF) - 1)]))
    offset = 4 * (len(dims) + 1)
    return torch.frombuffer(bytearray(data[offset:]), dtype=torch.uint8).reshape(dims)


def mnist(directory):
    def split(prefix):
        x = read_idx(os.path.join(directory, prefix + "-images-idx3-ubyte")).unsqueeze(1).float().div_(255.0)
        return x, read_idx(os.path.join(directory, prefix + "-labels-idx1-ubyte")).long()
    return split("train"), split("t10k")


def synthetic(n_train, n_test, shape, classes, seed):
    g = torch.Generator().manual_seed(seed + 12345)  # data must not consume the global (init) generator
    def split(n):
        return torch.rand((n, *shape), generator=g), torch.randint(0, classes, (n,), generator=g)
    return split(n_train), split(n_test)


def evaluate(net, x, y, batch, inference_mode, fmt, amp):
    guard = torch.inference_mode() if inference_mode else torch.no_grad()
    net.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=x.device)
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    with guard, torch.autocast("cuda", enabled=amp):
        for s in range(0, len(y), batch):
            logits = net(x[s:s + batch].contiguous(memory_format=fmt))
            loss_sum += F.cross_entropy(logits, y[s:s + batch], reduction="sum")
            correct += logits.argmax(1).eq(y[s:s + batch]).sum()
    net.train()
    return loss_sum.item() / len(y), correct.item() / len(y)


M64 = (1 << 64) - 1


class StableRng:  # incept's experiments/data/stable_rng.h (SplitMix64), for --order incept
    def __init__(self, seed):
        self.state = seed & M64

    @staticmethod
    def mix(a, b):
        r = StableRng(a ^ ((b * 0xD1B54A32D192ED03 + 0x8CB92BA72F3D8DD7) & M64))
        r.next_u64()
        return r.next_u64()

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def below(self, n):
        limit = M64 - M64 % n
        x = self.next_u64()
        while x >= limit:
            x = self.next_u64()
        return x % n


def epoch_order(n, seed, epoch, kind):
    if kind == "torch":
        return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1000 + epoch))
    order = list(range(n))  # incept's BatchOrder::epoch_indices: Fisher-Yates over the StableRng stream
    rng = StableRng(StableRng.mix(seed, epoch))
    for i in range(n - 1, 0, -1):
        j = rng.below(i + 1)
        order[i], order[j] = order[j], order[i]
    return torch.tensor(order, dtype=torch.int64)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--net", choices=["mnist", "googlenet"], required=True)
    p.add_argument("--tuned", action="store_true")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--data", default="data/mnist", help="MNIST IDX directory; synthetic data when missing")
    p.add_argument("--synthetic-train", type=int, default=512)
    p.add_argument("--synthetic-test", type=int, default=256)
    p.add_argument("--train-limit", type=int, default=0, help="use only the first N training images (0 = all)")
    p.add_argument("--test-limit", type=int, default=0, help="use only the first N test images (0 = all)")
    p.add_argument("--infer-repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--amp", action="store_true")
    p.add_argument("--order", choices=["torch", "incept"], default="torch",
                   help="batch order: torch.randperm, or incept's own (the same batches as `incept train`)")
    a = p.parse_args()
    device = torch.device(a.device)
    if a.device == "cuda" and a.tuned:
        torch.backends.cudnn.benchmark = True
    amp = a.amp and a.device == "cuda"

    threads_default = torch.get_num_threads()
    if a.tuned:
        torch.set_num_threads(os.cpu_count())
    torch.manual_seed(a.seed)
    if a.net == "mnist":
        net, batch, eval_batch = mnist_net(), 100, 1000
        for name, prm in net.named_parameters():  # init = "normal", init_std = 0.1: N(0, 0.1), zero biases
            with torch.no_grad():
                prm.normal_(0.0, 0.1) if prm.dim() >= 2 else prm.zero_()
        if os.path.exists(os.path.join(a.data, "train-images-idx3-ubyte")):
            (xtr, ytr), (xte, yte), data = *mnist(a.data), "mnist (" + a.data + ")"
        else:
            (xtr, ytr), (xte, yte) = synthetic(60000, 10000, (1, 28, 28), 10, a.seed)
            data = "synthetic 60000+10000 x 1x28x28"
    else:
        net, batch, eval_batch = googlenet(2), 32, 1000  # init = "default" (LibTorch's, the same as torch.nn's)
        (xtr, ytr), (xte, yte) = synthetic(a.synthetic_train, a.synthetic_test, (3, 96, 96), 10, a.seed)
        data = f"synthetic {a.synthetic_train}+{a.synthetic_test} x 3x96x96"
    if a.train_limit:
        xtr, ytr = xtr[:a.train_limit], ytr[:a.train_limit]
    if a.test_limit:
        xte, yte = xte[:a.test_limit], yte[:a.test_limit]
    params = sum(t.numel() for t in net.parameters())
    init_checksum = float(sum(t.double().abs().sum() for t in net.parameters()))
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    net.to(device=device, memory_format=fmt)
    xtr, ytr, xte, yte = xtr.to(device), ytr.to(device), xte.to(device), yte.to(device)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    scaler = torch.cuda.amp.GradScaler(enabled=amp)
    read_every_batch = not (a.tuned and device.type == "cuda")

    net.train()
    epochs = []
    for epoch in range(a.epochs):
        order = epoch_order(len(ytr), a.seed, epoch, a.order).to(device)
        seen, correct, loss_sum = 0, 0, 0.0
        loss_acc = torch.zeros((), dtype=torch.float64, device=device)
        correct_acc = torch.zeros((), dtype=torch.int64, device=device)
        synchronize(device)
        t0 = time.perf_counter()
        for s in range(0, len(ytr), batch):
            idx = order[s:s + batch]
            x, y = xtr.index_select(0, idx), ytr.index_select(0, idx)
            opt.zero_grad(set_to_none=a.tuned)
            with torch.autocast("cuda", enabled=amp):
                logits = net(x.contiguous(memory_format=fmt))
                loss = F.cross_entropy(logits, y)
            if read_every_batch:
                loss_value = loss.item()
                if not math.isfinite(loss_value):
                    raise SystemExit(f"diverged at epoch {epoch + 1}")
                loss_sum += loss_value * len(y)
                correct += logits.argmax(1).eq(y).sum().item()
            else:
                loss_acc += loss.detach() * len(y)
                correct_acc += logits.detach().argmax(1).eq(y).sum()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            seen += len(y)
        if not read_every_batch:
            loss_sum, correct = loss_acc.item(), correct_acc.item()
            if not math.isfinite(loss_sum):
                raise SystemExit(f"diverged at epoch {epoch + 1}")
        synchronize(device)
        train_s = time.perf_counter() - t0
        test_loss, test_acc = evaluate(net, xte, yte, eval_batch, a.tuned, fmt, amp)
        epochs.append({"epoch": epoch + 1, "images_per_s": seen / train_s, "seconds": time.perf_counter() - t0,
                       "train_loss": loss_sum / seen, "train_acc": correct / seen, "test_acc": test_acc})

    # Inference: evaluation passes over the test split in batches of the training batch size, after a warm-up.
    evaluate(net, xte[:batch * 2], yte[:batch * 2], batch, a.tuned, fmt, amp)
    t0 = time.perf_counter()
    for _ in range(a.infer_repeats):
        evaluate(net, xte, yte, batch, a.tuned, fmt, amp)
    infer = a.infer_repeats * len(yte) / (time.perf_counter() - t0)

    print(json.dumps({
        "side": ("pytorch-tuned" if a.tuned else "pytorch-default") + ("+channels_last" if a.channels_last else "")
        + ("+amp" if amp else ""), "net": a.net, "data": data, "params": params, "device": str(device),
        "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None, "amp": amp,
        "cudnn_benchmark": torch.backends.cudnn.benchmark, "read_every_batch": read_every_batch,
        "init_checksum": init_checksum, "order": a.order, "batch": batch, "epochs": epochs, "infer_images_per_s": infer,
        "torch": torch.__version__, "threads": torch.get_num_threads(), "threads_default": threads_default,
        "interop_threads": torch.get_num_interop_threads(),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
        "parallel_info": torch.__config__.parallel_info(),
        "zero_grad_set_to_none": a.tuned, "channels_last": a.channels_last, "eval_guard": "inference_mode" if a.tuned else "no_grad"}))


if __name__ == "__main__":
    main()
