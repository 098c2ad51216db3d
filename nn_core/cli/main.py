"""Command-line interface: ``python -m nn_core train | evaluate | predict | summary | presets | download``.

This is the one module family of the engine that prints. ``main(argv)`` parses the arguments with
argparse, runs one subcommand and returns the exit status instead of exiting, so tests can call it
in-process. Errors a person can act on become one clear message on stderr, never a traceback:
status 2 for bad arguments and settings (with the subcommand's usage line), 1 for failures while
running (missing data, unreadable model files, a diverging run), 130 after Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from nn_core.cli.common import CommandError
from nn_core.cli.evaluate import add_evaluate_parser, add_predict_parser
from nn_core.cli.export import add_export_parser
from nn_core.cli.summary import add_summary_parser
from nn_core.cli.sweep import add_sweep_parser
from nn_core.cli.train import add_train_parser
from nn_core.config import ConfigError
from nn_core.data.local import DataError, dataset_dir, dataset_status
from nn_core.data.registry import DATASETS
from nn_core.presets import PRESETS
from nn_core.store.model_file import ModelFileError
from nn_core.train import TrainingDiverged

PROG = "python -m nn_core"
USAGE_ERROR = 2
RUNTIME_ERROR = 1
INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand; each subparser sets ``run`` (its handler) and ``parser``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Digit Lab engine: train, evaluate and use from-scratch NumPy networks on MNIST.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_train_parser(sub)
    add_evaluate_parser(sub)
    add_predict_parser(sub)
    add_summary_parser(sub)
    add_sweep_parser(sub)
    add_export_parser(sub)
    presets = sub.add_parser("presets", help="list the named training presets")
    presets.set_defaults(run=run_presets, parser=presets)
    download = sub.add_parser(
        "download",
        help="download a dataset and check its files",
        description="Download the dataset's four files (skipping those already present and verified).",
    )
    download.add_argument(
        "--dataset", choices=[*DATASETS, "all"], default="mnist", help="dataset to fetch (default: mnist)"
    )
    download.set_defaults(run=run_download, parser=download)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse has printed the usage and the error (or the help)
        return stop.code if isinstance(stop.code, int) else USAGE_ERROR
    try:
        return args.run(args)
    except ConfigError as err:
        args.parser.print_usage(sys.stderr)
        return _fail(args, err, USAGE_ERROR)
    except (DataError, ModelFileError, TrainingDiverged, CommandError) as err:
        return _fail(args, err, RUNTIME_ERROR)
    except KeyboardInterrupt:
        print(f"\n{PROG} {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED


def _fail(args: argparse.Namespace, err: Exception, status: int) -> int:
    print(f"{PROG} {args.command}: error: {err}", file=sys.stderr)
    return status


def run_presets(args: argparse.Namespace) -> int:
    """Print each preset's name and one-line description, aligned."""
    width = max(len(name) for name in PRESETS)
    for name, preset in PRESETS.items():
        print(f"{name:<{width}}  {preset.description}")
    return 0


def run_download(args: argparse.Namespace) -> int:
    """Fetch the missing or damaged files of one dataset (or all), with progress on stderr."""
    from nn_core.data.download import ensure_dataset

    names = list(DATASETS) if args.dataset == "all" else [args.dataset]
    for name in names:
        info = DATASETS[name]
        directory = dataset_dir(name)
        todo = [f for f, state in dataset_status(name).items() if state != "ok"]
        if todo:
            print(f"{info.title}: fetching {len(todo)} file(s) into {directory}", file=sys.stderr)
            progress = DownloadProgress(sys.stderr)
            try:
                ensure_dataset(name, progress=progress)
            finally:
                progress.finish()
        print(f"{info.title}: all {len(info.files)} files present and verified in {directory}")
    return 0


class DownloadProgress:
    """``progress(file, done, total)`` for ``ensure_dataset``, written to ``stream``.

    On a terminal one line per file is redrawn with a carriage return (at most ten times a second);
    elsewhere (a log, a pipe) each file gets one line when it is complete.
    """

    def __init__(self, stream: TextIO, interval: float = 0.1) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.interval = interval
        self.file: str | None = None
        self.open_line = False  # a terminal line was drawn and not yet ended
        self.last_draw = 0.0

    def __call__(self, file: str, done: int, total: int) -> None:
        if file != self.file:
            self.finish()
            self.file = file
        complete = total > 0 and done >= total
        if self.tty:
            now = time.monotonic()
            if complete or now - self.last_draw >= self.interval:
                self.last_draw = now
                self.stream.write(f"\r{_progress_text(file, done, total)}")
                self.stream.flush()
                self.open_line = True
        elif complete:
            print(_progress_text(file, done, total), file=self.stream, flush=True)
        if complete:
            self.finish()

    def finish(self) -> None:
        """End the terminal line being redrawn, if any."""
        if self.open_line:
            self.stream.write("\n")
            self.stream.flush()
            self.open_line = False


def _progress_text(file: str, done: int, total: int) -> str:
    if total > 0:
        return f"  {file:<28} {100 * done / total:5.1f}%  {done / 1e6:6.2f} of {total / 1e6:.2f} MB"
    return f"  {file:<28}   ...   {done / 1e6:6.2f} MB"
