"""The sweep section of the Training playground under AppTest: planning, bad values, a queued sweep."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nn_core.jobs.queue import RunQueue
from ui.sweeps import service
from ui.training import registry as reg

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "app_pages/training.py"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A server queue with one place, held by a run that waits until the test ends."""
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    release = threading.Event()
    pool = ThreadPoolExecutor(1)
    held = RunQueue(pool, max_running=1, task=lambda run_id: release.wait())
    monkeypatch.setattr(service, "server_queue", lambda: held)
    yield tmp_path
    reg.forget_all()
    release.set()
    pool.shutdown(wait=True, cancel_futures=True)


def _open() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def test_the_planner_counts_the_runs_and_refuses_bad_values():
    at = _open()
    assert any(h.value == "Sweeps" for h in at.subheader)
    assert any("6 runs of" in c.value for c in at.caption)  # lr x batch size: 3 x 2
    at.text_input(key="sweep_values_lr").set_value("0.1,banana").run()
    assert any("not a valid value" in e.value for e in at.error)
    assert at.button(key="sweep_start").disabled


def test_a_started_sweep_is_listed_with_queue_places(home):
    at = _open()
    at.text_input(key="sweep_values_lr").set_value("0.05,0.1").run()
    at.text_input(key="sweep_values_batch_size").set_value("64").run()
    at.button(key="sweep_start").click().run()
    assert not at.exception, at.exception
    assert any("Sweep started: 2 runs queued" in s.value for s in at.success)
    table = at.table[0].value
    assert list(table["status"]) == ["running: epoch 0 done", "queued: next"]
    assert len(list((home / "sweeps").iterdir())) == 1
    assert (
        reg.owner_workers(
            at.query_params["owner"][0]
            if isinstance(at.query_params["owner"], list)
            else at.query_params["owner"]
        )
        == []
    )
