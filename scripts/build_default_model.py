"""Rebuild the default model that ships with Digit Lab: ``nn_core/store/default_model.npz``.

Usage: python scripts/build_default_model.py [--out PATH] [--epochs N] [--checkpoints DIR] [--from FILE]
       python scripts/build_default_model.py --fine-tune-from FILE [--phases 2 3] [--checkpoints DIR]

Trains the ``default`` preset on the 60,000 MNIST training digits with drawing-like augmentation
(``nn_core.store.default_training``), printing one line per epoch with the MNIST test accuracy, and
writes the model atomically to ``--out`` (the packaged file unless told). ``--checkpoints`` also keeps
every epoch's model there; ``--from`` skips training and installs a model trained earlier with this
script (a checkpoint, say), measuring it afresh; ``--fine-tune-from`` runs only the fine-tuning phases
(``--phases``, numbered from 2: all of them unless told) on a model that has the phases before them
(the checkpoint of its last epoch). MNIST is read through the data layer (``DIGIT_LAB_DATA``; downloaded if
missing). Run it with one BLAS thread on a shared machine: ``OMP_NUM_THREADS=1``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nn_core.experiment import load_training_data  # noqa: E402
from nn_core.presets import get_preset  # noqa: E402
from nn_core.store.default_model import CARD_PATH, SHIPPED_PATH, same_architecture  # noqa: E402
from nn_core.store.default_training import FINE_TUNE_PHASES, PRESET, fine_tune, train_default_model  # noqa: E402
from nn_core.store.model_file import SavedModel, load_model, save_model  # noqa: E402
from nn_core.train import EpochMetrics, Trainer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=SHIPPED_PATH, help=f"model file (default: {SHIPPED_PATH})"
    )
    parser.add_argument("--epochs", type=int, help="epochs (default: the preset's)")
    parser.add_argument("--checkpoints", type=Path, help="folder for every epoch's model")
    parser.add_argument(
        "--from", dest="source", type=Path, help="install this model file instead of training"
    )
    parser.add_argument(
        "--fine-tune-from",
        type=Path,
        metavar="FILE",
        help="skip the first phase: fine-tune this model (a checkpoint of the last epoch before --phases)",
    )
    numbers = range(2, len(FINE_TUNE_PHASES) + 2)
    parser.add_argument(
        "--phases",
        type=int,
        nargs="+",
        choices=numbers,
        default=list(numbers),
        help="fine-tuning phases to run with --fine-tune-from (default: all)",
    )
    args = parser.parse_args()
    preset = get_preset(PRESET)
    print(f"preset {PRESET}: {preset.description}", flush=True)
    start = time.perf_counter()
    data = load_training_data(preset.train, download=True)

    def on_epoch(trainer: Trainer, record: EpochMetrics, test_acc: float) -> None:
        print(
            f"epoch {record.epoch:3d}  loss {record.train_loss:.4f}  train {record.train_acc:.2%}  "
            f"test {test_acc:.2%}  {record.seconds:.0f} s  ({time.perf_counter() - start:.0f} s in all)",
            flush=True,
        )
        if args.checkpoints is not None:
            model = SavedModel(trainer.network, trainer.config, list(trainer.history), trainer.config.dataset)
            save_model(args.checkpoints / f"epoch-{record.epoch:02d}.npz", model)

    if args.source is not None or args.fine_tune_from is not None:
        given = args.source or args.fine_tune_from
        model = load_model(given)
        if not same_architecture(model.network.config, preset.model):
            print(f"{given} is not the '{PRESET}' preset's architecture", file=sys.stderr)
            return 1
        if args.fine_tune_from is not None:
            phases = [FINE_TUNE_PHASES[n - 2] for n in sorted(set(args.phases))]
            model = fine_tune(model, data, phases=phases, on_epoch=on_epoch)
    else:
        model = train_default_model(data=data, epochs=args.epochs, on_epoch=on_epoch)
    test_acc = float((model.network.predict(data.X_test) == data.y_test).mean())
    path = save_model(args.out, model)
    card = {
        "preset": PRESET,
        "dataset": model.dataset,
        "test_accuracy": round(test_acc, 4),
        "epochs": len(model.history),
        "train_seconds": round(sum(r.seconds for r in model.history)),
        "parameters": model.network.n_params(),
        "built": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    card_path = CARD_PATH if args.out == SHIPPED_PATH else args.out.with_suffix(".json")
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    size = path.stat().st_size
    print(f"MNIST test accuracy {test_acc:.2%}", flush=True)
    print(
        f"saved {path} ({size / 1e6:.2f} MB) and {card_path.name} after {time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
