"""Pieces shared by the command-line subcommands: the runtime-failure error, strict JSON lines, hints."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from nn_core.config import ModelConfig
from nn_core.data.local import DataUnavailableError
from nn_core.model_summary import architecture_string


class CommandError(RuntimeError):
    """A subcommand could not finish (for example a file could not be written); the message says why."""


def json_line(obj: dict[str, Any]) -> str:
    """One line of strict JSON: NumPy scalars become Python numbers, NaN and infinities become null."""
    return json.dumps(_plain(obj), allow_nan=False)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@contextmanager
def download_hint(dataset: str) -> Iterator[None]:
    """Add the download command to a ``DataUnavailableError`` raised inside the block."""
    try:
        yield
    except DataUnavailableError as err:
        hint = f" To fetch them: python -m nn_core download --dataset {dataset}"
        raise DataUnavailableError(f"{err}{hint}", err.missing, err.directory) from None


def describe_model(config: ModelConfig) -> str:
    """'784-256-128-10 relu' (or 'conv16x5-maxpool2-dense128-10 relu') style summary of a model."""
    if config.layers:
        acts = sorted({s.activation for s in config.layers if s.kind in ("dense", "conv")} - {"linear"})
        extra = ""
    else:
        acts = sorted(set(config.activations))
        extra = f", dropout {config.dropout:g}" if config.dropout else ""
    arch = architecture_string(config)
    return f"{arch} {'/'.join(acts) or 'linear'}, {config.output} output, {config.loss}{extra}"
