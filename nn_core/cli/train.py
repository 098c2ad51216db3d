"""The ``train`` subcommand: a preset's configs, overridden by flags, trained with a line per epoch.

Without ``--preset`` a run starts from ``fast``; ``--config`` starts from a run's settings instead
(a model file, a run folder, a JSON file or a playground link). The setting flags are generated
from the settings schema (``nn_core.cli.flags``). ``--json`` turns the output into JSON Lines: one
object per epoch with the ``EpochMetrics`` fields, then a final object with the test accuracy and the
total training time (the sum of the epochs' ``seconds``; ``wall_seconds`` adds data loading,
validation and augmentation). Ctrl-C or SIGTERM stops between or inside an epoch: the network goes back
to the weights of the last finished epoch, is tested and, with ``--save``, saved with those epochs (exit
status 130). The ``--save`` target is checked before training (``save_target``) and so is the memory
the run needs (``nn_core.memory``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

from nn_core.architecture import GRAMMAR_HELP, parse_layers
from nn_core.cli.common import CommandError, describe_model, download_hint, json_line
from nn_core.cli.flags import add_setting_flags, apply_flags, load_config_source
from nn_core.cli.save_target import DEFAULT_SAVE, save_target, signals_deferred, terminate_as_interrupt
from nn_core.config import ConfigError, ModelConfig, TrainConfig
from nn_core.data.registry import DATASETS
from nn_core.experiment import TrainingData, load_training_data, make_trainer
from nn_core.memory import check_run
from nn_core.presets import PRESETS
from nn_core.store.model_file import SavedModel, save_model
from nn_core.train import EpochMetrics, Trainer, TrainingDiverged

DEFAULT_PRESET = "fast"
FULL_TRAIN = 60_000  # training images of each dataset, for the memory estimate before loading


def add_train_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a network, one line per epoch",
        description="Train a network from a preset (default: fast) or from the settings of --config; "
        "every setting flag given overrides the value it starts from.",
    )
    add_config_arguments(p)
    p.add_argument(
        "--save",
        nargs="?",
        const=DEFAULT_SAVE,
        metavar="PATH",
        help="save the trained model (.npz) to PATH, or into PATH if it is a folder (ends in /); "
        "without PATH, a new file in the models folder",
    )
    p.add_argument(
        "--force", action="store_true", help="with --save: replace the file if it exists (refused otherwise)"
    )
    p.add_argument("--json", action="store_true", help="print JSON Lines instead of text")
    p.set_defaults(run=run_train, parser=p)


def add_config_arguments(p: argparse.ArgumentParser) -> None:
    """The flags that make a run's configuration (shared by ``train`` and ``sweep``)."""
    start = p.add_mutually_exclusive_group()
    start.add_argument(
        "--preset",
        choices=list(PRESETS),
        metavar="NAME",
        help=f"starting point: {', '.join(PRESETS)} (default: fast; see the presets command)",
    )
    start.add_argument(
        "--config",
        metavar="SOURCE",
        help="start from a run's settings: a model file (.npz), a run folder or its run.json, a JSON file "
        "with model_config and train_config, or the playground's shared link (in quotes)",
    )
    add_setting_flags(p)
    p.add_argument(
        "--layers",
        metavar="SPEC",
        help=f"hidden layers of any kind instead of --hidden, e.g. {GRAMMAR_HELP}; layers without an "
        "activation suffix take --activation (default relu); the output layer is added (see the summary command)",
    )


def apply_layers(args: argparse.Namespace, model: ModelConfig) -> ModelConfig:
    """``model`` with ``--layers`` applied, or a layer preset's dense and conv layers given the one
    ``--activation``; ``--hidden`` turns a layer preset back into an MLP. Other flags: ``apply_flags``."""
    layers, hidden = getattr(args, "layers", None), getattr(args, "hidden", None)
    acts = getattr(args, "activations", None)
    if layers is not None or (model.layers and hidden is None):
        if acts is not None and len(acts) > 1:
            raise ConfigError(
                "with layers, give one --activation; a layer of its own takes a suffix, e.g. dense128:tanh"
            )
        if getattr(args, "dropout", None):
            raise ConfigError("with layers, dropout is a layer of its own: add dropout0.2 after a layer")
    if layers is not None:
        if hidden is not None:
            raise ConfigError(
                "give --layers or --hidden, not both (--layers can hold dense layers: dense256,dense128)"
            )
        specs = parse_layers(layers, acts[0] if acts else "relu")
        return dataclasses.replace(model, hidden=(), activations=(), dropout=0.0, layers=specs)
    if model.layers and hidden is None and acts:  # every dense and conv layer of the preset takes it
        specs = tuple(
            dataclasses.replace(s, activation=acts[0]) if s.kind in ("dense", "conv") else s
            for s in model.layers
        )
        return dataclasses.replace(model, layers=specs)
    if model.layers and hidden is not None:
        return dataclasses.replace(model, layers=())
    return model


def configs_from_args(args: argparse.Namespace) -> tuple[ModelConfig, TrainConfig]:
    """The preset's (or ``--config``'s) configs with every given flag applied, validated."""
    if args.config is not None:
        model, train = load_config_source(args.config)
    else:
        preset = PRESETS[args.preset or DEFAULT_PRESET]
        model, train = preset.model, preset.train
    model, train = apply_flags(args, apply_layers(args, model), train)
    model.validate()
    train.validate()
    return model, train


def _source(args: argparse.Namespace) -> tuple[str, str]:
    """What the run starts from: a phrase for the header line and a word for the saved file's name."""
    if args.config is None:
        name = args.preset or DEFAULT_PRESET
        return f"preset {name}", name
    path = Path(args.config)
    shown = path.name if "=" not in args.config else "a playground link"
    return f"settings of {shown}", "config"


def run_train(args: argparse.Namespace) -> int:
    model_config, train_config = configs_from_args(args)
    source, stem = _source(args)
    save_path = save_target(args.save, stem, train_config.dataset, args.force)
    check_run(model_config, train_config, train_config.train_size or FULL_TRAIN)  # before any allocation
    wall_start = time.perf_counter()
    with download_hint(train_config.dataset):
        data = load_training_data(train_config)
    trainer = make_trainer(model_config, train_config, data)
    report = JsonReport() if args.json else TextReport()
    report.start(source, model_config, train_config, data)
    interrupted = False
    with terminate_as_interrupt() as signals:
        try:
            while trainer.epoch < train_config.epochs:
                record = trainer.run_epoch(on_batch=report.batch_progress(trainer))
                report.epoch(record, train_config.epochs)
        except KeyboardInterrupt:
            interrupted = True
            trainer.abort_epoch()  # the weights of the last finished epoch
            report.interrupted(trainer.epoch, train_config.epochs, "terminated" if signals else "interrupted")
        except TrainingDiverged as err:
            if save_path is not None:
                raise TrainingDiverged(f"{err} Nothing was saved.") from None
            raise
    with signals_deferred() as late:  # a signal now would lose the epochs: finish, then stop
        history = trainer.history[: trainer.epoch]
        test_loss, test_acc = trainer.evaluate(data.X_test, data.y_test)
        summary: dict[str, Any] = {
            "test_accuracy": test_acc,
            "test_loss": test_loss,
            "seconds": sum(r.seconds for r in history),
            "wall_seconds": time.perf_counter() - wall_start,
            "epochs": len(history),
            "best_val_acc": _best_val_acc(history),
            "interrupted": interrupted or bool(late),
            "saved": None,
        }
        if save_path is not None and history:
            summary["saved"] = str(_save(save_path, trainer, history, summary["best_val_acc"]))
        report.finish(summary, len(data.y_test), save_path is not None)
    return 130 if interrupted or late else 0


def _save(path: Path, trainer: Trainer, history: list[EpochMetrics], best: float | None) -> Path:
    model = SavedModel(trainer.network, trainer.config, list(history), trainer.config.dataset, best)
    try:
        return save_model(path, model)
    except OSError as err:
        raise CommandError(f"could not save the model to {path}: {err.strerror or err}") from err


def _best_val_acc(history: list[EpochMetrics]) -> float | None:
    accs = [r.val_acc for r in history if r.val_acc is not None]
    return max(accs) if accs else None


class TextReport:
    """Human output: a header, one aligned line per epoch, then the test result."""

    def start(self, source: str, model: ModelConfig, train: TrainConfig, data: TrainingData) -> None:
        self.progress = sys.stderr.isatty()
        title = DATASETS[train.dataset].title
        print(f"{source} on {title}: {describe_model(model)}")
        schedule = "" if train.schedule == "constant" else f", {train.schedule} schedule"
        print(
            f"{train.optimizer} lr {train.lr:g}{schedule}, batch {train.batch_size}, {train.epochs} epochs"
            f"{', augmented' if train.augment else ''}, seed {train.seed}"
        )
        print(
            f"{len(data.y_train):,} training images, {len(data.y_val):,} validation, "
            f"{len(data.y_test):,} test",
            flush=True,
        )

    def batch_progress(self, trainer: Trainer):
        """A per-batch callback redrawing a progress line on a terminal's stderr, or None."""
        if not self.progress:
            return None
        epoch, total, last = trainer.epoch + 1, trainer.config.epochs, [0.0]

        def draw(done: int, steps: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.2 or done == steps:
                last[0] = now
                sys.stderr.write(f"\repoch {epoch}/{total}  {100 * done / steps:5.1f}%")
                sys.stderr.flush()

        return draw

    def _clear_progress(self) -> None:
        if self.progress:
            sys.stderr.write("\r" + " " * 40 + "\r")
            sys.stderr.flush()

    def epoch(self, r: EpochMetrics, total: int) -> None:
        self._clear_progress()
        w = len(str(total))
        val = (
            f"  val_loss {_loss_text(r.val_loss)}  val_acc {100 * r.val_acc:6.2f}%"
            if r.val_acc is not None
            else ""
        )
        print(
            f"epoch {r.epoch:>{w}}/{total}  loss {_loss_text(r.train_loss)}  acc {100 * r.train_acc:6.2f}%{val}"
            f"  lr {_lr_text(r.lr)}  {r.seconds:6.2f} s  {r.examples_per_second:>9,.0f} ex/s",
            flush=True,
        )

    def interrupted(self, done: int, total: int, how: str = "interrupted") -> None:
        self._clear_progress()
        print(f"\n{how}: keeping the {done} of {total} epochs that finished", file=sys.stderr)

    def finish(self, s: dict[str, Any], n_test: int, wanted_save: bool) -> None:
        print(
            f"test accuracy {100 * s['test_accuracy']:.2f}% on {n_test:,} images  "
            f"(test loss {_loss_text(s['test_loss'])}, {s['epochs']} epoch{'s' * (s['epochs'] != 1)} in {s['seconds']:.2f} s of training, "
            f"{s['wall_seconds']:.2f} s in all)"
        )
        if s["saved"]:
            print(f"saved the model to {s['saved']}")
        elif wanted_save:
            print("nothing saved: no epoch finished", file=sys.stderr)


class JsonReport(TextReport):
    """JSON Lines on stdout: one object per epoch, then the summary; nothing else on stdout."""

    def start(self, source: str, model: ModelConfig, train: TrainConfig, data: TrainingData) -> None:
        self.progress = False

    def epoch(self, r: EpochMetrics, total: int) -> None:
        print(json_line(r.to_dict()), flush=True)

    def interrupted(self, done: int, total: int, how: str = "interrupted") -> None:
        print(f"{how}: keeping the {done} of {total} epochs that finished", file=sys.stderr)

    def finish(self, s: dict[str, Any], n_test: int, wanted_save: bool) -> None:
        print(json_line(s), flush=True)


def _loss_text(loss: float) -> str:
    return f"{loss:.4f}" if abs(loss) < 1e4 else f"{loss:.4g}"


def _lr_text(lr: float) -> str:
    return f"{lr:>7.4f}" if lr == 0 or lr >= 1e-3 else f"{lr:.1e}"  # both 7 wide below 10
