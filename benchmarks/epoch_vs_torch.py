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

Run: ``python benchmarks/epoch_vs_torch.py [--samples 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch
from bench_utils import Mnist, Summary, load_mnist, nn_core_threads  # first: puts the repository on sys.path

from nn_core.config import ModelConfig, TrainConfig
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


def torch_epoch(
    hidden: tuple[int, ...], batch: int, threads: int, X: torch.Tensor, y: torch.Tensor, seed: int
) -> float:
    """Seconds for one PyTorch epoch over X (n, 784) float32, y (n,) int64."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = torch_mlp(hidden)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    xb = torch.empty((batch, X.shape[1]), dtype=torch.float32)
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
        loss_sum += loss.item() * m
        hits += int((logits.argmax(1) == yb[:m]).sum())
    return time.perf_counter() - start


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
        "network": "-".join(str(w) for w in (784, *hidden, 10)),
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
    args = parser.parse_args()
    rows = run(load_mnist(), args.samples)
    print(json.dumps([{k: v for k, v in r.items() if k != "samples"} for r in rows], indent=1))


if __name__ == "__main__":
    main()
