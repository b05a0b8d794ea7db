#!/usr/bin/env python3
"""PyTorch half of the mlp vs PyTorch speed comparison (CPU only).

    PY=$(scripts/setup-pytorch.sh)
    $PY scripts/bench_pytorch.py --threads 1 > torch-1t.json
    $PY scripts/bench_pytorch.py --threads 2 --models A,T --batch-sizes 32 --quick

Options: --threads T (1 or 2: torch.set_num_threads), --models A,B,C,T, --real-data DIR,
--batch-sizes 32,256 (epoch batch sizes for A/B/C; T always uses its own 32),
--repeats 3 (timed epochs after one warm-up epoch; median reported), --quick
(smoke test: 1 timed epoch, short warm-up, few step/predict samples), --seed.

Models (PyTorch's own default init; init does not change timing):
  A plain      Flatten, Linear 784-300 ReLU, 300-100 ReLU, 100-10; SGD 0.01
  B batchnorm  BN(784), Linear 784-300 ReLU, BN, 300-100 ReLU, BN, 100-10; SGD 0.01
  C dropout    Dropout .2, Linear 784-300 ELU, 300-100 ELU, Dropout .2, 100-10; Adam 1e-3
  T tiny       Linear 4-32 tanh, 32-16 tanh, 16-4; Adam 1e-3; MSE; 10,000 samples
A/B/C use cross-entropy on logits (softmax fused in the loss, as Keras does with
softmax + sparse_categorical_crossentropy) on synthetic Fashion-MNIST-shaped
data: 60,000 x 784 floats uniform in [0, 1], labels 0-9, fixed seed. BN and
Adam use Keras' hyper-parameters (momentum 0.99 = PyTorch 0.01, eps 1e-3; Adam
eps 1e-7).

Output: one JSON object on stdout (progress goes to stderr):

{
  "machine": {"cpu": str (/proc/cpuinfo model name), "cores": int,
              "cpu_capability": str (e.g. "AVX2"), "torch": str, "python": str,
              "threads": int, "loadavg": [float] (1/5/15 min, at start)},
  "config":  {"repeats": int, "quick": bool, "seed": int, "batch_sizes": [int]},
  "results": [                      # one per (model, batch); threads as above
    {"model": "A", "batch": 32, "threads": 1, "samples": 60000,
     "epoch_s": float | null,       # median over repeats; null if batch not timed
     "epoch_s_all": [float],        # every timed epoch
     "epoch_cpu_s": float | null,   # median process CPU time of those epochs;
                                    # at 1 thread, wall >> cpu means contention
     "step_us": float | null,       # median single training step, fixed batch;
                                    # null where PyTorch refuses (BN, batch 1)
     "loss": float | null}          # last batch loss of the last epoch (sanity)
  ],
  "predict": [{                    # models A and B, eval mode, torch.inference_mode(),
    "model": "A", "threads": 1,     # softmax included (like Keras predict)
    "single_us": float,             # median of one-sample calls after warm-up
    "batch10k_ms": float}]          # median time for 10,000 samples in 10 x 1,000
}

--real-data DIR adds rows "A real" (batch 32) and "C real" (batch 256): epochs on the
real Fashion-MNIST training set read from DIR's IDX files.

Rows exist for every batch in --batch-sizes and for 1, 32 and 256 (step only).
Epochs: shuffle indices, then per batch: gather, zero_grad, forward, loss,
backward, step; the same loop a Keras fit or a hand-written PyTorch loop runs.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
from torch import nn

STEP_BATCHES = (1, 32, 256)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def bn(n):
    # Keras BatchNormalization defaults; PyTorch's momentum is 1 - Keras'.
    return nn.BatchNorm1d(n, eps=1e-3, momentum=0.01)


def build(name):
    """Model, optimizer, loss function and whether it contains batch norm."""
    if name == "A":
        m = nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(),
                          nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))
        return m, torch.optim.SGD(m.parameters(), lr=0.01), nn.CrossEntropyLoss()
    if name == "B":
        m = nn.Sequential(bn(784), nn.Linear(784, 300), nn.ReLU(), bn(300),
                          nn.Linear(300, 100), nn.ReLU(), bn(100), nn.Linear(100, 10))
        return m, torch.optim.SGD(m.parameters(), lr=0.01), nn.CrossEntropyLoss()
    if name == "C":
        m = nn.Sequential(nn.Dropout(0.2), nn.Linear(784, 300), nn.ELU(),
                          nn.Linear(300, 100), nn.ELU(), nn.Dropout(0.2),
                          nn.Linear(100, 10))
        return m, adam(m), nn.CrossEntropyLoss()
    if name == "T":
        m = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 16), nn.Tanh(),
                          nn.Linear(16, 4))
        return m, adam(m), nn.MSELoss()
    raise SystemExit(f"unknown model {name!r} (expected A, B, C or T)")


def adam(m):
    return torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7)  # Keras' epsilon


def has_bn(m):
    return any(isinstance(l, nn.BatchNorm1d) for l in m)


def dataset(name, seed):
    g = torch.Generator().manual_seed(seed)        # same data whatever --models is
    if name == "T":
        x = torch.randn(10_000, 4, generator=g)
        return x, torch.sin(x)                     # any smooth target will do
    x = torch.rand(60_000, 784, generator=g)       # Fashion-MNIST scaled to [0, 1]
    return x, torch.randint(0, 10, (60_000,), generator=g)


def train_step(model, opt, loss_fn, xb, yb):
    opt.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    opt.step()
    return loss


def epoch(model, opt, loss_fn, x, y, batch, g, max_batches=None):
    """One pass over the data; returns (wall s, CPU s, last loss)."""
    n = x.shape[0]
    t0, c0 = time.perf_counter(), time.process_time()
    perm = torch.randperm(n, generator=g)
    loss = None
    for k, i in enumerate(range(0, n, batch)):
        if max_batches is not None and k >= max_batches:
            break
        idx = perm[i:i + batch]
        # PyTorch's training-mode BatchNorm rejects a batch of one sample
        # (Keras accepts it); drop such a final remainder instead of crashing.
        if len(idx) == 1 and has_bn(model):
            break
        loss = train_step(model, opt, loss_fn, x[idx], y[idx])
    return time.perf_counter() - t0, time.process_time() - c0, loss.item()


def timed_epochs(model, opt, loss_fn, x, y, batch, g, repeats, row):
    """`repeats` timed epochs into `row`: every wall time, their median, the median CPU time."""
    cpu = []
    for _ in range(repeats):
        s, c, row["loss"] = epoch(model, opt, loss_fn, x, y, batch, g)
        row["epoch_s_all"].append(round(s, 4))
        cpu.append(c)
    row["epoch_s"] = statistics.median(row["epoch_s_all"])
    row["epoch_cpu_s"] = round(statistics.median(cpu), 4)


def step_time_us(model, opt, loss_fn, x, y, batch, n, warmup):
    if batch == 1 and has_bn(model):
        return None
    xb, yb = x[:batch].clone(), y[:batch].clone()
    times = []
    for k in range(warmup + n):
        t0 = time.perf_counter_ns()
        train_step(model, opt, loss_fn, xb, yb)
        if k >= warmup:
            times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / 1e3


def bench_model(name, args, g):
    x, y = dataset(name, args.seed)
    batches = [32] if name == "T" else args.batch_sizes
    rows = []
    for batch in sorted(set(batches) | set(STEP_BATCHES)):
        torch.manual_seed(args.seed)          # same initial weights for every row
        model, opt, loss_fn = build(name)
        model.train()
        row = {"model": name, "batch": batch, "threads": args.threads,
               "samples": x.shape[0], "epoch_s": None, "epoch_s_all": [],
               "epoch_cpu_s": None,
               "step_us": None, "loss": None}
        if batch in batches:
            # Warm-up: allocator, thread pool, Adam state, CPU caches.
            epoch(model, opt, loss_fn, x, y, batch, g,
                  max_batches=100 if args.quick else None)
            timed_epochs(model, opt, loss_fn, x, y, batch, g, args.repeats, row)
        n = (20 if args.quick else 100) if batch >= 256 else (50 if args.quick else 500)
        row["step_us"] = step_time_us(model, opt, loss_fn, x, y, batch, n, warmup=10)
        log(f"{name} batch {batch:3}: epoch {row['epoch_s']} s "
            f"(all {row['epoch_s_all']}, cpu {row['epoch_cpu_s']}), "
            f"step {fmt(row['step_us'])} us")
        rows.append(row)
    return rows


def bench_predict(name, args, g):
    torch.manual_seed(args.seed)
    model = build(name)[0].eval()
    x = torch.rand(10_000, 784, generator=g)
    one = x[:1].clone()
    calls, reps = (200, 2) if args.quick else (2000, 7)
    times = []
    with torch.inference_mode():
        for k in range(200 + calls):
            t0 = time.perf_counter_ns()
            torch.softmax(model(one), dim=1)
            if k >= 200:
                times.append(time.perf_counter_ns() - t0)
        single_us = statistics.median(times) / 1e3
        times = []
        for _ in range(1 + reps):                    # first pass is warm-up
            t0 = time.perf_counter()
            for i in range(0, 10_000, 1_000):
                torch.softmax(model(x[i:i + 1_000]), dim=1)
            times.append(time.perf_counter() - t0)
        batch_ms = statistics.median(times[1:]) * 1e3
    log(f"predict {name}: single {single_us:.1f} us, 10k in batches of 1000 {batch_ms:.1f} ms")
    return {"model": name, "threads": args.threads,
            "single_us": single_us, "batch10k_ms": batch_ms}


def idx(path):
    """An IDX file (gzip or not) as a numpy array: the format Fashion-MNIST ships in."""
    import gzip
    import numpy as np
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def real_rows(args, g):
    """Epochs on the real Fashion-MNIST training set: A at batch 32, C at batch 256, as a
    user's loop would run them (the data loaded once as tensors scaled to [0, 1])."""
    import os.path
    def find(stem):
        for name in (stem + ".gz", stem):
            p = os.path.join(args.real_data, name)
            if os.path.isfile(p):
                return p
        raise SystemExit(f"bench_pytorch: no {stem}[.gz] in {args.real_data}")
    x = torch.from_numpy(idx(find("train-images-idx3-ubyte")).reshape(-1, 784).astype("float32") / 255.0)
    y = torch.from_numpy(idx(find("train-labels-idx1-ubyte")).astype("int64"))
    rows = []
    for name, batch in (("A", 32), ("C", 256)):
        torch.manual_seed(args.seed)
        model, opt, loss_fn = build(name)
        model.train()
        epoch(model, opt, loss_fn, x, y, batch, g)             # warm-up
        row = {"model": f"{name} real", "batch": batch, "threads": args.threads,
               "samples": x.shape[0], "epoch_s_all": [], "step_us": None}
        timed_epochs(model, opt, loss_fn, x, y, batch, g, args.repeats, row)
        log(f"{name} real batch {batch}: epochs {row['epoch_s_all']}")
        rows.append(row)
    return rows


def machine(threads):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cap = getattr(torch.backends.cpu, "get_cpu_capability", lambda: None)()
    return {"cpu": cpu, "cores": os.cpu_count(), "cpu_capability": cap,
            "torch": torch.__version__, "python": platform.python_version(),
            "threads": threads, "loadavg": [round(v, 2) for v in os.getloadavg()]}


def fmt(v):
    return "n/a" if v is None else f"{v:.1f}"


def ints(s):
    return [int(v) for v in s.split(",") if v]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--models", default="A,B,C,T")
    p.add_argument("--batch-sizes", type=ints, default=[32, 256])
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--real-data", default=None,
                   help="folder with Fashion-MNIST's IDX files: adds epochs on the real data")
    args = p.parse_args()
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    models = [m.strip().upper() for m in args.models.split(",") if m.strip()]
    for m in models:
        build(m)                                     # reject unknown names early

    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(args.seed)     # shuffling, predict inputs
    log(f"torch {torch.__version__}, {args.threads} thread(s), models {models}")
    host = machine(args.threads)     # before the run: loadavg shows other load
    results = [row for m in models for row in bench_model(m, args, g)]
    if args.real_data:
        results += real_rows(args, g)
    predict = [bench_predict(m, args, g) for m in ("A", "B") if m in models]
    out = {"machine": host,
           "config": {"repeats": args.repeats, "quick": args.quick,
                      "seed": args.seed, "batch_sizes": args.batch_sizes},
           "results": results, "predict": predict}
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
