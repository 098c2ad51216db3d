"""The server-wide registry of training runs, keyed by run id and guarded by a lock.

Run handles (``RunWorker``) live here rather than in a session, so a reload or a second tab of
the same owner finds a run again, and training (in a worker process) goes on while the user is
on another page. Runs on disk that the registry does not know yet (after an app restart) get a
handle the first time their owner's runs are listed. Owners never see each other's runs: every
lookup checks the owner. The server holds no trainer or training data: workers load their own.
"""

from __future__ import annotations

import dataclasses
import threading

from nn_core.config import ConfigError, ModelConfig, TrainConfig
from nn_core.data.registry import DATASETS
from nn_core.experiment import TrainingData
from nn_core.store.model_file import SavedModel
from nn_core.store.runstore import (
    RUN_FILE,
    DamagedRun,
    RunRecord,
    RunStoreError,
    check_damaged,
    delete_run,
    is_valid_id,
    load_run,
    new_id,
    next_run_name,
    now_iso,
    run_folders,
)
from nn_core.store.runstore import run_dir as _run_dir
from ui.training.worker import RunWorker

_NAMING_LOCK = threading.Lock()  # naming and registering a run is one step: two tabs never both get "Run 1"


def new_run(
    owner: str, name: str | None, model_config: ModelConfig, train_config: TrainConfig, data: TrainingData
) -> RunWorker:
    """Create, save and register a run at epoch 0 (``ConfigError`` for an invalid config).

    With ``name`` None the run is called "Run N", N one more than the owner's largest so far; the
    name is chosen and the run registered under one lock, so concurrent sessions of one owner
    (two tabs pressing Start together) get different names.
    """
    with _NAMING_LOCK:
        if name is None:
            name = next_run_name([w.record.name for w in owner_workers(owner)])
        worker = RunWorker.create(owner, name, model_config, train_config, data)
        register(worker)
    return worker


def import_model(owner: str, name: str | None, saved: SavedModel, file_name: str) -> RunWorker:
    """A run made from an uploaded model file (its history kept; it can train further).

    ``name`` None: the next "Run N" of the owner, chosen atomically as in ``new_run``.
    """
    with _NAMING_LOCK:
        if name is None:
            name = next_run_name([w.record.name for w in owner_workers(owner)])
        return _import_model(owner, name, saved, file_name)


def _import_model(owner: str, name: str, saved: SavedModel, file_name: str) -> RunWorker:
    config = saved.network.config
    if config.n_inputs != 784 or config.n_classes != 10:
        raise ConfigError(
            f"this model takes {config.n_inputs} inputs and gives {config.n_classes} classes; "
            "Digit Lab's datasets need 784 inputs (28x28) and 10 classes"
        )
    if saved.dataset not in DATASETS:
        raise ConfigError(f"the model was trained on {saved.dataset!r}, which Digit Lab does not have")
    train = saved.train_config or TrainConfig(dataset=saved.dataset)
    train = dataclasses.replace(train, dataset=saved.dataset, epochs=max(train.epochs, len(saved.history), 1))
    record = RunRecord(
        new_id(),
        owner,
        name,
        config,
        train,
        history=list(saved.history),
        message=f"Uploaded from {file_name}.",
        status="finished" if len(saved.history) >= train.epochs else "paused" if saved.history else "ready",
        source="uploaded",
        created_at=now_iso(),
    )
    worker = RunWorker(record, snapshot=saved.network)
    worker._save(with_model=True)
    register(worker)
    return worker


# ----- the server-wide registry -------------------------------------------------------------------
_REGISTRY: dict[str, RunWorker] = {}
_REGISTRY_LOCK = threading.Lock()


def register(worker: RunWorker) -> None:
    with _REGISTRY_LOCK:
        _REGISTRY[worker.run_id] = worker


def get_worker(run_id: str, owner: str) -> RunWorker | None:
    """The worker of ``run_id`` if it belongs to ``owner`` (loaded from disk when not yet known)."""
    with _REGISTRY_LOCK:
        worker = _REGISTRY.get(run_id)
    if worker is None and is_valid_id(run_id):
        try:
            worker = RunWorker.from_record(load_run(run_id))
        except RunStoreError:
            return None
        with _REGISTRY_LOCK:
            worker = _REGISTRY.setdefault(run_id, worker)
    return worker if worker is not None and worker.owner == owner else None


def owner_workers(owner: str) -> list[RunWorker]:
    """Every run of ``owner``: those in memory and those on disk, oldest first."""
    if is_valid_id(owner):
        with _REGISTRY_LOCK:
            known = set(_REGISTRY)
        for folder in run_folders():  # RunStoreError when the runs folder cannot be listed
            if folder.name not in known and (folder / RUN_FILE).is_file():
                get_worker(folder.name, owner)  # parses each run file once per process
    with _REGISTRY_LOCK:  # a sweep's runs train in worker processes and are shown by the sweep section
        workers = [w for w in _REGISTRY.values() if w.owner == owner and w.source != "sweep"]
    return sorted(workers, key=lambda w: (w.created_at, w.run_id))


_DAMAGED: dict[str, tuple[tuple[int, int], DamagedRun | None]] = {}  # run id -> (file stat, result)


def owner_damaged(owner: str) -> list[DamagedRun]:
    """The owner's runs on disk whose run.json cannot be read (each file checked once per change)."""
    if not is_valid_id(owner):
        return []
    with _REGISTRY_LOCK:
        known = set(_REGISTRY)
    try:
        folders = run_folders()
    except RunStoreError:  # owner_workers reports it
        return []
    found = []
    for folder in folders:
        if folder.name in known:
            continue
        try:
            stat = (folder / RUN_FILE).stat()
        except OSError:
            continue
        key = (stat.st_mtime_ns, stat.st_size)
        cached = _DAMAGED.get(folder.name)
        if cached is None or cached[0] != key:
            cached = _DAMAGED[folder.name] = (key, check_damaged(folder.name))
        if cached[1] is not None and cached[1].owner == owner:
            found.append(cached[1])
    return found


def remove_damaged(run_id: str, owner: str) -> None:
    """Delete a damaged run's folder (only the owner's own)."""
    delete_run(run_id, owner)
    _DAMAGED.pop(run_id, None)


def owner_active(owner: str) -> bool:
    """True while any run of ``owner`` is training (the registry only: cheap enough to poll)."""
    with _REGISTRY_LOCK:
        workers = [w for w in _REGISTRY.values() if w.owner == owner]
    return any(w.is_running() for w in workers)


def remove_run(run_id: str, owner: str) -> None:
    """Stop a run, delete its folder and forget it (only the owner's own runs)."""
    worker = get_worker(run_id, owner)
    if worker is None:
        return
    worker.stop()
    worker.join(timeout=120)
    if _run_dir(run_id).exists():
        delete_run(run_id, owner)
    with _REGISTRY_LOCK:
        _REGISTRY.pop(run_id, None)


def forget_all() -> None:
    """Empty the registry (tests simulate an app restart with it); training runs are stopped."""
    with _REGISTRY_LOCK:
        workers = list(_REGISTRY.values())
        _REGISTRY.clear()
    for worker in workers:
        if worker.is_running():
            worker.stop()
            worker.join(timeout=60)
