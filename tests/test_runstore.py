"""The on-disk run store: round trips, owners kept apart, atomic files, damaged folders skipped."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nn_core.config import ModelConfig, TrainConfig
from nn_core.network import build_network
from nn_core.store import runstore
from nn_core.store.runstore import RunRecord, RunStoreError
from nn_core.train import EpochMetrics


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    return tmp_path


def _record(owner: str = "owner-a", name: str = "Run 1", epochs: int = 2) -> RunRecord:
    history = [
        EpochMetrics(e, 1.0 / e, 0.5 + e / 10, 1.1 / e, 0.4 + e / 10, 0.05, 0.25, 4000.0)
        for e in range(1, epochs + 1)
    ]
    return RunRecord(
        run_id=runstore.new_id(),
        owner=owner,
        name=name,
        model_config=ModelConfig(hidden=(8, 4), activations=("relu", "tanh")),
        train_config=TrainConfig(epochs=5, lr=0.02, seed=7, train_size=2000),
        history=history,
        epoch_ended_at=[1000.0 + e for e in range(epochs)],
        status="paused",
        test={"epoch": epochs, "loss": 0.3, "acc": 0.91},
        created_at=runstore.now_iso(),
    )


def test_round_trip_keeps_every_field_and_the_weights(home):
    record = _record()
    network = build_network(record.model_config, np.random.default_rng(1))
    runstore.save_run(record, network)
    back = runstore.load_run(record.run_id)
    assert back.to_dict() == record.to_dict()
    assert back.best_val_acc() == pytest.approx(0.6)
    saved = runstore.load_run_model(record.run_id)
    for name, value in network.params().items():
        np.testing.assert_array_equal(saved.network.params()[name], value)
    assert saved.history == record.history
    assert (home / "runs" / record.run_id / "run.json").is_file()


def test_saving_leaves_no_temporary_files(home):
    record = _record()
    network = build_network(record.model_config, np.random.default_rng(1))
    for _ in range(3):
        runstore.save_run(record, network)
    assert sorted(p.name for p in (home / "runs" / record.run_id).iterdir()) == ["model.npz", "run.json"]


def test_list_runs_shows_only_the_owners_runs_oldest_first():
    a1, b1, a2 = _record("owner-a", "Run 1"), _record("owner-b", "Run 1"), _record("owner-a", "Run 2")
    a1.created_at, b1.created_at, a2.created_at = (
        "2025-01-01T00:00:01",
        "2025-01-01T00:00:02",
        "2025-01-01T00:00:03",
    )
    for record in (a2, b1, a1):
        runstore.save_run(record)
    assert [r.name for r in runstore.list_runs("owner-a")] == ["Run 1", "Run 2"]
    assert [r.run_id for r in runstore.list_runs("owner-b")] == [b1.run_id]
    assert runstore.list_runs("nobody") == []
    assert runstore.list_runs("../etc") == []


def test_damaged_run_files_are_skipped_and_reported(home):
    good = _record()
    runstore.save_run(good)
    bad = home / "runs" / "20250101-000000-badbad"
    bad.mkdir()
    (bad / "run.json").write_text("{not json")
    other = home / "runs" / "20250101-000000-oldfmt"
    other.mkdir()
    (other / "run.json").write_text(json.dumps({"format": "something-else"}))
    assert [r.run_id for r in runstore.list_runs("owner-a")] == [good.run_id]
    with pytest.raises(RunStoreError, match="damaged"):
        runstore.load_run(bad.name)
    with pytest.raises(RunStoreError, match="not a Digit Lab run"):
        runstore.load_run(other.name)


def test_unknown_status_reads_as_interrupted():
    record = _record()
    data = record.to_dict()
    data["status"] = "exploded"
    assert RunRecord.from_dict(data).status == "interrupted"


def test_delete_run_refuses_another_owners_run(home):
    record = _record("owner-a")
    runstore.save_run(record)
    with pytest.raises(RunStoreError, match="someone else"):
        runstore.delete_run(record.run_id, "owner-b")
    assert (home / "runs" / record.run_id).exists()
    runstore.delete_run(record.run_id, "owner-a")
    assert not (home / "runs" / record.run_id).exists()
    runstore.delete_run(record.run_id, "owner-a")  # already gone: nothing to do


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "ABC-def", "x" * 80, "..", "abc"])
def test_ids_that_could_escape_the_folder_are_refused(bad):
    assert not runstore.is_valid_id(bad)
    with pytest.raises(RunStoreError, match="not a valid run id"):
        runstore.run_dir(bad)


def test_new_ids_are_valid_and_distinct():
    ids = {runstore.new_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(runstore.is_valid_id(i) for i in ids)


def test_next_run_name_counts_past_the_largest_number():
    assert runstore.next_run_name([]) == "Run 1"
    assert runstore.next_run_name(["Run 2", "Run 10", "upload", "Run x"]) == "Run 11"


def test_runs_go_under_digit_lab_home(home):
    assert runstore.run_dir("abcd-1234") == home / "runs" / "abcd-1234"
