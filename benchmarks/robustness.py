"""Models on canvas-style drawings and harder variations of them (for README.md and BENCHMARKS.md).

Usage:
    python benchmarks/robustness.py [--model PATH] [--drawings 2000]   # a model file (default: the shipped one)
    python benchmarks/robustness.py --compare-augment [--seeds 0 1 2]  # the fast preset with/without augmentation

MNIST test digits are redrawn the way the Draw page's canvas produces them (``nn_core.images.canvas``:
random size, place and brush on a 280x280 sheet) and put through the page's preprocessing. Besides
those canvas-style drawings, each variation pushes one thing to an extreme (``VARIATIONS``): strokes
twice thinner or twice thicker, the digit drawn at a third of the canvas against a corner, slanted by
+20 or -20 degrees. Prints a markdown table: accuracy per variation with its standard error.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nn_core.data.local import load_split, to_float  # noqa: E402
from nn_core.experiment import load_training_data, make_trainer  # noqa: E402
from nn_core.images.canvas import PLAIN, VARIATIONS, canvas_test_set  # noqa: E402
from nn_core.network import Network  # noqa: E402
from nn_core.presets import get_preset  # noqa: E402
from nn_core.store.default_model import load_default_model  # noqa: E402
from nn_core.store.model_file import load_model  # noqa: E402


def variation_table(network: Network, n: int) -> list[tuple[str, int, float]]:
    """(variation, number of images, accuracy) for the MNIST test set and every canvas variation."""
    images, labels = load_split("mnist", "test")
    X = to_float(images).reshape(len(labels), 784)
    rows = [("MNIST test set", len(labels), float((network.predict(X) == labels).mean()))]
    for name, style in VARIATIONS.items():
        X, y = canvas_test_set(images, labels, n, style=style)
        rows.append((name, n, float((network.predict(X) == y).mean())))
    return rows


def print_variations(model: str, n: int) -> None:
    network = load_default_model().network if model == "default" else load_model(model).network
    print(f"| {'default model' if model == 'default' else model} | images | accuracy | standard error |")
    print("| --- | --- | --- | --- |")
    for name, count, acc in variation_table(network, n):
        se = math.sqrt(acc * (1 - acc) / count)
        print(f"| {name} | {count:,} | {acc:.2%} | {se:.2%} |", flush=True)


def compare_augment(seeds: list[int], n: int) -> None:
    """The fast preset trained with and without its affine augmentation, once per seed."""
    images, labels = load_split("mnist", "test")
    X_draw, y_draw = canvas_test_set(images, labels, n, style=PLAIN)
    print(f"| augmentation | canvas-style drawings ({n:,}) | MNIST test | training s | seeds |")
    print("| --- | --- | --- | --- | --- |")
    preset = get_preset("fast")
    for augment in (False, True):
        on_drawings, on_mnist, seconds = [], [], []
        for seed in seeds:
            config = dataclasses.replace(preset.train, augment=augment, seed=seed)
            data = load_training_data(config)
            trainer = make_trainer(preset.model, config, data)
            start = time.perf_counter()
            list(trainer)
            seconds.append(time.perf_counter() - start)
            on_drawings.append(float((trainer.network.predict(X_draw) == y_draw).mean()))
            on_mnist.append(trainer.evaluate(data.X_test, data.y_test)[1])

        def spread(values: list[float]) -> str:
            return f"{statistics.mean(values):.2%} ({min(values):.2%}-{max(values):.2%})"

        print(
            f"| {'on' if augment else 'off'} | {spread(on_drawings)} | {spread(on_mnist)} | "
            f"{statistics.median(seconds):.1f} | {len(seeds)} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="model file, or 'default' for the shipped model")
    parser.add_argument("--drawings", type=int, default=2000, help="drawings per variation")
    parser.add_argument("--compare-augment", action="store_true", help="train the fast preset instead")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    if args.compare_augment:
        compare_augment(args.seeds, args.drawings)
    else:
        print_variations(args.model, args.drawings)


if __name__ == "__main__":
    main()
