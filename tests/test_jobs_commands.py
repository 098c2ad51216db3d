"""The command files between a page and a worker process (``nn_core.jobs.commands``), exercised on
real worker processes that train a tiny synthetic dataset: a new learning rate, pause, "+1 epoch"
and stop applied between epochs, and a worker killed with SIGKILL leaving its run failed with its
finished epochs kept."""

from __future__ import annotations

import dataclasses
import os
import signal
import time

import numpy as np
import pytest

from nn_core.config import ModelConfig, TrainConfig
from nn_core.jobs.commands import (
    COMMANDS_FILE,
    Commands,
    clear_commands,
    read_commands,
    read_progress,
    request_stop,
    send_commands,
)
from nn_core.store.runstore import RunRecord, load_run, load_run_model, run_dir, save_run
from tests.jobs_synthetic import synthetic_queue


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    return tmp_path


def stored(run_id: str, epochs: int, batch_size: int = 10, lr: float = 0.05) -> RunRecord:
    train = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, optimizer="momentum")
    record = RunRecord(run_id, "owner-1", "Run 1", ModelConfig(hidden=(16,)), train)
    save_run(record)
    return record


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def epochs_on_disk(run_id: str) -> int:
    return load_run(run_id).epochs_done


def test_commands_round_trip_and_bad_files_read_as_no_command(home):
    stored("run-0101", epochs=1)
    assert read_commands("run-0101") == Commands()
    send_commands("run-0101", until=4)
    assert send_commands("run-0101", lr=0.01) == Commands(pause=False, until=4, lr=0.01)
    assert read_commands("run-0101") == Commands(until=4, lr=0.01)
    (run_dir("run-0101") / COMMANDS_FILE).write_text('{"pause": "yes", "until": -1, "lr": "fast"}')
    assert read_commands("run-0101") == Commands()
    (run_dir("run-0101") / COMMANDS_FILE).write_text("{not json")
    assert read_commands("run-0101") == Commands()
    request_stop("run-0101")
    clear_commands("run-0101")
    assert not (run_dir("run-0101") / "stop").exists() and read_commands("run-0101") == Commands()
    assert read_progress("run-0101") == (0, 0, None)


def test_lr_pause_until_and_stop_reach_a_worker_process_between_epochs(home):
    queue = synthetic_queue(home, max_running=1)
    run = "run-0102"
    stored(run, epochs=400, lr=0.05)

    # a new learning rate: the epochs after the command use it, the earlier ones keep theirs
    future = queue.submit("owner-1", run)
    wait_for(lambda: epochs_on_disk(run) >= 1)
    send_commands(run, lr=0.01)
    wait_for(lambda: any(r.lr == pytest.approx(0.01) for r in load_run(run).history))
    # pause: the worker ends after the epoch in progress, every epoch saved
    send_commands(run, pause=True)
    summary = future.result(60)
    record = load_run(run)
    assert summary["status"] == record.status == "paused" and 2 <= record.epochs_done < 400
    assert record.history[0].lr == pytest.approx(0.05) and record.history[-1].lr == pytest.approx(0.01)
    assert record.train_config.lr == pytest.approx(0.01)  # kept for the next time it trains
    assert len(load_run_model(run).history) == record.epochs_done
    assert read_progress(run) == (0, 0, None)  # no epoch in progress any more

    # +1 epoch: a new worker trains exactly one more epoch, then pauses again
    done = record.epochs_done
    clear_commands(run)
    send_commands(run, until=done + 1)
    assert queue.submit("owner-1", run).result(60)["status"] == "paused"
    assert [r.epoch for r in load_run(run).history] == list(range(1, done + 2))

    # stop: the epoch in progress is dropped, the last full epoch kept
    clear_commands(run)
    future = queue.submit("owner-1", run)
    wait_for(lambda: epochs_on_disk(run) >= done + 2)
    request_stop(run)
    assert future.result(60)["status"] == "stopped"
    record = load_run(run)
    assert done + 2 <= record.epochs_done < 400 and record.test["epoch"] == record.epochs_done
    assert len(load_run_model(run).history) == record.epochs_done
    assert not (run_dir(run) / "stop").exists()  # the request is used up


def test_a_killed_worker_leaves_its_run_failed_with_its_epochs_and_others_go_on(home):
    queue = synthetic_queue(home, max_running=2)
    stored("run-0103", epochs=400)
    stored("run-0104", epochs=3)
    doomed = queue.submit("owner-1", "run-0103")
    wait_for(lambda: epochs_on_disk("run-0103") >= 2)
    _, _, pid = read_progress("run-0103")
    assert pid is not None and pid != os.getpid()
    other = queue.submit("owner-2", "run-0104")  # starts beside it, in a process of its own
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(Exception, match="terminated abruptly|process"):
        doomed.result(60)
    record = load_run("run-0103")
    assert record.status == "failed" and record.epochs_done >= 2
    assert "ended unexpectedly" in record.message and f"({record.epochs_done})" in record.message
    assert len(load_run_model("run-0103").history) == record.epochs_done  # weights of that epoch
    assert other.result(60)["status"] == "finished"  # the other run was not taken down with it
    assert queue.counts() == (0, 0)
    # Resume goes on from the last finished epoch
    kept = record.epochs_done
    record.train_config = dataclasses.replace(record.train_config, epochs=kept + 1)
    save_run(record)
    assert queue.submit("owner-1", "run-0103").result(60)["status"] == "finished"
    assert [r.epoch for r in load_run("run-0103").history] == list(range(1, kept + 2))


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_a_paused_run_goes_on_as_if_it_had_never_stopped(home, optimizer):
    from nn_core.jobs.runner import train_with_data
    from tests.jobs_synthetic import synthetic_data

    def final_weights(run_id: str, pause_at: int | None) -> dict:
        train = TrainConfig(epochs=4, batch_size=32, lr=0.01, optimizer=optimizer)
        save_run(RunRecord(run_id, "owner-1", run_id, ModelConfig(hidden=(16,)), train))
        if pause_at is not None:
            send_commands(run_id, until=pause_at)
            assert train_with_data(run_id, synthetic_data)["status"] == "paused"
            clear_commands(run_id)  # Resume: a new worker, as the page starts one
        assert train_with_data(run_id, synthetic_data)["status"] == "finished"
        return load_run_model(run_id).network.params()

    straight, resumed = final_weights("run-0201", None), final_weights("run-0202", 2)
    for name, value in straight.items():  # optimizer moments, step counts and shuffling carried over
        assert (resumed[name] == value).all(), name


def test_weights_saved_just_before_a_kill_bring_their_epoch_into_the_record(home):
    """model.npz is written before run.json: a kill between the two leaves the weights an epoch ahead."""
    from nn_core.jobs.runner import mark_failed
    from nn_core.network import build_network
    from nn_core.store.model_file import SavedModel, save_model
    from nn_core.store.runstore import model_path
    from nn_core.train import EpochMetrics

    record = stored("run-0105", epochs=10)
    record.status = "running"
    history = [EpochMetrics(e, 1.0 / e, 0.5, 1.0, 0.5, 0.05, 1.0, 300.0) for e in (1, 2, 3)]
    record.history, record.epoch_ended_at = history[:2], [time.time()] * 2
    save_run(record)
    network = build_network(record.model_config, np.random.default_rng(0))
    save_model(model_path("run-0105"), SavedModel(network, record.train_config, history))
    mark_failed("run-0105", RuntimeError("killed"))
    after = load_run("run-0105")
    assert after.status == "failed" and after.history == history and len(after.epoch_ended_at) == 3
    assert "last finished epoch (3)" in after.message
