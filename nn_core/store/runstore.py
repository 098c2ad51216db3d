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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nn_core.config import ConfigError
from nn_core.network import Network
from nn_core.store.model_file import SavedModel, load_model, save_model, write_atomic
from nn_core.store.paths import runs_dir
from nn_core.store.run_record import STATUSES as STATUSES  # re-exported: the record has its own module
from nn_core.store.run_record import RunRecord as RunRecord
from nn_core.store.run_record import RunStatus as RunStatus
from nn_core.store.run_record import RunStoreError as RunStoreError

RUN_FILE = "run.json"
MODEL_FILE = "model.npz"
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{3,63}$")
_OWNER_FIELD = re.compile(rb'"owner"\s*:\s*"([a-z0-9][a-z0-9-]{3,63})"')
MAX_RUN_FILE_BYTES = 64 * 1024**2  # 10,000 epochs of history take ~3 MB


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
