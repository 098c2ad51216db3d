"""Damaged runs on disk: the playground shows them as damaged (with Delete, and the model file when it
still loads) instead of crashing on them or dropping them without a word."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn_core.config import ModelConfig, TrainConfig
from nn_core.network import build_network
from nn_core.store import runstore
from ui.training import registry as reg

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "app_pages/training.py"
OWNER = "0123456789abcdef"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    reg.forget_all()
    yield tmp_path
    reg.forget_all()


def _saved_run(name: str = "Run 1", owner: str = OWNER) -> runstore.RunRecord:
    config = ModelConfig(hidden=(8,))
    record = runstore.RunRecord(
        runstore.new_id(), owner, name, config, TrainConfig(epochs=2), created_at=runstore.now_iso()
    )
    runstore.save_run(record, build_network(config, np.random.default_rng(0)))
    return record


def _run_file(record: runstore.RunRecord) -> Path:
    return runstore.run_dir(record.run_id) / runstore.RUN_FILE


def _open() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["owner"] = OWNER
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def _damage_lr(record: runstore.RunRecord) -> None:
    path = _run_file(record)
    data = json.loads(path.read_text())
    data["train_config"]["lr"] = "abc"
    path.write_text(json.dumps(data))


def _truncate(record: runstore.RunRecord) -> None:
    path = _run_file(record)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])


@pytest.mark.parametrize("damage", [_damage_lr, _truncate], ids=["lr-text", "truncated"])
def test_a_damaged_run_is_shown_with_delete_and_its_model(damage):
    good = _saved_run("Run 1")
    bad = _saved_run("Run 2")
    damage(bad)
    at = _open()
    errors = _texts(at.error)
    assert "A run is damaged" in errors and str(_run_file(bad)) in errors
    assert "lr" in errors or "damaged" in errors
    # the good run is still listed, selectable and summarised
    assert at.selectbox(key="train_selected").value == good.run_id
    assert at.get("download_button")  # the damaged run's model still loads: it can be kept
    keys = [b.key for b in at.get("download_button")]
    assert f"train_download_damaged_{bad.run_id}" in keys
    at.button(key=f"train_delete_damaged_{bad.run_id}").click().run()
    assert not at.exception, at.exception
    assert not runstore.run_dir(bad.run_id).exists()
    assert runstore.run_dir(good.run_id).exists()
    assert "A run is damaged" not in _texts(at.error)
    assert "damaged run was deleted" in _texts(at.success)


def test_a_damaged_run_with_a_damaged_model_says_so():
    bad = _saved_run()
    _truncate(bad)
    model = runstore.model_path(bad.run_id)
    model.write_bytes(model.read_bytes()[:100])
    at = _open()
    assert "A run is damaged" in _texts(at.error)
    assert "model file is damaged too" in _texts(at.caption)
    assert f"train_download_damaged_{bad.run_id}" not in [b.key for b in at.get("download_button")]


def test_another_owners_damaged_run_is_not_shown_nor_deletable():
    other = _saved_run(owner="fedcba9876543210")
    _truncate(other)
    at = _open()
    assert "A run is damaged" not in _texts(at.error)
    with pytest.raises(runstore.RunStoreError, match="someone else"):
        runstore.delete_run(other.run_id, OWNER)
    assert runstore.run_dir(other.run_id).exists()


def test_a_run_whose_history_cannot_be_drawn_shows_as_damaged(monkeypatch):
    """A failure while drawing one run's panel is contained: the page and the other runs stay."""
    _saved_run("Run 1")
    from ui.training import live

    def broken(view):
        raise TypeError("unsupported format string passed to NoneType.__format__")

    monkeypatch.setattr(live, "_status", broken)
    at = _open()
    assert "is damaged and cannot be shown" in _texts(at.error)


def test_a_failing_tab_is_contained_and_the_files_tab_still_offers_delete(monkeypatch):
    good = _saved_run("Run 1")
    from ui.training import runs

    def broken(workers):
        raise ValueError("Unknown format code 'g' for object of type 'str'")

    monkeypatch.setattr(runs, "render_compare", broken)
    at = _open()
    assert "The comparison could not be shown" in _texts(at.error)
    assert at.button(key="train_delete") is not None
    at.checkbox(key=f"train_confirm_delete_{good.run_id}").check().run()
    at.button(key="train_delete").click().run()
    assert not at.exception, at.exception
    assert not runstore.run_dir(good.run_id).exists()


def test_a_runs_folder_that_cannot_be_listed_is_said_not_crashed_on(monkeypatch):
    _saved_run()
    real_iterdir = Path.iterdir
    root = runstore.runs_dir()

    def iterdir(self):
        if self == root:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    at = _open()
    errors = _texts(at.error)
    assert f"Cannot list the runs in {root}" in errors and "DIGIT_LAB_HOME" in errors
    at.switch_page("app_pages/draw.py").run()
    assert not at.exception, at.exception
