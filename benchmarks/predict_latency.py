"""Single-image predict latency: ``Network.predict_proba`` on one (28, 28) image, against PyTorch.

Times what the Draw page does per prediction: one float32 (28, 28) image in, ten class
probabilities out. nn_core's side is ``Network.predict_proba`` (input checks, reshape, forward,
softmax); PyTorch's is ``softmax(model(x))`` under ``torch.inference_mode()`` on a tensor that
shares the image's memory. A sample is the mean of a block of calls; the blocks alternate between
the two sides, and the fastest and median block are reported, in microseconds per image.

Run: ``python benchmarks/predict_latency.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch
from bench_utils import Summary  # first: puts the repository on sys.path
from epoch_vs_torch import CNN_LAYERS, torch_cnn, torch_mlp

from nn_core.architecture import parse_layers
from nn_core.model_summary import architecture_string
from nn_core.network import build_network
from nn_core.presets import get_preset


def _block(call, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls


def run_preset(name: str, blocks: int = 25, calls: int = 200) -> dict[str, object]:
    """Latency of one image through preset ``name``'s architecture, nn_core and torch alternating.

    nn_core runs as the app runs it (BLAS at its default threads); torch at 1 thread and at all cores.
    """
    model_config = get_preset(name).model
    network = build_network(model_config, np.random.default_rng(0))
    image = np.random.default_rng(1).random((28, 28), dtype=np.float32)
    cores = len(os.sched_getaffinity(0))
    if model_config.layers:  # the CNN presets share one torch twin; check the preset is that shape
        if model_config.layers != parse_layers(CNN_LAYERS):
            raise SystemExit(f"{name}: no PyTorch twin for {architecture_string(model_config)}")
        model, x = torch_cnn(), torch.from_numpy(image.reshape(1, 1, 28, 28))
    else:
        model, x = torch_mlp(model_config.hidden), torch.from_numpy(image.reshape(1, 784))
    model.eval()

    def nn_core_call() -> np.ndarray:
        return network.predict_proba(image)

    def torch_call() -> torch.Tensor:
        with torch.inference_mode():
            return torch.softmax(model(x), dim=1)

    sides = [("nn_core", None)] + [(f"torch{t}", t) for t in sorted({1, cores})]
    times: dict[str, list[float]] = {side: [] for side, _ in sides}
    for b in range(blocks + 1):  # block 0 is a warm-up
        for side, threads in sides if b % 2 == 0 else sides[::-1]:
            if threads is not None:
                torch.set_num_threads(threads)
            seconds = _block(nn_core_call if threads is None else torch_call, calls)
            if b:
                times[side].append(seconds)
    summaries = {k: Summary.of(v) for k, v in times.items()}
    return {
        "preset": name,
        "network": architecture_string(model_config),
        "calls_per_block": calls,
        "summary_us": {
            k: {"fastest": v.fastest * 1e6, "median": v.median * 1e6, "n": v.n} for k, v in summaries.items()
        },
    }


def run(presets: tuple[str, ...] = ("fast", "best", "cnn-fast")) -> list[dict[str, object]]:
    return [run_preset(name) for name in presets]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["fast", "best", "cnn-fast"])
    args = parser.parse_args()
    print(json.dumps(run(tuple(args.presets)), indent=1))


if __name__ == "__main__":
    main()
