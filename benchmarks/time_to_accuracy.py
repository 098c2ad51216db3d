"""Accuracy reached per second of training: test accuracy after each epoch of a preset.

Trains a preset (``fast`` by default) on MNIST's 60,000 training images through the app's own
path (``make_trainer``, ``Trainer.run_epoch``), evaluates on the 10,000 test images after each
epoch (not counted as training time) and records, cumulatively: the seconds of the ``run_epoch``
calls timed from outside (the headline: it includes any augmentation and per-epoch bookkeeping),
the training loop's own seconds (``EpochMetrics.seconds``), and the wall clock of the whole run
(with data preparation and evaluation). Several seeds show how robust the figure is.

Run: ``python benchmarks/time_to_accuracy.py [--preset fast] [--seeds 0 1 2]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

from bench_utils import Mnist, load_mnist  # first: puts the repository on sys.path

from nn_core.experiment import TrainingData, make_trainer
from nn_core.presets import get_preset

TARGET = 0.98


def training_data(data: Mnist) -> TrainingData:
    empty_X, empty_y = data.X_train[:0], data.y_train[:0]
    return TrainingData(data.X_train, data.y_train, empty_X, empty_y, data.X_test, data.y_test)


def run_preset(name: str, seed: int, data: Mnist, target: float = TARGET, log=print) -> dict[str, object]:
    """Train preset ``name`` with ``seed``; return its per-epoch curve and the time to ``target``."""
    preset = get_preset(name)
    config = dataclasses.replace(preset.train, seed=seed, val_fraction=0.0, train_size=0)
    start = time.perf_counter()
    trainer = make_trainer(preset.model, config, training_data(data))
    curve, training_seconds, epoch_seconds, reached = [], 0.0, 0.0, None
    while trainer.epoch < config.epochs:
        tick = time.perf_counter()
        record = trainer.run_epoch()
        epoch_seconds += time.perf_counter() - tick  # with augmentation and per-epoch bookkeeping
        training_seconds += record.seconds  # the training loop alone, as EpochMetrics reports it
        _, test_acc = trainer.evaluate(data.X_test, data.y_test)
        point = {
            "epoch": record.epoch,
            "training_seconds": training_seconds,
            "epoch_seconds": epoch_seconds,
            "wall_seconds": time.perf_counter() - start,
            "train_loss": record.train_loss,
            "test_acc": test_acc,
            "blas_threads": trainer.blas_threads,
        }
        curve.append(point)
        log(f"  {name} seed {seed} epoch {record.epoch}: {epoch_seconds:.2f} s, test {test_acc:.4f}")
        if reached is None and test_acc >= target:
            reached = point
    return {
        "preset": name,
        "seed": seed,
        "curve": curve,
        "reached": reached,
        "final_test_acc": curve[-1]["test_acc"],
        "training_seconds": training_seconds,
        "epoch_seconds": epoch_seconds,
        "wall_seconds": time.perf_counter() - start,
    }


def run(data: Mnist, seeds: list[int], name: str = "fast", log=print) -> list[dict[str, object]]:
    return [run_preset(name, seed, data, log=log) for seed in seeds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    results = run(load_mnist(), args.seeds, args.preset)
    print(json.dumps([{k: v for k, v in r.items() if k != "curve"} for r in results], indent=1))


if __name__ == "__main__":
    main()
