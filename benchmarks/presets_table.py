"""Train every preset on real MNIST and write the README's preset table.

Usage: python benchmarks/presets_table.py [--only NAME ...] [--dataset fashion-mnist] [--per-epoch]
[--json results.json]
Needs the MNIST files (DIGIT_LAB_DATA). Prints one markdown row per preset: its configuration, what the
original script reported, the test accuracy measured here (and for `nielsen` the best validation count out
of 10000, the figure the original reports), and the seconds of training: each ``run_epoch`` timed from
outside (augmentation included, evaluation not), with the process's CPU seconds beside them (on a
loaded machine wall time stretches; single-threaded CPU time is close to what a quiet machine takes).
``--per-epoch`` also prints the test accuracy after every epoch (measured outside the timing), which
gives the time to a target accuracy; ``--dataset`` trains and tests on another dataset.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nn_core.experiment import load_training_data, make_trainer  # noqa: E402
from nn_core.model_summary import architecture_string  # noqa: E402
from nn_core.presets import PRESETS, Preset  # noqa: E402


def describe(preset: Preset) -> str:
    m, t = preset.model, preset.train
    acts = (
        {s.activation for s in m.layers if s.kind in ("dense", "conv", "batchnorm")}
        if m.layers
        else set(m.activations)
    )
    acts.discard("linear")
    parts = [
        architecture_string(m),
        "/".join(sorted(acts)),
        f"{m.output}+{m.loss}",
        f"init {m.init}",
        t.optimizer,
        f"lr {t.lr:g}",
        f"batch {t.batch_size}",
        f"{t.epochs} epochs",
    ]
    if t.schedule != "constant":
        parts.append(f"{t.schedule} schedule")
    if m.dropout:
        parts.append(f"dropout {m.dropout:g}")
    if t.augment:
        parts.append("augmented")
    return ", ".join(parts)


def measure(preset: Preset, per_epoch: bool = False, log=print) -> dict[str, object]:
    data = load_training_data(preset.train)
    trainer = make_trainer(preset.model, preset.train, data)
    best_val, seconds, loop_seconds, cpu_seconds, epochs = None, 0.0, 0.0, 0.0, []
    load_start = os.getloadavg()[0]
    while trainer.epoch < preset.train.epochs:
        start, cpu_start = time.perf_counter(), time.process_time()
        record = trainer.run_epoch()
        seconds += time.perf_counter() - start
        cpu_seconds += time.process_time() - cpu_start
        loop_seconds += record.seconds
        if record.val_acc is not None:
            best_val = max(best_val or 0.0, record.val_acc)
        if per_epoch:
            acc = trainer.evaluate(data.X_test, data.y_test)[1]
            epochs.append(
                {"epoch": record.epoch, "seconds": seconds, "cpu_seconds": cpu_seconds, "test_acc": acc}
            )
            log(f"  epoch {record.epoch}: {seconds:.1f} s ({cpu_seconds:.1f} s CPU), test {acc:.2%}")
    _, test_acc = trainer.evaluate(data.X_test, data.y_test)
    return {
        "name": preset.name,
        "dataset": preset.train.dataset,
        "config": describe(preset),
        "reported": preset.reported or "-",
        "test_acc": test_acc,
        "best_val_acc": best_val,
        "n_val": len(data.y_val),
        "seconds": seconds,
        "loop_seconds": loop_seconds,
        "cpu_seconds": cpu_seconds,
        "per_epoch": epochs,
        "load_average": [load_start, os.getloadavg()[0]],
    }


def row(result: dict[str, object]) -> str:
    measured = f"{result['test_acc']:.2%} test"
    if result["best_val_acc"] is not None:
        correct = round(result["best_val_acc"] * result["n_val"])
        measured += f"; best validation {correct}/{result['n_val']}"
    seconds = f"{result['seconds']:.0f} ({result['cpu_seconds']:.0f} CPU)"
    return f"| `{result['name']}` | {result['config']} | {result['reported']} | {measured} | {seconds} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(PRESETS))
    parser.add_argument("--json", type=Path, help="append each result as a JSON line to this file")
    parser.add_argument("--dataset", help="train and test on this dataset instead of the preset's")
    parser.add_argument("--per-epoch", action="store_true", help="test accuracy after every epoch")
    args = parser.parse_args()
    print("| preset | configuration | original reports | measured here | seconds |")
    print("| --- | --- | --- | --- | --- |")
    for name in args.only:
        start = time.perf_counter()
        preset = PRESETS[name]
        if args.dataset:
            preset = dataclasses.replace(
                preset, train=dataclasses.replace(preset.train, dataset=args.dataset)
            )
        result = measure(preset, args.per_epoch, log=lambda text: print(text, file=sys.stderr, flush=True))
        result["wall_seconds"] = time.perf_counter() - start
        print(row(result), flush=True)
        if args.json:
            with args.json.open("a") as handle:
                handle.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
