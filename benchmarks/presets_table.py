"""Train every preset on real MNIST and write the README's preset table.

Usage: python benchmarks/presets_table.py [--only NAME ...] [--json results.json]
Needs the MNIST files (DIGIT_LAB_DATA). Prints one markdown row per preset: its configuration, what the
original script reported, the test accuracy measured here (and for `nielsen` the best validation count out
of 10000, the figure the original reports), and the seconds of training.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nn_core.experiment import load_training_data, make_trainer  # noqa: E402
from nn_core.presets import PRESETS, Preset  # noqa: E402


def describe(preset: Preset) -> str:
    m, t = preset.model, preset.train
    layers = "-".join(str(w) for w in (m.n_inputs, *m.hidden, m.n_classes))
    parts = [
        layers,
        "/".join(sorted(set(m.activations))),
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


def measure(preset: Preset) -> dict[str, object]:
    data = load_training_data(preset.train)
    trainer = make_trainer(preset.model, preset.train, data)
    best_val, seconds = None, 0.0
    for record in trainer:
        seconds += record.seconds
        if record.val_acc is not None:
            best_val = max(best_val or 0.0, record.val_acc)
    _, test_acc = trainer.evaluate(data.X_test, data.y_test)
    return {
        "name": preset.name,
        "config": describe(preset),
        "reported": preset.reported or "-",
        "test_acc": test_acc,
        "best_val_acc": best_val,
        "n_val": len(data.y_val),
        "seconds": seconds,
    }


def row(result: dict[str, object]) -> str:
    measured = f"{result['test_acc']:.2%} test"
    if result["best_val_acc"] is not None:
        correct = round(result["best_val_acc"] * result["n_val"])
        measured += f"; best validation {correct}/{result['n_val']}"
    return f"| `{result['name']}` | {result['config']} | {result['reported']} | {measured} | {result['seconds']:.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(PRESETS))
    parser.add_argument("--json", type=Path, help="append each result as a JSON line to this file")
    args = parser.parse_args()
    print("| preset | configuration | original reports | measured here | seconds |")
    print("| --- | --- | --- | --- | --- |")
    for name in args.only:
        start = time.perf_counter()
        result = measure(PRESETS[name])
        result["wall_seconds"] = time.perf_counter() - start
        print(row(result), flush=True)
        if args.json:
            with args.json.open("a") as handle:
                handle.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
