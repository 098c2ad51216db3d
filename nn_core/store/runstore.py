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
import stat
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from nn_core.config import ConfigError, ModelConfig, TrainConfig
from nn_core.fields import FieldTypeError, check_value
from nn_core.network import Network
from nn_core.store.model_file import SavedModel, load_model, save_model, write_atomic
from nn_core.store.paths import runs_dir
from nn_core.train import EpochMetrics

RUN_FORMAT = "digit-lab-run"
RUN_VERSION = 1
RUN_FILE = "run.json"
MODEL_FILE = "model.npz"


class RunStatus(StrEnum):
    """Where a run stands; the values are what run.json stores (and compare equal to those strings)."""

    READY = "ready"  # made, not trained yet
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"  # all planned epochs done
    STOPPED = "stopped"  # stopped by its owner (or cut off), its finished epochs kept
    DIVERGED = "diverged"  # the loss became NaN or infinite; weights of the last good epoch kept
    FAILED = "failed"  # an unexpected error
    INTERRUPTED = "interrupted"  # the app stopped while it trained


STATUSES = tuple(RunStatus)
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{3,63}$")
_OWNER_FIELD = re.compile(rb'"owner"\s*:\s*"([a-z0-9][a-z0-9-]{3,63})"')
MAX_RUN_FILE_BYTES = 64 * 1024**2  # 10,000 epochs of history take ~3 MB


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
    status: RunStatus = RunStatus.READY
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
        """A record from parsed JSON, every field's type and range checked first.

        Raises ``RunStoreError`` (not a run file), ``ConfigError`` or ``ValueError`` naming the bad field.
        """
        if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise RunStoreError(f"not a Digit Lab run file (format {found!r:.40})")
        if data.get("version") != RUN_VERSION:
            raise RunStoreError(f"run file version {data.get('version')!r:.20} is not {RUN_VERSION}")
        for key in ("run_id", "owner", "model_config", "train_config"):
            if key not in data:
                raise FieldTypeError(f"the run file has no {key}")
        model_config = ModelConfig.from_dict(data["model_config"])
        model_config.validate()
        train_config = TrainConfig.from_dict(data["train_config"])
        train_config.validate()
        history = data.get("history", [])
        if not isinstance(history, list):
            raise FieldTypeError("history must be a list of epoch records")
        ended = check_value(data.get("epoch_ended_at", []), tuple[float, ...], "epoch_ended_at")
        status = check_value(data.get("status", "ready"), str, "status")
        test = data.get("test")
        if test is not None:
            if not isinstance(test, dict) or not {"epoch", "loss", "acc"} <= set(test):
                raise FieldTypeError("test must hold epoch, loss and acc")
            test = {
                "epoch": check_value(test["epoch"], int, "test.epoch"),
                "loss": check_value(test["loss"], float, "test.loss", finite=False),
                "acc": check_value(test["acc"], float, "test.acc"),
            }
        run_id = check_value(data["run_id"], str, "run_id")
        return cls(
            run_id=run_id,
            owner=check_value(data["owner"], str, "owner"),
            name=check_value(data.get("name", run_id), str, "name"),
            model_config=model_config,
            train_config=train_config,
            history=[EpochMetrics.from_dict(r) for r in history],
            epoch_ended_at=list(ended),
            status=RunStatus(status) if status in STATUSES else RunStatus.INTERRUPTED,
            message=check_value(data.get("message", ""), str, "message"),
            test=test,
            source=check_value(data.get("source", "trained"), str, "source"),
            generation=check_value(data.get("generation", 0), int, "generation"),
            created_at=check_value(data.get("created_at", ""), str, "created_at"),
            updated_at=check_value(data.get("updated_at", ""), str, "updated_at"),
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
    """The record of one run; ``RunStoreError`` when it is missing or damaged (every field is checked)."""
    path = run_dir(run_id) / RUN_FILE
    try:
        info = path.stat()
        size = info.st_size
        if not stat.S_ISREG(info.st_mode):
            raise RunStoreError(f"{path} is damaged: it is not a regular file")
        if size > MAX_RUN_FILE_BYTES:
            raise RunStoreError(f"{path} is damaged: {size / 1e6:,.0f} MB is far more than a run file holds")
        data = json.loads(path.read_text(encoding="utf-8"))
        record = RunRecord.from_dict(data)
    except OSError as err:
        raise RunStoreError(f"cannot read {path}: {err.strerror or err}") from err
    except (ValueError, KeyError, TypeError, ConfigError, RecursionError) as err:
        raise RunStoreError(f"{path} is damaged: {err}") from err
    if record.run_id != run_id:
        raise RunStoreError(f"{path} names another run ({record.run_id})")
    return record


def run_folders() -> list[Path]:
    """Folders under ``runs_dir()`` named like run ids, sorted; ``RunStoreError`` when it cannot be listed."""
    root = runs_dir()
    try:
        if not root.is_dir():
            return []
        return sorted(p for p in root.iterdir() if is_valid_id(p.name))
    except OSError as err:
        raise RunStoreError(
            f"Cannot list the runs in {root}: {err.strerror or err}. Give this user access to it, or set "
            "DIGIT_LAB_HOME to another folder."
        ) from err


def list_runs(owner: str) -> list[RunRecord]:
    """The owner's readable runs, oldest first (damaged ones: ``list_damaged_runs``)."""
    if not is_valid_id(owner):
        return []
    records = []
    for folder in run_folders():
        if not (folder / RUN_FILE).is_file():
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
    """Remove a run's folder; refuses a run that belongs to another owner.

    A damaged run (its run.json unreadable) can be deleted when the owner can still be read from it.
    """
    folder = run_dir(run_id)
    if not folder.exists():
        return
    try:
        run_owner = load_run(run_id).owner
    except RunStoreError:
        run_owner = damaged_owner(run_id)
    if run_owner != owner:
        raise RunStoreError(f"run {run_id} belongs to someone else and was not deleted")
    shutil.rmtree(folder)


@dataclass(frozen=True)
class DamagedRun:
    """A run folder whose run.json cannot be used: what is known of it."""

    run_id: str
    owner: str
    reason: str  # the RunStoreError's message
    has_model: bool  # model.npz exists (it may be readable on its own)


def damaged_owner(run_id: str) -> str | None:
    """The owner id written in a damaged (even cut short) run.json, or None when it cannot be found."""
    try:
        with open(run_dir(run_id) / RUN_FILE, "rb") as handle:
            head = handle.read(4096)  # the owner is written near the top
    except OSError:
        return None
    match = _OWNER_FIELD.search(head)
    return match.group(1).decode() if match else None


def check_damaged(run_id: str) -> DamagedRun | None:
    """None when the run loads; otherwise what is known of it (owner None: not shown to anyone)."""
    try:
        load_run(run_id)
    except RunStoreError as err:
        owner = damaged_owner(run_id)
        if owner is None:
            return None
        return DamagedRun(run_id, owner, str(err), (run_dir(run_id) / MODEL_FILE).is_file())
    return None


def list_damaged_runs(owner: str) -> list[DamagedRun]:
    """The owner's runs whose run.json cannot be read, so they can be shown and deleted."""
    if not is_valid_id(owner):
        return []
    found = []
    for folder in run_folders():
        if (folder / RUN_FILE).is_file():
            damaged = check_damaged(folder.name)
            if damaged is not None and damaged.owner == owner:
                found.append(damaged)
    return found


def next_run_name(names: list[str]) -> str:
    """ "Run N" with N one more than the largest number among ``names``."""
    numbers = [int(m.group(1)) for n in names if (m := re.fullmatch(r"Run (\d+)", n))]
    return f"Run {max(numbers, default=0) + 1}"
