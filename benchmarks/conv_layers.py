"""Forward and backward time of the CNN's layers on one batch, and where the convolutions spend it.

The network is the CNN of the speed target: conv 5x5x16 - ReLU - max-pool 2 - conv 5x5x32 - ReLU
- max-pool 2 - dense 128 - ReLU - dense 10 ("valid" convolutions: 28 -> 24 -> 12 -> 8 -> 4, so
the first dense layer has 4*4*32 = 512 inputs), softmax cross-entropy and Adam, on a batch of 128
random 28x28x1 images (the timings do not depend on the pixel values). Each of ``--steps`` steps
times every layer's forward and backward pass; the table gives the median over the steps. A
second, instrumented run wraps im2col, the matrix products and col2im of ``nn_core.conv`` to
give each phase's share of the convolutions' time (col2im's own products count as GEMM), and a third times the first convolution
with each column layout (one channel allows both). The last line multiplies the median (and the
fastest) step by the 430 steps of an epoch of 55,000 images.

Run: ``python benchmarks/conv_layers.py [--steps 30] [--threads N | --split] [--clock cpu]``
(``--split``: batch halves on two threads, as training on two threads runs a CNN). Timings on a
shared machine vary: keep the run short, and repeat it when another job is running; on a busy
machine ``--threads 1 --clock cpu`` measures the work of this thread rather than its waiting.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from nn_core import conv  # noqa: E402
from nn_core.activations import ReLU  # noqa: E402
from nn_core.conv import Conv2D  # noqa: E402
from nn_core.layers import Dense, Flatten, Layer  # noqa: E402
from nn_core.losses import SoftmaxCrossEntropy  # noqa: E402
from nn_core.optimizers import Adam  # noqa: E402
from nn_core.pooling import MaxPool2D  # noqa: E402
from nn_core.speed.threads import limit_blas_threads, set_split_workers, split_workers  # noqa: E402

BATCH = 128
STEPS_PER_EPOCH = -(-55_000 // BATCH)
clock = time.perf_counter  # --clock cpu: time.thread_time


def he(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def build(rng: np.random.Generator) -> list[tuple[str, Layer]]:
    """The named layers of the target CNN, He-initialised."""
    return [
        ("conv1 5x5 1->16", Conv2D(he(rng, (5, 5, 1, 16), 25), np.zeros(16), input_grad=False)),
        ("relu1", ReLU()),
        ("maxpool1 2", MaxPool2D(2)),
        ("conv2 5x5 16->32", Conv2D(he(rng, (5, 5, 16, 32), 400), np.zeros(32))),
        ("relu2", ReLU()),
        ("maxpool2 2", MaxPool2D(2)),
        ("flatten", Flatten()),
        ("dense 512->128", Dense(he(rng, (512, 128), 512), np.zeros(128))),
        ("relu3", ReLU()),
        ("dense 128->10", Dense(he(rng, (128, 10), 128), np.zeros(10))),
    ]


def step(layers, loss, opt, x, y, times: dict | None = None) -> None:
    """One training step; with ``times``, append each layer's forward and backward seconds."""
    a = x
    for name, layer in layers:
        t0 = clock()
        a = layer.forward(a, training=True)
        if times is not None:
            times[name, "forward"].append(clock() - t0)
    _, d = loss(a, y)
    for name, layer in reversed(layers):
        t0 = clock()
        d = layer.backward(d)
        if times is not None:
            times[name, "backward"].append(clock() - t0)
    t0 = clock()
    for i, (_, layer) in enumerate(layers):
        params = layer.params()
        if params:
            opt.step(
                {f"{i}.{k}": v for k, v in params.items()}, {f"{i}.{k}": g for k, g in layer.grads().items()}
            )
    if times is not None:
        times["adam", "step"].append(clock() - t0)


class _TimedNumpy:
    """Stands in for ``np`` inside ``nn_core.conv``: times ``matmul``, passes everything else on."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self._seconds = seconds

    def matmul(self, *args, **kwargs):
        t0 = clock()
        result = np.matmul(*args, **kwargs)
        self._seconds["GEMM"] += clock() - t0
        return result

    def __getattr__(self, name: str):
        return getattr(np, name)


def phase_shares(layers, loss, opt, x, y, steps: int) -> dict[str, dict[str, float]]:
    """Seconds per convolution layer and phase (im2col, GEMM, col2im, other) over ``steps`` steps."""
    seconds: dict[str, dict[str, float]] = {}
    originals = {name: getattr(conv, name) for name in ("im2col", "im2col_offsets", "col2im", "np")}
    current: dict[str, float] = defaultdict(float)

    def timed(fn, phase):
        def wrapper(*args, **kwargs):
            gemm_before, t0 = current["GEMM"], clock()
            fn(*args, **kwargs)
            # col2im runs a product per kernel offset: that time counts as GEMM, not twice
            current[phase] += clock() - t0 - (current["GEMM"] - gemm_before)

        return wrapper

    conv.im2col = timed(originals["im2col"], "im2col")
    conv.im2col_offsets = timed(originals["im2col_offsets"], "im2col")
    conv.col2im = timed(originals["col2im"], "col2im")
    conv.np = _TimedNumpy(current)
    convs = [(name, layer) for name, layer in layers if isinstance(layer, Conv2D)]
    for name, layer in convs:
        seconds[name] = defaultdict(float)
        forward, backward = layer.forward, layer.backward

        def run(fn, name=name):
            def wrapper(*args, **kwargs):
                current.clear()
                t0 = clock()
                out = fn(*args, **kwargs)
                total = clock() - t0
                for phase, s in current.items():
                    seconds[name][phase] += s
                seconds[name]["total"] += total
                return out

            return wrapper

        layer.forward, layer.backward = run(forward), run(backward)
    workers = split_workers()
    set_split_workers(1)  # the wrappers add up one thread's phases
    try:
        for _ in range(steps):
            step(layers, loss, opt, x, y)
    finally:
        set_split_workers(workers)
        for attr, value in originals.items():
            setattr(conv, attr, value)
        for _, layer in convs:
            del layer.forward, layer.backward  # back to the class methods
    return seconds


def first_conv_layouts(rng, x, steps: int) -> dict[str, tuple[float, float]]:
    """Median and fastest ms of forward + backward of the first convolution with each column layout."""
    result = {}
    for label, offsets in (("offset-major columns", True), ("row columns", False)):
        layer = Conv2D(he(rng, (5, 5, 1, 16), 25), np.zeros(16), input_grad=False)
        layer.offset_columns = offsets
        dy = np.ones((BATCH, 24, 24, 16), dtype=np.float32)
        samples = []
        for i in range(steps + 3):
            t0 = clock()
            layer.forward(x, training=True)
            layer.backward(dy)
            if i >= 3:
                samples.append(clock() - t0)
        result[label] = (1e3 * statistics.median(samples), 1e3 * min(samples))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="timed steps (after 3 warm-up steps)")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (default: as loaded)")
    parser.add_argument(
        "--split",
        action="store_true",
        help="run the per-image layers on two Python threads over batch halves, as training on two "
        "threads does (nn_core.speed.split), with one BLAS thread (--threads is ignored)",
    )
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu: this thread's CPU time, which a busy machine inflates far less than wall time "
        "(only meaningful with --threads 1, when the products run on this thread)",
    )
    args = parser.parse_args()
    global clock
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    layers, loss, opt = build(rng), SoftmaxCrossEntropy(), Adam(1e-3)
    set_split_workers(2 if args.split else 1)
    with limit_blas_threads(1 if args.split else args.threads):
        for _ in range(3):
            step(layers, loss, opt, x, y)
        times: dict = defaultdict(list)
        totals = []
        for _ in range(args.steps):
            t0 = clock()
            step(layers, loss, opt, x, y, times)
            totals.append(clock() - t0)
        shares = phase_shares(layers, loss, opt, x, y, args.steps)
        layouts = first_conv_layouts(rng, x, args.steps)

    def ms(key) -> str:
        samples = times.get(key, [0.0])
        return f"{1e3 * statistics.median(samples):8.3f} {1e3 * min(samples):7.3f}"

    print(
        f"batch {BATCH}, {args.steps} steps, BLAS threads: {args.threads or 'as loaded'}, "
        f"{'two halves' if args.split else 'whole batch'}, {args.clock} clock"
    )
    print(f"{'ms: median, fastest':<20}{'forward':>16}{'backward':>17}")
    for name, _ in layers:
        print(f"{name:<20}{ms((name, 'forward'))}  {ms((name, 'backward'))}")
    print(f"{'adam step':<20}{'':>18}{ms(('adam', 'step'))}")
    step_ms = 1e3 * statistics.median(totals)
    print(f"whole step {step_ms:.2f} ms (fastest {1e3 * min(totals):.2f}), loss and Adam included")
    print("share of each convolution's forward + backward time (whole batch):")
    for name, phases in shares.items():
        total = phases.pop("total")
        other = total - sum(phases.values())
        parts = ", ".join(
            f"{p} {100 * phases.get(p, 0.0) / total:.0f}%" for p in ("im2col", "GEMM", "col2im")
        )
        print(
            f"  {name:<18}{1e3 * total / args.steps:7.3f} ms/step: {parts}, other {100 * other / total:.0f}%"
        )
    print("first convolution, forward + backward (median, fastest ms):")
    for label, (median, fastest) in layouts.items():
        print(f"  {label:<22}{median:7.3f} {fastest:7.3f}")
    fastest_ms = 1e3 * min(totals)
    print(
        f"epoch estimate: {STEPS_PER_EPOCH} steps x {step_ms:.2f} ms = {STEPS_PER_EPOCH * step_ms / 1e3:.2f} s"
        f" (fastest step: {STEPS_PER_EPOCH * fastest_ms / 1e3:.2f} s)"
    )


if __name__ == "__main__":
    main()
