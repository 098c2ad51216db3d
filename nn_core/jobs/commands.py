"""Commands to a run training in another process, and its progress back, as small files in the run folder.

The page (or anything else sharing ``DIGIT_LAB_HOME``) writes; the runner reads:

- ``stop``: end training now; the runner looks for it between batches (a few times a second),
  drops the epoch in progress and keeps the last finished one.
- ``commands.json``: ``{"pause": bool, "until": int | null, "lr": float | null}``, read between
  epochs: pause after this epoch, train until that many epochs are done (``+1 epoch``), go on
  with that learning rate. The runner never writes it, so the writer needs no coordination
  with it; the writer clears the commands before it queues the run again.

The runner writes ``progress.json`` (``{"pid", "batch", "batches"}``) during an epoch, which tells a
page where the epoch stands and which process trains the run. Every file is written atomically.
"""

from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import asdict, dataclass, replace
from typing import Any

from nn_core.store.model_file import write_atomic
from nn_core.store.runstore import run_dir

STOP_FILE = "stop"
COMMANDS_FILE = "commands.json"
PROGRESS_FILE = "progress.json"

_WRITE_LOCK = threading.Lock()  # two sessions of one server changing the commands of a run in turn


@dataclass(frozen=True)
class Commands:
    """What the owner asked of a training run, applied by the runner at the next epoch boundary."""

    pause: bool = False  # end after the epoch in progress, status "paused"
    until: int | None = None  # train until this many epochs are done (None: the planned epochs)
    lr: float | None = None  # the learning rate from the next epoch on (None: unchanged)


def request_stop(run_id: str) -> None:
    """Ask the process training ``run_id`` to stop after putting back its last finished epoch."""
    (run_dir(run_id) / STOP_FILE).touch()


def stop_requested(run_id: str) -> bool:
    return (run_dir(run_id) / STOP_FILE).exists()


def _read_json(path: Any) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_commands(run_id: str) -> Commands:
    """The run's commands; a missing or damaged file (or a bad value in it) reads as no command."""
    data = _read_json(run_dir(run_id) / COMMANDS_FILE)
    until, lr = data.get("until"), data.get("lr")
    if not (isinstance(until, int) and not isinstance(until, bool) and until >= 0):
        until = None
    if not (isinstance(lr, int | float) and not isinstance(lr, bool) and math.isfinite(lr) and lr > 0):
        lr = None
    return Commands(pause=data.get("pause") is True, until=until, lr=None if lr is None else float(lr))


def send_commands(run_id: str, **changes: Any) -> Commands:
    """Change some of the run's commands (``pause=True``, ``until=5``, ``lr=0.01``); returns them all."""
    with _WRITE_LOCK:
        commands = replace(read_commands(run_id), **changes)
        write_atomic(run_dir(run_id) / COMMANDS_FILE, json.dumps(asdict(commands)).encode())
    return commands


def clear_commands(run_id: str) -> None:
    """Forget every command and the progress of an earlier training (before queueing the run again)."""
    folder = run_dir(run_id)
    with _WRITE_LOCK:
        for name in (STOP_FILE, COMMANDS_FILE, PROGRESS_FILE):
            (folder / name).unlink(missing_ok=True)


def write_progress(run_id: str, batch: int, batches: int) -> None:
    """Where the epoch in progress stands (called by the runner), with the runner's process id."""
    data = {"pid": os.getpid(), "batch": int(batch), "batches": int(batches)}
    write_atomic(run_dir(run_id) / PROGRESS_FILE, json.dumps(data).encode())


def read_progress(run_id: str) -> tuple[int, int, int | None]:
    """``(batch, batches, pid)`` of the epoch in progress; ``(0, 0, None)`` when none is known."""
    data = _read_json(run_dir(run_id) / PROGRESS_FILE)
    values = [data.get(k) for k in ("batch", "batches", "pid")]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        return 0, 0, None
    return values[0], values[1], values[2]


def end_progress(run_id: str) -> None:
    """The runner is done: no epoch is in progress and no stop request is pending."""
    folder = run_dir(run_id)
    for name in (PROGRESS_FILE, STOP_FILE):
        (folder / name).unlink(missing_ok=True)
