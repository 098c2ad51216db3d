"""One training epoch of nn_core against PyTorch on the CPU, in the same process and the same run.

Both sides do the same work per step on MNIST's 60,000 training images held in memory: gather a
shuffled mini-batch into a preallocated buffer, forward through the same ReLU MLP, softmax
cross-entropy, backward, one momentum-SGD step (lr 0.05, momentum 0.9), and keep the running loss
and accuracy. nn_core is timed through ``Trainer.run_epoch`` (the app's own path), PyTorch with
the loop a user would write (``nn.Sequential`` of ``nn.Linear``, ``torch.optim.SGD``). Each sample
is the first epoch of a freshly built network, timed from outside.

Each side runs at every thread count from 1 to the machine's cores, and nn_core also as the app
runs it (the trainer times blocks of steps at 1 thread and at all cores and keeps the faster:
``nn_core.speed.threads.ThreadChooser``). The samples alternate (nn_core, torch, nn_core, torch, ...)
and the order flips every round. The headline ratio puts nn_core as the app runs it against
PyTorch at whichever thread count was faster for that shape (the best of either side's settings).

The CNN row (``--cnn``): conv5x5x16-maxpool2-conv5x5x32-maxpool2-dense128-dense10, ReLU, batch 128,
Adam lr 0.001, on the first 55,000 training images; nn_core from ``ModelConfig.layers`` (NHWC,
im2col), PyTorch as ``nn.Conv2d`` / ``nn.MaxPool2d`` / ``nn.Linear`` on NCHW views of the same data
(``torch.optim.Adam``). The sides alternate as above: nn_core as the app runs it, PyTorch at 1 and
at all threads.

Run: ``python benchmarks/epoch_vs_torch.py [--samples 5] [--cnn]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from bench_utils import Mnist, Summary, load_mnist, nn_core_threads  # first: puts the repository on sys.path

from nn_core.architecture import parse_layers
from nn_core.config import ModelConfig, TrainConfig
from nn_core.model_summary import architecture_string
from nn_core.network import build_network
from nn_core.train import Trainer

ARCHITECTURES = ((128,), (256, 128))
BATCH_SIZES = (32, 128, 512)
LR, MOMENTUM = 0.05, 0.9


def nn_core_epoch(
    hidden: tuple[int, ...], batch: int, threads: int | None, data: Mnist, n: int, seed: int
) -> tuple[float, int | None]:
    """Seconds for one epoch of ``Trainer.run_epoch`` on the first n training images, and the
    thread count the trainer settled on (``threads`` None: the trainer chooses)."""
    model = ModelConfig(hidden=hidden, activations=("relu",) * len(hidden))
    config = TrainConfig(
        epochs=1, batch_size=batch, optimizer="momentum", lr=LR, momentum=MOMENTUM, val_fraction=0.0
    )
    network = build_network(model, np.random.default_rng(seed))
    trainer = Trainer(
        network, config, data.X_train[:n], data.y_train[:n], rng=np.random.default_rng(seed + 1)
    )
    with nn_core_threads(threads):
        start = time.perf_counter()
        trainer.run_epoch()
        seconds = time.perf_counter() - start
    return seconds, trainer.blas_threads if threads is None else threads


def torch_mlp(hidden: tuple[int, ...]) -> torch.nn.Sequential:
    widths = (784, *hidden, 10)
    layers: list[torch.nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(hidden):
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def _timed_torch_epoch(model, optimizer, batch: int, X: torch.Tensor, y: torch.Tensor) -> float:
    """Seconds for one epoch of ``model`` over X (n, ...) float32, y (n,) int64 in shuffled batches."""
    model.train()
    loss_fn = torch.nn.CrossEntropyLoss()
    xb = torch.empty((batch, *X.shape[1:]), dtype=torch.float32)
    yb = torch.empty(batch, dtype=torch.int64)
    n = len(y)
    start = time.perf_counter()
    perm = torch.randperm(n)
    loss_sum, hits = 0.0, 0
    for s in range(0, n, batch):
        idx = perm[s : s + batch]
        m = len(idx)
        torch.index_select(X, 0, idx, out=xb[:m])
        torch.index_select(y, 0, idx, out=yb[:m])
        logits = model(xb[:m])
        loss = loss_fn(logits, yb[:m])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * m  # read back each step, as nn_core's trainer does
        hits += int((logits.argmax(1) == yb[:m]).sum())
    return time.perf_counter() - start


def torch_epoch(
    hidden: tuple[int, ...], batch: int, threads: int, X: torch.Tensor, y: torch.Tensor, seed: int
) -> float:
    """Seconds for one PyTorch epoch over X (n, 784) float32, y (n,) int64."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = torch_mlp(hidden)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    return _timed_torch_epoch(model, optimizer, batch, X, y)


def bench_shape(
    hidden: tuple[int, ...], batch: int, data: Mnist, samples: int, cores: int, log=print
) -> dict[str, object]:
    """Alternate nn_core and torch epochs at each thread count; return the summaries and ratios."""
    X, y = torch.from_numpy(data.X_train), torch.from_numpy(data.y_train)
    counts = list(range(1, cores + 1))
    settings: list[tuple[str, int | None]] = [("nn_core", None)]
    for t in counts:
        settings += [("torch", t), ("nn_core", t)]
    key = {(side, t): f"{side}{'_auto' if t is None else t}" for side, t in settings}
    for side, threads in settings:  # warm-up: first-call costs, buffers, thread pools
        if side == "nn_core":
            nn_core_epoch(hidden, batch, threads, data, 4096, 0)
        else:
            torch_epoch(hidden, batch, threads, X[:4096], y[:4096], 0)
    times: dict[str, list[float]] = {k: [] for k in key.values()}
    picked: list[int | None] = []
    for r in range(samples):
        for side, threads in settings if r % 2 == 0 else settings[::-1]:
            if side == "nn_core":
                seconds, used = nn_core_epoch(hidden, batch, threads, data, len(data.y_train), r)
                if threads is None:
                    picked.append(used)
            else:
                seconds = torch_epoch(hidden, batch, threads, X, y, r)
            times[key[side, threads]].append(seconds)
        log(f"  round {r + 1}/{samples}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in times.items()))
    summaries = {k: Summary.of(v) for k, v in times.items()}
    nn = summaries["nn_core_auto"]
    torch_fastest_t = min(counts, key=lambda t: summaries[f"torch{t}"].fastest)
    torch_median_t = min(counts, key=lambda t: summaries[f"torch{t}"].median)
    return {
        "network": architecture_string(ModelConfig(hidden=hidden, activations=("relu",) * len(hidden))),
        "batch": batch,
        "thread_counts": counts,
        "nn_core_picked": picked,
        "samples": times,
        "summary": {k: v.to_dict() for k, v in summaries.items()},
        "torch_best_threads_fastest": torch_fastest_t,
        "torch_best_threads_median": torch_median_t,
        "ratio_fastest": nn.fastest / summaries[f"torch{torch_fastest_t}"].fastest,
        "ratio_median": nn.median / summaries[f"torch{torch_median_t}"].median,
        "ratio_equal_threads": {
            t: summaries[f"nn_core{t}"].fastest / summaries[f"torch{t}"].fastest for t in counts
        },
    }


CNN_LAYERS = "conv16x5,maxpool2,conv32x5,maxpool2,dense128"
CNN_NAME = "conv5x5x16-maxpool2-conv5x5x32-maxpool2-dense128-dense10"
CNN_IMAGES, CNN_BATCH, CNN_LR = 55_000, 128, 0.001


def nn_core_cnn_epoch(data: Mnist, n: int, seed: int) -> tuple[float, int | None]:
    """Seconds for one ``Trainer.run_epoch`` of the CNN on the first n images, and its threads."""
    model = ModelConfig(hidden=(), activations=(), layers=parse_layers(CNN_LAYERS))
    config = TrainConfig(epochs=1, batch_size=CNN_BATCH, optimizer="adam", lr=CNN_LR, val_fraction=0.0)
    network = build_network(model, np.random.default_rng(seed))
    trainer = Trainer(
        network, config, data.X_train[:n], data.y_train[:n], rng=np.random.default_rng(seed + 1)
    )
    start = time.perf_counter()
    trainer.run_epoch()
    return time.perf_counter() - start, trainer.blas_threads


def torch_cnn() -> torch.nn.Sequential:
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(512, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def torch_cnn_epoch(threads: int, X: torch.Tensor, y: torch.Tensor, seed: int) -> float:
    """Seconds for one PyTorch epoch of the CNN over X (n, 1, 28, 28) float32, y (n,) int64."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = torch_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=CNN_LR)
    return _timed_torch_epoch(model, optimizer, CNN_BATCH, X, y)


def bench_cnn(data: Mnist, samples: int, cores: int, log=print) -> dict[str, object]:
    """Alternate nn_core (as the app runs it) and PyTorch (1 to ``cores`` threads) CNN epochs."""
    n = CNN_IMAGES
    X = torch.from_numpy(data.X_train[:n]).view(n, 1, 28, 28)
    y = torch.from_numpy(data.y_train[:n])
    counts = list(range(1, cores + 1))
    settings: list[tuple[str, int | None]] = [("nn_core", None)] + [("torch", t) for t in counts]
    nn_core_cnn_epoch(data, 2048, 0)  # warm-up
    for t in counts:
        torch_cnn_epoch(t, X[:2048], y[:2048], 0)
    times: dict[str, list[float]] = {("nn_core_auto" if t is None else f"torch{t}"): [] for _, t in settings}
    picked: list[int | None] = []
    for r in range(samples):
        for side, threads in settings if r % 2 == 0 else settings[::-1]:
            if side == "nn_core":
                seconds, used = nn_core_cnn_epoch(data, n, r)
                picked.append(used)
                times["nn_core_auto"].append(seconds)
            else:
                times[f"torch{threads}"].append(torch_cnn_epoch(threads, X, y, r))
        log(f"  round {r + 1}/{samples}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in times.items()))
    summaries = {k: Summary.of(v) for k, v in times.items()}
    nn = summaries["nn_core_auto"]
    fastest_t = min(counts, key=lambda t: summaries[f"torch{t}"].fastest)
    median_t = min(counts, key=lambda t: summaries[f"torch{t}"].median)
    return {
        "network": CNN_NAME,
        "batch": CNN_BATCH,
        "images": n,
        "optimizer": f"adam lr {CNN_LR:g}",
        "thread_counts": counts,
        "nn_core_picked": picked,
        "samples": times,
        "summary": {k: v.to_dict() for k, v in summaries.items()},
        "torch_best_threads_fastest": fastest_t,
        "torch_best_threads_median": median_t,
        "ratio_fastest": nn.fastest / summaries[f"torch{fastest_t}"].fastest,
        "ratio_median": nn.median / summaries[f"torch{median_t}"].median,
        "load_average_start": os.getloadavg()[0],
    }


def cnn_table(result: dict[str, object]) -> str:
    """The CNN row as a markdown table (seconds per epoch, fastest / median)."""
    s = result["summary"]
    counts = result["thread_counts"]
    head = "| network | images | batch | optimizer | nn_core (auto) | " + " | ".join(
        f"torch {t} thr" for t in counts
    )
    head += " | ratio (fastest) | ratio (median) |"
    picked = sorted({t for t in result["nn_core_picked"] if t is not None})
    cells = [
        result["network"],
        f"{result['images']:,}",
        str(result["batch"]),
        result["optimizer"],
        f"{s['nn_core_auto']['fastest']:.2f} / {s['nn_core_auto']['median']:.2f}"
        + (f" ({'/'.join(map(str, picked))} thr)" if picked else ""),
        *(f"{s[f'torch{t}']['fastest']:.2f} / {s[f'torch{t}']['median']:.2f}" for t in counts),
        f"**{result['ratio_fastest']:.2f}** (torch {result['torch_best_threads_fastest']} thr)",
        f"{result['ratio_median']:.2f} (torch {result['torch_best_threads_median']} thr)",
    ]
    sep = "|" + "---|" * (len(cells))
    return "\n".join([head, sep, "| " + " | ".join(cells) + " |"])


def run(data: Mnist, samples: int = 5, log=print) -> list[dict[str, object]]:
    cores = len(os.sched_getaffinity(0))
    rows = []
    for hidden in ARCHITECTURES:
        for batch in BATCH_SIZES:
            log(f"epoch: {'-'.join(map(str, (784, *hidden, 10)))}, batch {batch}")
            rows.append(bench_shape(hidden, batch, data, samples, cores, log))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5, help="epochs timed per side and thread count")
    parser.add_argument("--cnn", action="store_true", help="time the CNN row instead of the MLP rows")
    parser.add_argument("--json", type=Path, help="with --cnn: write the result (with samples) here")
    args = parser.parse_args()
    if args.cnn:
        result = bench_cnn(load_mnist(), args.samples, len(os.sched_getaffinity(0)))
        if args.json:
            args.json.write_text(json.dumps(result, indent=1))
        print(cnn_table(result))
        return
    rows = run(load_mnist(), args.samples)
    print(json.dumps([{k: v for k, v in r.items() if k != "samples"} for r in rows], indent=1))


if __name__ == "__main__":
    main()
