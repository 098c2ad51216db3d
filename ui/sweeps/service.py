"""The server-wide run queue and what a page needs to know about a sweep.

The queue (``nn_core.jobs.RunQueue`` over a process pool or a Dask cluster) is one object per
server, shared by every session through ``st.cache_resource``; the runs report through the run
store, so a sweep's state is read from disk (each run file parsed again only when it changed) and
a reload or a restarted server finds it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

from nn_core.jobs.executors import make_executor, max_running
from nn_core.jobs.queue import RunQueue
from nn_core.jobs.runner import request_stop
from nn_core.jobs.sweep import SweepPoint
from nn_core.jobs.sweeps import SWEEP_FORMAT, create_sweep
from nn_core.store.paths import app_home
from nn_core.store.runstore import RUN_FILE, RunRecord, RunStoreError, is_valid_id, load_run, run_dir

FINAL = ("finished", "stopped", "diverged", "failed", "cancelled")


@st.cache_resource(show_spinner=False)
def server_queue() -> RunQueue:
    """The one run queue of this server (its executor starts worker processes on demand)."""
    cap = max_running()
    return RunQueue(make_executor(workers=cap), cap)


@dataclass
class RunState:
    """One sweep run as a page shows it."""

    run_id: str
    settings: dict[str, Any]
    seed: int
    status: str  # "queued", "running" or one of the run store's final statuses
    record: RunRecord | None = None
    ahead: int | None = None  # runs that start before this queued one
    history: list = field(default_factory=list)


def sweeps_dir() -> Path:
    return app_home() / "sweeps"


def start_sweep(owner: str, points: list[SweepPoint]) -> dict[str, Any]:
    """Store the sweep's runs and queue every one of them; returns the sweep record."""
    sweep = create_sweep(points, owner, source="sweep")
    queue = server_queue()
    for run in sweep["runs"]:
        queue.submit(owner, run["run_id"])
    return sweep


def owner_sweeps(owner: str) -> list[dict[str, Any]]:
    """The owner's sweeps on disk, newest first (unreadable files are skipped)."""
    folder = sweeps_dir()
    if not is_valid_id(owner) or not folder.is_dir():
        return []
    sweeps = []
    for path in folder.glob("*.json"):
        try:
            sweep = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(sweep, dict) and sweep.get("format") == SWEEP_FORMAT and sweep.get("owner") == owner:
            sweeps.append(sweep)
    return sorted(sweeps, key=lambda s: s.get("sweep_id", ""), reverse=True)


@st.cache_data(max_entries=512, show_spinner=False)
def _record(run_id: str, mtime_ns: int) -> RunRecord | None:
    try:
        return load_run(run_id)
    except RunStoreError:
        return None


def sweep_state(sweep: dict[str, Any]) -> list[RunState]:
    """Each run of ``sweep`` with its status, place in the queue and history."""
    queue = server_queue()
    states = []
    for run in sweep["runs"]:
        run_id = run["run_id"]
        path = run_dir(run_id) / RUN_FILE
        record = _record(run_id, path.stat().st_mtime_ns) if path.is_file() else None
        ahead = queue.position(run_id)
        if ahead is not None:
            status = "queued"
        elif queue.is_running(run_id):
            status = "running"
        elif record is None:
            status = "failed"
        elif record.status in ("ready", "running", "interrupted") and record.epochs_done == 0:
            status = "cancelled" if record.status == "ready" else "stopped"
        else:
            status = record.status if record.status in FINAL else "stopped"
        states.append(
            RunState(
                run_id, run["settings"], run["seed"], status, record, ahead, record.history if record else []
            )
        )
    return states


def stop_sweep(sweep: dict[str, Any]) -> int:
    """Cancel the queued runs and ask the running ones to stop; returns how many were affected."""
    queue = server_queue()
    return sum(queue.cancel(run["run_id"]) for run in sweep["runs"])


def resume_sweep(sweep: dict[str, Any]) -> int:
    """Queue again every run that ended before its planned epochs (stopped, cancelled, or cut off
    by a server restart); they go on from their last saved epoch. Returns how many were queued."""
    queue = server_queue()
    count = 0
    for state in sweep_state(sweep):
        record = state.record
        unfinished = record is not None and record.epochs_done < record.train_config.epochs
        if state.status in ("stopped", "cancelled") and unfinished:
            queue.submit(sweep["owner"], state.run_id)
            count += 1
    return count


def is_active(states: list[RunState]) -> bool:
    return any(s.status in ("queued", "running") for s in states)


def stop_run(run_id: str) -> None:
    request_stop(run_id)
