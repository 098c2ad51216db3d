"""Save and load a trained model as one ``.npz`` file, read back with ``allow_pickle=False``.

File format (version 2), every entry a plain NumPy array:
- ``format``: the string ``"digit-lab-model"``; ``version``: int64 scalar, 2.
- ``meta``: a JSON string with ``model_config`` (its ``layers``, the layer specs, a list of dicts;
  empty for an MLP), ``train_config`` (or null), ``history`` (list of per-epoch records),
  ``dataset``, ``best_val_acc`` (or null) and ``saved_at`` (ISO time).
- ``param/<layer>.<name>``: float32 parameters, e.g. ``param/0.W`` of shape (784, 128) for a
  dense layer, (5, 5, 1, 16) for a conv layer, ``param/3.gamma`` and ``param/3.beta`` of a
  batch-norm layer.
- ``state/<layer>.<name>``: float32 batch-norm running statistics, ``state/3.mean`` and
  ``state/3.var`` (none for models without batch norm).
Version 1 (before layer specs) is version 2 without ``layers`` and ``state/`` entries; it still
loads. Writes go to a temporary file that is renamed into place, so a crash never leaves half a file.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from nn_core.config import ConfigError, ModelConfig, TrainConfig
from nn_core.model_summary import architecture_string
from nn_core.network import Network, build_network
from nn_core.train import EpochMetrics

FORMAT = "digit-lab-model"
VERSION = 2
READABLE_VERSIONS = (1, 2)


class ModelFileError(ValueError):
    """A file that is not a readable Digit Lab model; the message says why."""


@dataclass
class SavedModel:
    """A network with what is known of how it was made."""

    network: Network
    train_config: TrainConfig | None = None
    history: list[EpochMetrics] = field(default_factory=list)
    dataset: str = "mnist"
    best_val_acc: float | None = None
    saved_at: str = ""


def model_to_bytes(model: SavedModel) -> bytes:
    """Serialise ``model`` to the bytes of a ``.npz`` file."""
    meta = {
        "model_config": model.network.config.to_dict(),
        "train_config": None if model.train_config is None else model.train_config.to_dict(),
        "history": [record.to_dict() for record in model.history],
        "dataset": model.dataset,
        "best_val_acc": model.best_val_acc,
        "saved_at": model.saved_at or datetime.now(UTC).isoformat(timespec="seconds"),
    }
    arrays = {f"param/{name}": value for name, value in model.network.params().items()}
    arrays |= {f"state/{name}": value for name, value in model.network.state().items()}
    buffer = io.BytesIO()
    np.savez(
        buffer, format=np.array(FORMAT), version=np.array(VERSION), meta=np.array(json.dumps(meta)), **arrays
    )
    return buffer.getvalue()


def save_model(path: Path | str, model: SavedModel) -> Path:
    """Write ``model`` to ``path`` atomically (temporary file, then rename); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, model_to_bytes(model))
    return path


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to ``path`` through a temporary file in the same folder and ``os.replace``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_model(source: Path | str | bytes) -> SavedModel:
    """Read a model from a path or from the bytes of an uploaded file.

    Raises ``ModelFileError`` for anything that is not a complete, consistent Digit Lab model.
    """
    name = "the uploaded file" if isinstance(source, bytes) else f"'{source}'"
    if isinstance(source, bytes):
        data = source
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as err:
            raise ModelFileError(f"cannot open {name}: {err.strerror or err}") from err
    if not data.startswith(b"PK"):
        raise ModelFileError(f"{name} is not a Digit Lab model: expected an .npz file saved by Digit Lab")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return _read(npz, name)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise ModelFileError(f"{name} is not a complete .npz file (truncated or damaged): {err}") from err
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as err:
        raise ModelFileError(f"{name} is damaged or not a Digit Lab model: {err}") from err


def _read(npz: Any, name: str) -> SavedModel:
    if "format" not in npz.files or str(npz["format"]) != FORMAT:
        raise ModelFileError(f"{name} is an .npz file but not a Digit Lab model (no '{FORMAT}' marker)")
    version = int(npz["version"])
    if version not in READABLE_VERSIONS:
        raise ModelFileError(
            f"{name} is a version {version} model; this Digit Lab reads versions "
            f"{' and '.join(map(str, READABLE_VERSIONS))}"
        )
    meta = json.loads(str(npz["meta"]))
    try:
        model_config = ModelConfig.from_dict(meta["model_config"])
        network = build_network(model_config, np.random.default_rng(0))
        train_config = (
            None if meta.get("train_config") is None else TrainConfig.from_dict(meta["train_config"])
        )
    except ConfigError as err:
        raise ModelFileError(f"{name} has settings this Digit Lab cannot use: {err}") from err
    weights = {key.removeprefix("param/"): npz[key] for key in npz.files if key.startswith("param/")}
    weights |= {key.removeprefix("state/"): npz[key] for key in npz.files if key.startswith("state/")}
    try:
        network.set_weights(weights)
    except ValueError as err:
        raise ModelFileError(
            f"{name}: the weights do not fit its architecture {architecture_string(model_config)} ({err})"
        ) from err
    missing_state = set(network.state()) - set(weights)
    if missing_state:
        raise ModelFileError(f"{name} lacks the batch-norm statistics {', '.join(sorted(missing_state))}")
    if not all(np.isfinite(w).all() for w in weights.values()):
        raise ModelFileError(f"{name} holds weights that are NaN or infinite")
    return SavedModel(
        network=network,
        train_config=train_config,
        history=[EpochMetrics.from_dict(r) for r in meta.get("history", [])],
        dataset=str(meta.get("dataset", "mnist")),
        best_val_acc=meta.get("best_val_acc"),
        saved_at=str(meta.get("saved_at", "")),
    )
