"""The Training playground with runs behind the server-wide queue (AppTest): a queued run shows its
place and can be cancelled; a run whose worker process is killed is shown failed with its epochs."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from nn_core.jobs.commands import read_progress
from nn_core.jobs.executors import make_executor
from nn_core.jobs.queue import RunQueue
from nn_core.store import runstore
from tests.playground_apptest import home, open_playground  # noqa: F401 - home is a fixture
from ui.sweeps import service
from ui.training import registry as reg


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def _wait_for(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.real_data
def test_a_queued_run_shows_how_many_runs_are_ahead_and_can_be_cancelled(mnist_root, monkeypatch):
    release = threading.Event()
    pool = ThreadPoolExecutor(4)
    queue = RunQueue(pool, max_running=1, task=lambda run_id: release.wait(120) and {"run_id": run_id})
    monkeypatch.setattr(service, "server_queue", lambda: queue)
    try:
        at = open_playground({"n": "1000", "epochs": "1", "hidden": "16"})
        for _ in range(4):
            at.button(key="train_start").click().run()
            assert not at.exception, at.exception
        runs = sorted(reg.owner_workers(at.session_state["train_owner"]), key=lambda w: w.record.name)
        assert [w.view().status for w in runs] == ["running", "queued", "queued", "queued"]
        assert [w.view().ahead for w in runs] == [None, 0, 1, 2]
        shown = _texts(at.markdown)  # the newest run is selected
        assert "Queued: 2 runs ahead of this one." in shown
        assert at.button(key="train_resume").disabled and at.button(key="train_step").disabled
        at.button(key="train_cancel").click().run()
        assert not at.exception, at.exception
        assert runs[3].view().status == "ready" and not runs[3].is_running()
        assert "Ready: press Start to train." in _texts(at.markdown)
        assert [w.view().ahead for w in runs[1:3]] == [0, 1]  # the others keep their places
        at.selectbox(key="train_selected").set_value(runs[1].record.run_id).run()
        assert "Queued: this run starts as soon as a place is free." in _texts(at.markdown)
    finally:
        release.set()
        _wait_for(lambda: queue.counts() == (0, 0), timeout=30)
        pool.shutdown(wait=True)


@pytest.mark.real_data
def test_a_killed_worker_is_shown_as_failed_with_its_last_epoch(mnist_root, monkeypatch):
    queue = RunQueue(make_executor("local"), max_running=2)
    monkeypatch.setattr(service, "server_queue", lambda: queue)
    at = open_playground({"n": "2000", "epochs": "300", "hidden": "16", "batch": "16"})
    at.button(key="train_start").click().run()
    (worker,) = reg.owner_workers(at.session_state["train_owner"])
    run_id = worker.record.run_id
    _wait_for(lambda: runstore.load_run(run_id).epochs_done >= 1)
    _, _, pid = read_progress(run_id)
    os.kill(pid, signal.SIGKILL)
    worker.join(60)
    at.run()
    assert not at.exception, at.exception
    view = worker.view()
    assert view.status == "failed" and view.epochs_done >= 1
    errors = _texts(at.error)
    assert (
        "ended unexpectedly" in errors and f"its last finished epoch ({view.epochs_done}) is kept" in errors
    )
    assert not at.button(key="train_resume").disabled  # Resume goes on from that epoch
    assert len(runstore.load_run_model(run_id).history) == view.epochs_done
