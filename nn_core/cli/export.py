"""The ``export`` subcommand: a saved model as ONNX or as a zip of NumPy weights with ``predict.py``.

``python -m nn_core export --model m.npz --format onnx -o m.onnx``. Without ``-o`` the file goes beside
the model with the format's suffix; an existing folder as ``-o`` gets that file name inside it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nn_core.cli.common import CommandError
from nn_core.data.registry import DATASETS
from nn_core.export import FORMATS, ExportError, export_bytes
from nn_core.store.model_file import load_model


def add_export_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a saved model as ONNX or as NumPy weights with a predict.py",
        description="Export a saved model: 'onnx' (input pixels (N, 28, 28) float32 in [0, 1], output "
        "probabilities (N, classes)) or 'numpy' (a zip of weights.npz and a predict.py needing only "
        "NumPy and Pillow).",
    )
    p.add_argument("--model", required=True, metavar="PATH", help="a model file saved by Digit Lab (.npz)")
    p.add_argument("--format", required=True, choices=list(FORMATS), help="what to write")
    p.add_argument(
        "-o", "--output", metavar="OUT", help="file (or existing folder) to write; default: beside the model"
    )
    p.set_defaults(run=run_export, parser=p)


def output_path(model: Path, fmt: str, output: str | None) -> Path:
    """Where the export goes: ``output``, a file named after the model inside it, or beside the model."""
    name = model.with_suffix(FORMATS[fmt]).name
    if output is None:
        return model.with_name(name)
    out = Path(output)
    return out / name if out.is_dir() else out


def run_export(args: argparse.Namespace) -> int:
    saved = load_model(args.model)
    info = DATASETS.get(saved.dataset)
    try:
        data = export_bytes(saved.network, args.format, info.class_names if info else None)
    except ExportError as err:
        raise CommandError(str(err)) from None
    out = output_path(Path(args.model), args.format, args.output)
    try:
        out.write_bytes(data)
    except OSError as err:
        raise CommandError(f"cannot write {out}: {err.strerror or err}") from None
    print(f"{out}  ({args.format}, {len(data):,} bytes)")
    return 0
