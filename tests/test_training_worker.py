"""Playground runs training in worker processes: state transitions, saving each epoch, reset,
divergence, owners, restarts. The runs go through a queue of real worker processes that train on a
small synthetic dataset (``tests.jobs_synthetic``)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from nn_core.config import ConfigError, ModelConfig, TrainConfig
from nn_core.experiment import TrainingData, new_network
from nn_core.store import runstore
from tests.jobs_synthetic import synthetic_data, synthetic_queue
from ui.training import registry as reg
from ui.training import worker as tw


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    queue = synthetic_queue(tmp_path)
    monkeypatch.setattr(tw, "run_queue", lambda: queue)
    yield tmp_path
    reg.forget_all()


@pytest.fixture(scope="module")
def data() -> TrainingData:
    """The synthetic problem the worker processes train on (labels: argmax of a random projection)."""
    return synthetic_data()


MODEL = ModelConfig(hidden=(16,))


def _make(data, owner="owner-a", name="Run 1", **train) -> tw.RunWorker:
    config = TrainConfig(**{"epochs": 3, "batch_size": 32, "lr": 0.05, **train})
    return reg.new_run(owner, name, MODEL, config, data)


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_run_trains_to_its_planned_epochs_and_saves_each(data):
    worker = _make(data)
    fn = lambda config: data  # noqa: E731
    assert worker.view().status == "ready"
    assert worker.resume(fn) is None
    worker.join(30)
    view = worker.view()
    assert view.status == "finished"
    assert [r.epoch for r in view.history] == [1, 2, 3]
    assert len(view.epoch_ended_at) == 3 and view.epoch_ended_at == tuple(sorted(view.epoch_ended_at))
    assert view.test is not None and view.test["epoch"] == 3 and 0 <= view.test["acc"] <= 1
    on_disk = runstore.load_run(view.run_id)
    assert on_disk.status == "finished" and len(on_disk.history) == 3
    saved = runstore.load_run_model(view.run_id).network
    for name, value in worker.snapshot().params().items():
        np.testing.assert_array_equal(saved.params()[name], value)
    assert "planned epochs" in worker.resume(fn)


def test_plus_one_epoch_trains_one_epoch_at_a_time_even_past_the_plan(data):
    worker, fn = _make(data, epochs=2), (lambda c: data)
    for expected_status in ("paused", "finished", "finished"):
        before = worker.view().epochs_done
        assert worker.step(fn) is None
        worker.join(30)
        view = worker.view()
        assert view.epochs_done == before + 1
        assert view.status == expected_status
        assert len(runstore.load_run(view.run_id).history) == before + 1
    assert worker.view().train_config.epochs == 3  # the plan grew with the extra epoch


def test_pause_waits_for_the_epoch_end_and_resume_finishes(data):
    worker, fn = _make(data, epochs=60, batch_size=10), (lambda c: data)
    worker.resume(fn)
    _wait_for(lambda: worker.view().epochs_done >= 1)
    worker.pause()
    assert worker.view().pausing
    worker.join(30)
    paused = worker.view()
    assert paused.status == "paused" and 1 <= paused.epochs_done < 60
    assert runstore.load_run(paused.run_id).status == "paused"
    worker.resume(fn)
    worker.join(300)  # 60 short epochs; generous for a loaded machine
    assert worker.view().status == "finished" and worker.view().epochs_done == 60


def test_stop_ends_mid_epoch_with_the_last_full_epochs_weights(data):
    worker, fn = _make(data, epochs=50, batch_size=1), (lambda c: data)
    worker.resume(fn)
    _wait_for(lambda: worker.view().epochs_done >= 1 and worker.progress[0] > 20)
    worker.stop()
    worker.join(30)
    view = worker.view()
    assert view.status == "stopped" and view.epochs_done < 50
    saved = runstore.load_run_model(view.run_id)
    assert len(saved.history) == view.epochs_done  # the weights are those of the last full epoch
    for name, value in worker.snapshot().params().items():
        np.testing.assert_array_equal(value, saved.network.params()[name])
    assert view.test is not None and view.test["epoch"] == view.epochs_done


def test_stop_on_an_idle_run_marks_it_stopped(data):
    worker = _make(data)
    worker.stop()
    assert worker.view().status == "stopped"
    assert runstore.load_run(worker.view().run_id).status == "stopped"


def test_a_new_learning_rate_applies_from_the_next_epoch(data):
    worker, fn = _make(data, epochs=3, lr=0.05), (lambda c: data)
    worker.step(fn)
    worker.join(30)
    worker.set_lr(0.01)
    worker.step(fn)
    worker.join(30)
    history = worker.view().history
    assert history[0].lr == pytest.approx(0.05) and history[1].lr == pytest.approx(0.01)
    assert runstore.load_run(worker.view().run_id).train_config.lr == pytest.approx(0.01)
    with pytest.raises(ConfigError, match="learning rate"):
        worker.set_lr(-1.0)


def test_reset_gives_the_same_initial_weights_as_a_new_run_with_that_seed(data):
    worker, fn = _make(data, seed=5), (lambda c: data)
    initial = {k: v.copy() for k, v in worker.snapshot().params().items()}
    worker.resume(fn)
    worker.join(30)
    assert any(not np.array_equal(initial[k], v) for k, v in worker.snapshot().params().items())
    worker.reset(fn)
    view = worker.view()
    assert view.status == "ready" and view.epochs_done == 0 and view.generation == 1 and view.test is None
    fresh = new_network(MODEL, view.train_config).params()
    for name, value in worker.snapshot().params().items():
        np.testing.assert_array_equal(value, initial[name])
        np.testing.assert_array_equal(value, fresh[name])
    assert runstore.load_run(view.run_id).history == []


def test_divergence_is_explained_and_keeps_the_last_good_weights(data):
    worker, fn = (
        _make(data, epochs=6, batch_size=100, optimizer="sgd", lr=10.0, weight_decay=1.0),
        (lambda c: data),
    )
    worker.resume(fn)
    worker.join(30)
    view = worker.view()
    assert view.status == "diverged"
    assert "too high" in view.message and "try" in view.message
    assert all(np.isfinite(p).all() for p in worker.snapshot().params().values())
    assert view.can_resume
    worker.set_lr(0.01)  # the advice, followed
    worker.resume(fn)
    worker.join(30)
    assert worker.view().status == "finished"


def test_the_snapshot_follows_the_weights_saved_after_each_epoch(data):
    worker, fn = _make(data, epochs=2), (lambda c: data)
    initial = worker.snapshot()
    worker.step(fn)
    worker.join(30)
    after_one = worker.snapshot()
    assert after_one is not initial
    assert any(not np.array_equal(initial.params()[k], v) for k, v in after_one.params().items())
    assert worker.snapshot() is after_one  # read again only when the file changed
    saved = runstore.load_run_model(worker.record.run_id).network
    for name, value in after_one.params().items():
        np.testing.assert_array_equal(saved.params()[name], value)


def test_owners_never_see_each_others_runs(data):
    a = _make(data, owner="owner-a")
    b = _make(data, owner="owner-b")
    assert [w.record.run_id for w in reg.owner_workers("owner-a")] == [a.record.run_id]
    assert reg.get_worker(b.record.run_id, "owner-a") is None
    reg.remove_run(b.record.run_id, "owner-a")  # not theirs: nothing happens
    assert runstore.load_run(b.record.run_id).owner == "owner-b"
    reg.remove_run(a.record.run_id, "owner-a")
    assert reg.owner_workers("owner-a") == []
    assert [w.record.run_id for w in reg.owner_workers("owner-b")] == [b.record.run_id]


def test_after_a_restart_runs_are_listed_and_an_interrupted_run_resumes(data):
    worker, fn = _make(data, epochs=4), (lambda c: data)
    worker.step(fn)
    worker.join(30)
    record = runstore.load_run(worker.record.run_id)
    record.status = "running"  # as if the app died mid-run
    runstore.save_run(record)
    reg.forget_all()
    (found,) = reg.owner_workers("owner-a")
    assert found is not worker and found.view().status == "interrupted"
    assert found.snapshot() is not None
    found.resume(fn)
    found.join(30)
    view = found.view()
    assert view.status == "finished" and [r.epoch for r in view.history] == [1, 2, 3, 4]


def test_an_uploaded_model_becomes_a_run_that_can_train_further(data):
    from nn_core.store.model_file import SavedModel, load_model, model_to_bytes

    source = _make(data, epochs=2)
    source.resume(lambda c: data)
    source.join(30)
    saved = load_model(
        model_to_bytes(SavedModel(source.snapshot(), source.record.train_config, list(source.record.history)))
    )
    worker = reg.import_model("owner-b", "Run 1", saved, "mine.npz")
    view = worker.view()
    assert (
        view.owner == "owner-b" and view.source == "uploaded" and view.status == "finished"
    )  # 2 of 2 epochs
    assert view.epochs_done == 2 and "mine.npz" in view.message
    for name, value in source.snapshot().params().items():
        np.testing.assert_array_equal(worker.snapshot().params()[name], value)
    assert runstore.load_run(view.run_id).source == "uploaded"
    worker.step(lambda c: data)
    worker.join(30)
    assert [r.epoch for r in worker.view().history] == [1, 2, 3]


def test_a_model_of_the_wrong_shape_is_refused_with_a_reason():
    from nn_core.network import build_network
    from nn_core.store.model_file import SavedModel

    odd = build_network(ModelConfig(n_inputs=100, hidden=(4,)), np.random.default_rng(0))
    with pytest.raises(ConfigError, match="784 inputs"):
        reg.import_model("owner-a", "Run 1", SavedModel(odd), "odd.npz")
    with pytest.raises(ConfigError, match="does not have"):
        reg.import_model(
            "owner-a",
            "Run 1",
            SavedModel(build_network(MODEL, np.random.default_rng(0)), dataset="cifar"),
            "c.npz",
        )
    assert reg.owner_workers("owner-a") == []


def test_a_failed_save_is_reported_and_the_run_goes_on(data, monkeypatch):
    worker, fn = _make(data, epochs=2), (lambda c: data)

    def refuse(record, network=None):
        raise runstore.RunStoreError("cannot save run: disk full")

    monkeypatch.setattr(tw, "save_run", refuse)
    worker.set_lr(0.02)  # an idle run is changed by the server, which could not save it
    assert "disk full" in worker.view().save_error
    monkeypatch.setattr(tw, "save_run", runstore.save_run)  # the disk has room again
    worker.resume(fn)
    worker.join(30)
    view = worker.view()
    assert view.status == "finished" and view.epochs_done == 2


def test_two_tabs_of_one_owner_starting_together_get_different_run_names(data, monkeypatch):
    # make the window between choosing a name and registering the run wide, as on a busy server
    create = tw.RunWorker.create.__func__

    def slow_create(cls, *args, **kwargs):
        time.sleep(0.05)
        return create(cls, *args, **kwargs)

    monkeypatch.setattr(tw.RunWorker, "create", classmethod(slow_create))
    config = TrainConfig(epochs=1, batch_size=32)
    threads = [
        threading.Thread(target=reg.new_run, args=("owner-a", None, MODEL, config, data)) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    names = sorted(w.record.name for w in reg.owner_workers("owner-a"))
    assert names == ["Run 1", "Run 2", "Run 3", "Run 4"]
    assert reg.new_run("owner-b", None, MODEL, config, data).record.name == "Run 1"  # per owner


def test_worker_processes_run_at_a_lower_priority_than_the_pages():
    import os

    from nn_core.jobs.executors import TRAINING_NICENESS, make_executor

    before = os.getpriority(os.PRIO_PROCESS, 0)
    nice = make_executor("local").submit(os.getpriority, os.PRIO_PROCESS, 0).result(60)
    assert nice >= min(TRAINING_NICENESS, 19) and nice >= before
    assert os.getpriority(os.PRIO_PROCESS, 0) == before  # the server is untouched
