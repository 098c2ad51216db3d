"""A sweep on disk: its runs in the run store and one ``sweeps/<id>.json`` that lists them.

``create_sweep`` writes a "ready" run per point (named "Sweep <n>: lr=0.01, batch_size=32") and
the sweep's record; ``run_sweep`` queues them and yields each run's summary as it finishes, with
the varied settings added, so a page or the CLI can follow a sweep and find it again later.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import CancelledError, as_completed
from typing import Any

from nn_core.jobs.queue import RunQueue
from nn_core.jobs.sweep import SweepPoint
from nn_core.store.model_file import write_atomic
from nn_core.store.paths import app_home
from nn_core.store.runstore import RunRecord, new_id, now_iso, save_run

SWEEP_FORMAT = "digit-lab-sweep"


def _describe(settings: dict[str, Any]) -> str:
    def text(value: Any) -> str:
        return (
            "-".join(map(str, value))
            if isinstance(value, tuple)
            else f"{value:g}"
            if isinstance(value, float)
            else str(value)
        )

    return ", ".join(f"{k}={text(v)}" for k, v in settings.items())


def create_sweep(points: list[SweepPoint], owner: str, source: str = "sweep") -> dict[str, Any]:
    """Store one ready run per point (``source`` marks them as a sweep's) and the sweep's record."""
    sweep_id = new_id()
    runs = []
    for i, point in enumerate(points, 1):
        run_id = f"{sweep_id}-{i:03d}"
        name = f"Sweep {sweep_id[-6:]} #{i}: {_describe(point.settings)}" + (
            f", seed {point.seed}"
            if point.seed != points[0].seed or len({p.seed for p in points}) > 1
            else ""
        )
        record = RunRecord(run_id, owner, name, point.model, point.train, source=source, created_at=now_iso())
        save_run(record)
        runs.append({"run_id": run_id, "settings": _jsonable(point.settings), "seed": point.seed})
    sweep = {
        "format": SWEEP_FORMAT,
        "sweep_id": sweep_id,
        "owner": owner,
        "created_at": now_iso(),
        "runs": runs,
    }
    folder = app_home() / "sweeps"
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / f"{sweep_id}.json", json.dumps(sweep, indent=1).encode())
    return sweep


def _jsonable(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}


def run_sweep(sweep: dict[str, Any], queue: RunQueue) -> Iterator[dict[str, Any]]:
    """Queue every run of ``sweep`` and yield ``summary | {"settings", "seed"}`` as each finishes."""
    futures = {queue.submit(sweep["owner"], run["run_id"]): run for run in sweep["runs"]}
    for future in as_completed(futures):
        run = futures[future]
        try:
            result = future.result()
        except CancelledError:
            result = {"run_id": run["run_id"], "status": "cancelled"}
        except Exception as err:  # noqa: BLE001 - a worker that died: reported, the sweep goes on
            result = {"run_id": run["run_id"], "status": "failed", "message": repr(err)}
        yield {**result, "settings": run["settings"], "seed": run["seed"]}


def best_run(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The finished run with the highest best validation accuracy (test accuracy without validation)."""

    def score(r: dict[str, Any]) -> float:
        value = r.get("best_val_acc")
        return value if value is not None else r.get("test_accuracy") or -1.0

    done = [r for r in results if r.get("status") in ("finished", "stopped") and r.get("epochs")]
    return max(done, key=score) if done else None
