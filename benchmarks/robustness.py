"""Default model on canvas-style drawings, with and without augmentation (for BENCHMARKS.md).

Usage: python benchmarks/robustness.py [--seeds 0 1 2] [--drawings 5000]
MNIST test digits are redrawn the way the Draw page's canvas produces them (``nn_core.images.canvas``)
and put through the page's preprocessing; the default model's configuration is trained on the 60,000
training images with and without augmentation, once per seed. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nn_core.data.local import load_split  # noqa: E402
from nn_core.experiment import load_training_data, make_trainer  # noqa: E402
from nn_core.images.canvas import render_canvas_style  # noqa: E402
from nn_core.images.preprocess import preprocess_digit  # noqa: E402
from nn_core.store.default_model import default_configs  # noqa: E402


def drawings(n: int, seed: int = 2024) -> tuple[np.ndarray, np.ndarray]:
    """n canvas-style renderings of MNIST test digits, preprocessed: (n, 784) float32 and labels (n,)."""
    images, labels = load_split("mnist", "test")
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(labels), size=n, replace=False)
    X = np.stack([preprocess_digit(render_canvas_style(images[i], rng)) for i in pick]).reshape(n, 784)
    return X, labels[pick]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--drawings", type=int, default=5000)
    args = parser.parse_args()
    X_draw, y_draw = drawings(args.drawings)
    print(f"| augmentation | canvas-style drawings ({args.drawings:,}) | MNIST test | training s | seeds |")
    print("| --- | --- | --- | --- | --- |")
    for augment in (False, True):
        model_config, train_config = default_configs(augment=augment)
        on_drawings, on_mnist, seconds = [], [], []
        for seed in args.seeds:
            config = dataclasses.replace(train_config, seed=seed)
            data = load_training_data(config)
            trainer = make_trainer(model_config, config, data)
            start = time.perf_counter()
            list(trainer)
            seconds.append(time.perf_counter() - start)
            on_drawings.append(float((trainer.network.predict(X_draw) == y_draw).mean()))
            on_mnist.append(trainer.evaluate(data.X_test, data.y_test)[1])

        def spread(values: list[float]) -> str:
            return f"{statistics.mean(values):.2%} ({min(values):.2%}-{max(values):.2%})"

        print(
            f"| {'on' if augment else 'off'} | {spread(on_drawings)} | {spread(on_mnist)} | "
            f"{statistics.median(seconds):.1f} | {len(args.seeds)} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
