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
loads. Writes go to a temporary file that is renamed into place, so a crash never leaves half a file (and
the next write removes the temporary files of writers that were killed). Reading checks the whole file
before building anything (``load_model``).
"""

from __future__ import annotations

import dataclasses
import glob
import io
import json
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from nn_core.config import ConfigError, ModelConfig, TrainConfig
from nn_core.fields import FieldTypeError, check_value
from nn_core.memory import ENV_VAR as MEMORY_ENV_VAR
from nn_core.memory import budget_bytes, human
from nn_core.model_summary import architecture_string
from nn_core.network import Network, build_network, entry_shapes
from nn_core.store.npz_reader import NpzError, NpzReader
from nn_core.train import EpochMetrics

FORMAT = "digit-lab-model"
VERSION = 2
READABLE_VERSIONS = (1, 2)  # version 1: before layer specs (no ``layers``, no ``state/`` entries)
MAX_MODEL_BYTES = 512 * 1024**2  # the largest allowed network (8 x 4096) is ~480 MB of float32
MAX_META_CHARS = 8 * 1024**2  # JSON settings and history
MAX_HISTORY = 10_000  # epoch records (TrainConfig allows 10,000 epochs)


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
    """Write bytes to ``path`` through a temporary file in the same folder and ``os.replace``.

    The temporary file is ``.<name>.p<pid>.<random>.part``; leftovers of processes that no longer
    run (killed while writing) are removed first.
    """
    remove_leftovers(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.p{os.getpid()}.", suffix=".part", dir=path.parent)
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


def remove_leftovers(path: Path) -> list[Path]:
    """Delete ``.part`` files of ``path`` left by writers that were killed; returns what was removed."""
    removed = []
    try:
        candidates = list(path.parent.glob(f".{glob.escape(path.name)}.p*.part"))
    except OSError:
        return removed
    for leftover in candidates:
        match = re.fullmatch(rf"\.{re.escape(path.name)}\.p(\d+)\..+\.part", leftover.name)
        if match and not _alive(int(match.group(1))):
            try:
                leftover.unlink()
                removed.append(leftover)
            except OSError:
                pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def load_model(source: Path | str | bytes) -> SavedModel:
    """Read a model from a path or from the bytes of an uploaded file.

    The whole file is checked before anything is built: the meta data's types and ranges, then every
    weight's name, shape and dtype from the archive's headers (nothing is decompressed before its size
    is known and the total is under ``MAX_MODEL_BYTES``), and only then are the weights read.
    Raises ``ModelFileError`` for anything that is not a complete, consistent Digit Lab model.
    """
    name = "the uploaded file" if isinstance(source, bytes) else f"'{source}'"
    if isinstance(source, bytes):
        data = source
    else:
        try:
            info = Path(source).stat()
            size = info.st_size
            if not stat.S_ISREG(info.st_mode):
                raise ModelFileError(f"{name} is not a regular file (a folder, a device or a pipe)")
            if size > MAX_MODEL_BYTES:
                raise ModelFileError(
                    f"{name} is {size / 1e6:,.0f} MB, larger than any Digit Lab model "
                    f"({MAX_MODEL_BYTES / 1e6:,.0f} MB at most)"
                )
            data = Path(source).read_bytes()
        except OSError as err:
            raise ModelFileError(f"cannot open {name}: {err.strerror or err}") from err
    if not data.startswith(b"PK"):
        raise ModelFileError(f"{name} is not a Digit Lab model: expected an .npz file saved by Digit Lab")
    try:
        with NpzReader(data, MAX_MODEL_BYTES) as npz:
            return _read(npz, name)
    except NpzError as err:
        raise ModelFileError(f"{name} is damaged or not a Digit Lab model: {err}") from err


def _read(npz: NpzReader, name: str) -> SavedModel:
    if "format" not in npz.entries or npz.scalar_text("format", 64) != FORMAT:
        raise ModelFileError(f"{name} is an .npz file but not a Digit Lab model (no '{FORMAT}' marker)")
    version = npz.scalar_int("version")
    if version not in READABLE_VERSIONS:
        raise ModelFileError(
            f"{name} is a version {version} model; this Digit Lab reads versions "
            f"{' and '.join(map(str, READABLE_VERSIONS))}"
        )
    try:
        meta = json.loads(npz.scalar_text("meta", MAX_META_CHARS))
    except (ValueError, RecursionError) as err:
        raise ModelFileError(f"{name} is damaged: its settings are not readable JSON ({err})") from err
    try:
        parts = read_meta(meta)
    except (ConfigError, ValueError) as err:
        raise ModelFileError(f"{name} has settings this Digit Lab cannot use: {err}") from err
    expected, expected_state = entry_shapes(parts.model_config)
    found = {key.removeprefix("param/"): e for key, e in npz.entries.items() if key.startswith("param/")}
    found_state = {
        key.removeprefix("state/"): e for key, e in npz.entries.items() if key.startswith("state/")
    }
    known = (
        {"format", "version", "meta"} | {f"param/{k}" for k in found} | {f"state/{k}" for k in found_state}
    )
    extra = (set(npz.entries) - known) | set(npz.others)
    if extra or set(found) != set(expected) or set(found_state) != set(expected_state):
        missing = sorted(set(expected_state) - set(found_state))
        if missing and not extra and set(found) == set(expected):
            raise ModelFileError(f"{name} lacks the batch-norm statistics {', '.join(missing)}")
        raise ModelFileError(
            f"{name}: the weights do not fit its architecture {architecture_string(parts.model_config)} "
            f"(expected {', '.join([*expected, *expected_state])}; "
            f"found {', '.join(sorted(found) + sorted(found_state) + sorted(extra)) or 'none'})"
        )
    for key, entry in [*found.items(), *found_state.items()]:
        shape = expected.get(key) or expected_state.get(key)
        if entry.shape != shape or entry.dtype.kind != "f":
            raise ModelFileError(
                f"{name}: the weights do not fit its architecture {architecture_string(parts.model_config)} "
                f"(parameter {key} is {entry.dtype} of shape {entry.shape}, expected float32 of shape {shape})"
            )
    _check_budget(name, sum(entry.nbytes for entry in [*found.values(), *found_state.values()]))
    weights = {key: npz.array(f"param/{key}") for key in found}
    weights |= {key: npz.array(f"state/{key}") for key in found_state}
    if not all(np.isfinite(w).all() for w in weights.values()):
        raise ModelFileError(f"{name} holds weights that are NaN or infinite")
    network = build_network(parts.model_config, np.random.default_rng(0))
    network.set_weights({key: w.astype(np.float32, copy=False) for key, w in weights.items()})
    return SavedModel(
        network=network,
        train_config=parts.train_config,
        history=parts.history,
        dataset=parts.dataset,
        best_val_acc=parts.best_val_acc,
        saved_at=parts.saved_at,
    )


def _check_budget(name: str, nbytes: int) -> None:
    """Reading costs the file, the arrays and the network: about three times the weights."""
    try:
        budget = budget_bytes()
    except ConfigError as err:
        raise ModelFileError(str(err)) from err
    if 3 * nbytes > budget:
        raise ModelFileError(
            f"{name} holds {human(nbytes)} of weights; loading it needs ~{human(3 * nbytes)}, more than the "
            f"memory budget of {human(budget)} (set {MEMORY_ENV_VAR} in MB to allow more)"
        )


@dataclass
class _Meta:
    model_config: ModelConfig
    train_config: TrainConfig | None
    history: list[EpochMetrics]
    dataset: str
    best_val_acc: float | None
    saved_at: str


def read_meta(meta: Any) -> _Meta:
    """The model file's JSON meta data, every field's type and range checked.

    Raises ``ConfigError`` or ``ValueError`` (``FieldTypeError``) naming the first bad field.
    """
    if not isinstance(meta, dict):
        raise FieldTypeError(f"the settings must be a JSON object, got {type(meta).__name__}")
    if "model_config" not in meta:
        raise FieldTypeError("the settings have no model_config")
    model_config = ModelConfig.from_dict(meta["model_config"])
    model_config.validate()
    train_config = None
    if meta.get("train_config") is not None:
        train_config = TrainConfig.from_dict(meta["train_config"])
        # every range is checked; the dataset only where the model is used (it may be one this
        # process does not know, and the weights are still good)
        dataclasses.replace(train_config, dataset=TrainConfig.dataset).validate()
    history = meta.get("history", [])
    if not isinstance(history, list) or len(history) > MAX_HISTORY:
        raise FieldTypeError(f"history must be a list of at most {MAX_HISTORY:,} epoch records")
    best = check_value(meta.get("best_val_acc"), float | None, "best_val_acc")
    if best is not None and not 0.0 <= best <= 1.0:
        raise FieldTypeError(f"best_val_acc must be in [0, 1], got {best}")
    return _Meta(
        model_config=model_config,
        train_config=train_config,
        history=[EpochMetrics.from_dict(r) for r in history],
        dataset=check_value(meta.get("dataset", "mnist"), str, "dataset"),
        best_val_acc=best,
        saved_at=check_value(meta.get("saved_at", ""), str, "saved_at"),
    )
