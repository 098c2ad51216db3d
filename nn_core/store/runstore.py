"""Training runs on disk: one folder per run under ``runs_dir()``, written atomically each epoch.

``runs_dir()/<run_id>/run.json`` holds what a run is (owner, name, both configs, status, the
per-epoch history, end-of-epoch wall times and test metrics); ``model.npz`` next to it holds the
weights at the end of the last completed epoch (``nn_core.store.model_file`` format). The model is written
before the JSON, and both through a temporary file and a rename, so a reader never sees half a
file and never sees a history longer than the saved model. Runs belong to an ``owner`` (an opaque
id chosen by the app per browser); ``list_runs`` and ``delete_run`` only touch that owner's runs.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nn_core.config import ConfigError, ModelConfig, TrainConfig
from nn_core.network import Network
from nn_core.store.model_file import SavedModel, load_model, save_model, write_atomic
from nn_core.store.paths import runs_dir
from nn_core.train import EpochMetrics

RUN_FORMAT = "digit-lab-run"
RUN_VERSION = 1
RUN_FILE = "run.json"
MODEL_FILE = "model.npz"
STATUSES = ("ready", "running", "paused", "finished", "stopped", "diverged", "failed", "interrupted")
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{3,63}$")


class RunStoreError(ValueError):
    """A run folder that cannot be read or written; the message says which and why."""


@dataclass
class RunRecord:
    """Everything about a run except its weights."""

    run_id: str
    owner: str
    name: str  # for people: "Run 3"
    model_config: ModelConfig
    train_config: TrainConfig
    history: list[EpochMetrics] = field(default_factory=list)
    epoch_ended_at: list[float] = field(default_factory=list)  # Unix time at the end of each epoch
    status: str = "ready"  # one of STATUSES
    message: str = ""  # why it stopped, diverged or failed
    test: dict[str, float] | None = None  # {"epoch", "loss", "acc"} on the test set
    source: str = "trained"  # "trained" here or "uploaded" from a model file
    generation: int = 0  # bumped by every reset, so caches keyed by (run, epoch) stay right
    created_at: str = ""
    updated_at: str = ""

    @property
    def epochs_done(self) -> int:
        return len(self.history)

    @property
    def dataset(self) -> str:
        return self.train_config.dataset

    def best_val_acc(self) -> float | None:
        values = [r.val_acc for r in self.history if r.val_acc is not None]
        return max(values) if values else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RUN_FORMAT,
            "version": RUN_VERSION,
            "run_id": self.run_id,
            "owner": self.owner,
            "name": self.name,
            "model_config": self.model_config.to_dict(),
            "train_config": self.train_config.to_dict(),
            "history": [r.to_dict() for r in self.history],
            "epoch_ended_at": list(self.epoch_ended_at),
            "status": self.status,
            "message": self.message,
            "test": self.test,
            "source": self.source,
            "generation": self.generation,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        if data.get("format") != RUN_FORMAT:
            raise RunStoreError(f"not a Digit Lab run file (format {data.get('format')!r})")
        if data.get("version") != RUN_VERSION:
            raise RunStoreError(f"run file version {data.get('version')} is not {RUN_VERSION}")
        status = data.get("status", "ready")
        return cls(
            run_id=str(data["run_id"]),
            owner=str(data["owner"]),
            name=str(data.get("name", data["run_id"])),
            model_config=ModelConfig.from_dict(data["model_config"]),
            train_config=TrainConfig.from_dict(data["train_config"]),
            history=[EpochMetrics.from_dict(r) for r in data.get("history", [])],
            epoch_ended_at=[float(t) for t in data.get("epoch_ended_at", [])],
            status=status if status in STATUSES else "interrupted",
            message=str(data.get("message", "")),
            test=data.get("test"),
            source=str(data.get("source", "trained")),
            generation=int(data.get("generation", 0)),
            created_at=str(data.get("created_at", "")),
            updated_at=str(data.get("updated_at", "")),
        )


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_id() -> str:
    """A fresh id for a run or an owner: time-ordered and unguessable, e.g. ``20250101-120301-9f2c1a``."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


def is_valid_id(text: str) -> bool:
    """True for ids safe to use as a folder name: lower-case letters, digits and dashes, 4-64 long."""
    return isinstance(text, str) and bool(_ID_PATTERN.match(text))


def run_dir(run_id: str) -> Path:
    if not is_valid_id(run_id):
        raise RunStoreError(f"{run_id!r} is not a valid run id (letters, digits and dashes only)")
    return runs_dir() / run_id


def save_run(record: RunRecord, network: Network | None = None) -> None:
    """Write ``network`` (if given) to model.npz, then ``record`` to run.json, each atomically."""
    folder = run_dir(record.run_id)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if network is not None:
            best = record.best_val_acc()
            saved = SavedModel(network, record.train_config, list(record.history), record.dataset, best)
            save_model(folder / MODEL_FILE, saved)
        record.updated_at = now_iso()
        data = json.dumps(record.to_dict(), indent=1, allow_nan=True).encode()
        write_atomic(folder / RUN_FILE, data)
    except OSError as err:
        raise RunStoreError(f"cannot save run {record.name} in {folder}: {err.strerror or err}") from err


def load_run(run_id: str) -> RunRecord:
    """The record of one run; ``RunStoreError`` when it is missing or damaged."""
    path = run_dir(run_id) / RUN_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        record = RunRecord.from_dict(data)
    except OSError as err:
        raise RunStoreError(f"cannot read {path}: {err.strerror or err}") from err
    except (ValueError, KeyError, TypeError, ConfigError) as err:
        raise RunStoreError(f"{path} is damaged: {err}") from err
    if record.run_id != run_id:
        raise RunStoreError(f"{path} names another run ({record.run_id})")
    return record


def list_runs(owner: str) -> list[RunRecord]:
    """The owner's readable runs, oldest first (damaged folders are skipped)."""
    root = runs_dir()
    if not root.is_dir() or not is_valid_id(owner):
        return []
    records = []
    for folder in root.iterdir():
        if not (folder / RUN_FILE).is_file() or not is_valid_id(folder.name):
            continue
        try:
            record = load_run(folder.name)
        except RunStoreError:
            continue
        if record.owner == owner:
            records.append(record)
    return sorted(records, key=lambda r: (r.created_at, r.run_id))


def load_run_model(run_id: str) -> SavedModel:
    """The saved weights of a run (``nn_core.store.model_file.ModelFileError`` when damaged or missing)."""
    return load_model(run_dir(run_id) / MODEL_FILE)


def model_path(run_id: str) -> Path:
    return run_dir(run_id) / MODEL_FILE


def delete_run(run_id: str, owner: str) -> None:
    """Remove a run's folder; refuses a run that belongs to another owner."""
    folder = run_dir(run_id)
    if not folder.exists():
        return
    record = load_run(run_id)
    if record.owner != owner:
        raise RunStoreError(f"run {run_id} belongs to someone else and was not deleted")
    shutil.rmtree(folder)


def next_run_name(names: list[str]) -> str:
    """ "Run N" with N one more than the largest number among ``names``."""
    numbers = [int(m.group(1)) for n in names if (m := re.fullmatch(r"Run (\d+)", n))]
    return f"Run {max(numbers, default=0) + 1}"
