"""Tests for nn_core.jobs: sweep expansion, the fair run queue, the stored-run runner, the sweep CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from nn_core.config import ConfigError, ModelConfig, TrainConfig
from nn_core.jobs.queue import RunQueue
from nn_core.jobs.runner import request_stop, train_stored_run
from nn_core.jobs.sweep import MAX_RUNS, expand, parse_vary
from nn_core.store.runstore import RunRecord, load_run, save_run

ROOT = Path(__file__).resolve().parents[1]


# --- sweeps -----------------------------------------------------------------------------------


def test_grid_times_seeds_gives_every_combination_once():
    varies = [parse_vary("lr=0.01,0.03,0.1"), parse_vary("batch-size=32,128")]
    points = expand(ModelConfig(), TrainConfig(seed=5), varies, seeds=3)
    assert len(points) == 3 * 2 * 3
    combos = {(p.settings["lr"], p.settings["batch_size"], p.seed) for p in points}
    assert len(combos) == 18 and {p.seed for p in points} == {5, 6, 7}
    assert all(
        p.train.lr == p.settings["lr"] and p.train.batch_size == p.settings["batch_size"] for p in points
    )


def test_log_range_is_log_spaced_and_random_runs_stay_inside_it():
    grid = expand(ModelConfig(), TrainConfig(), [parse_vary("lr=1e-4..1e-1")])
    assert [p.settings["lr"] for p in grid] == [0.0001, 0.001, 0.01, 0.1]
    rand = expand(ModelConfig(), TrainConfig(), [parse_vary("lr=1e-4..1e-1")], random_runs=20)
    values = np.array([p.settings["lr"] for p in rand])
    assert len(values) == 20 and values.min() >= 1e-4 and values.max() <= 0.1
    assert np.log10(values).std() > 0.5  # spread over the decades, not clustered near the top


def test_hidden_widths_vary_with_one_activation_per_layer():
    points = expand(ModelConfig(), TrainConfig(), [parse_vary("hidden=128,256-128")])
    assert [p.model.hidden for p in points] == [(128,), (256, 128)]
    assert points[1].model.activations == ("relu", "relu")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lr", "NAME=VALUES"),
        ("colour=red", "cannot vary"),
        ("epochs=three", "not a valid value"),
        ("lr=0..1", "log scale"),
        ("lr=0.5..0.1", "low < high"),
        ("optimizer=sgd..adam", "numeric"),
    ],
)
def test_bad_vary_specs_say_what_is_wrong(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_vary(text)


def test_sweeps_that_are_too_big_or_invalid_are_refused():
    with pytest.raises(ConfigError, match="at most"):
        expand(ModelConfig(), TrainConfig(), [parse_vary(f"seed={','.join(map(str, range(MAX_RUNS + 1)))}")])
    with pytest.raises(ConfigError, match="learning rate"):
        expand(ModelConfig(), TrainConfig(), [parse_vary("lr=0.1,500")])
    with pytest.raises(ConfigError, match="at most 3"):
        expand(
            ModelConfig(),
            TrainConfig(),
            [parse_vary(v) for v in ("lr=1", "epochs=1", "seed=1", "momentum=0.5")],
        )


# --- the queue --------------------------------------------------------------------------------


class Gate:
    """A fake training task that blocks until released, recording the order runs started in."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release: dict[str, threading.Event] = {}
        self.lock = threading.Lock()

    def __call__(self, run_id: str) -> dict:
        with self.lock:
            self.started.append(run_id)
            event = self.release.setdefault(run_id, threading.Event())
        event.wait(10)
        return {"run_id": run_id}

    def finish(self, run_id: str) -> None:
        with self.lock:
            self.release.setdefault(run_id, threading.Event()).set()


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_queue_caps_running_runs_and_takes_owners_in_turn():
    gate = Gate()
    with ThreadPoolExecutor(4) as pool:
        queue = RunQueue(pool, max_running=1, task=gate)
        futures = [queue.submit("alice", f"a{i}") for i in range(4)]  # a sweep
        futures.append(queue.submit("bob", "b0"))  # then a single run
        wait_for(lambda: gate.started == ["a0"])
        assert queue.counts() == (1, 4)
        assert [queue.position(r) for r in ("a1", "b0", "a2", "a3")] == [0, 1, 2, 3]
        for expected in ("a0", "a1", "b0", "a2", "a3"):
            wait_for(lambda expected=expected: gate.started[-1] == expected)
            gate.finish(expected)
        assert [f.result(5)["run_id"] for f in futures] == ["a0", "a1", "a2", "a3", "b0"]
    assert gate.started == ["a0", "a1", "b0", "a2", "a3"]  # bob's run did not wait for alice's sweep


def test_cancelling_a_waiting_run_removes_it():
    gate = Gate()
    with ThreadPoolExecutor(2) as pool:
        queue = RunQueue(pool, max_running=1, task=gate)
        queue.submit("alice", "a0")
        waiting = queue.submit("alice", "a1")
        queue.submit("bob", "b0")
        assert queue.cancel("a1") and waiting.cancelled()
        assert queue.position("b0") == 0 and queue.position("a1") is None
        assert not queue.cancel("unknown")
        for run in ("a0", "b0"):
            wait_for(lambda run=run: run in gate.started)
            gate.finish(run)
    assert "a1" not in gate.started


def test_the_same_run_cannot_be_queued_twice():
    gate = Gate()
    with ThreadPoolExecutor(1) as pool:
        queue = RunQueue(pool, max_running=1, task=gate)
        queue.submit("alice", "a0")
        with pytest.raises(ValueError, match="already"):
            queue.submit("alice", "a0")
        gate.finish("a0")


class Inline(ThreadPoolExecutor):
    """An executor that runs each task before ``submit`` returns (its future is already done)."""

    def submit(self, fn, /, *args, **kwargs):
        future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_runs_that_end_before_the_queue_watches_them_do_not_block_it():
    queue = RunQueue(Inline(), max_running=1, task=lambda run_id: {"run_id": run_id})
    futures = [queue.submit(owner, f"{owner}{i}") for i in range(3) for owner in ("a", "b")]
    assert [f.result(5)["run_id"] for f in futures] == ["a0", "b0", "a1", "b1", "a2", "b2"]
    assert queue.counts() == (0, 0)


def test_an_executor_that_refuses_a_run_fails_that_run_only():
    pool = ThreadPoolExecutor(1)
    pool.shutdown()
    queue = RunQueue(pool, max_running=1, task=lambda run_id: {"run_id": run_id})
    with pytest.raises(RuntimeError, match="shutdown"):
        queue.submit("a", "a0").result(5)
    assert queue.counts() == (0, 0)


# --- the runner, on real data -----------------------------------------------------------------


def stored_run(run_id: str, epochs: int = 2, train_size: int = 1000, **changes) -> RunRecord:
    train = TrainConfig(
        epochs=epochs, train_size=train_size, batch_size=64, optimizer="momentum", lr=0.05, **changes
    )
    record = RunRecord(run_id, "owner-1", "Run 1", ModelConfig(hidden=(32,), activations=("relu",)), train)
    save_run(record)
    return record


def test_runner_trains_a_stored_run_and_saves_every_epoch(mnist_root, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    stored_run("run-0001", epochs=2)
    summary = train_stored_run("run-0001")
    record = load_run("run-0001")
    assert summary["status"] == record.status == "finished" and record.epochs_done == 2
    assert summary["test_accuracy"] == record.test["acc"] > 0.5
    assert (tmp_path / "runs" / "run-0001" / "model.npz").is_file()


def test_runner_resumes_a_run_with_finished_epochs(mnist_root, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    stored_run("run-0002", epochs=1)
    train_stored_run("run-0002")
    record = load_run("run-0002")
    record.train_config = TrainConfig(**{**record.train_config.to_dict(), "epochs": 3})
    save_run(record)
    train_stored_run("run-0002")
    resumed = load_run("run-0002")
    assert [r.epoch for r in resumed.history] == [1, 2, 3] and resumed.status == "finished"


def test_a_stop_request_keeps_the_finished_epochs(mnist_root, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    stored_run("run-0003", epochs=500, train_size=3000)
    run_file = tmp_path / "runs" / "run-0003" / "run.json"

    def stop_after_the_first_epoch() -> None:
        wait_for(lambda: json.loads(run_file.read_text())["history"], timeout=240)
        request_stop("run-0003")

    threading.Thread(target=stop_after_the_first_epoch, daemon=True).start()
    summary = train_stored_run("run-0003")
    record = load_run("run-0003")
    assert summary["status"] == "stopped" and 0 < record.epochs_done < 500
    assert not (tmp_path / "runs" / "run-0003" / "stop").exists()  # the request is used up


def test_sigterm_stops_a_worker_process_with_its_finished_epochs(mnist_root, tmp_path):
    env = {**os.environ, "DIGIT_LAB_HOME": str(tmp_path), "DIGIT_LAB_DATA": str(mnist_root)}
    code = (
        "from nn_core.config import ModelConfig, TrainConfig\n"
        "from nn_core.store.runstore import RunRecord, save_run\n"
        "train = TrainConfig(epochs=200, train_size=3000, batch_size=64, lr=0.05)\n"
        "save_run(RunRecord('run-0004', 'owner-1', 'Run 1', ModelConfig(hidden=(32,), activations=('relu',)), train))\n"
        "from nn_core.jobs.runner import train_stored_run; print(train_stored_run('run-0004')['status'], flush=True)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    run_file = tmp_path / "runs" / "run-0004" / "run.json"
    wait_for(lambda: run_file.is_file() and json.loads(run_file.read_text())["history"], timeout=240)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    record = json.loads(run_file.read_text())
    assert proc.returncode == 0 and out.strip() == "stopped"
    assert record["status"] == "stopped" and len(record["history"]) >= 1


# --- the CLI, through local processes and through a Dask cluster -------------------------------


def run_cli(args: list[str], home: Path, data: Path) -> list[dict]:
    env = {**os.environ, "DIGIT_LAB_HOME": str(home), "DIGIT_LAB_DATA": str(data)}
    out = subprocess.run(
        [sys.executable, "-m", "nn_core", "sweep", *args, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


@pytest.mark.slow
def test_sweep_cli_runs_every_combination_in_worker_processes(mnist_root, tmp_path):
    lines = run_cli(
        [
            "--vary",
            "lr=0.02,0.2",
            "--vary",
            "batch-size=32,128",
            "--train-size",
            "1500",
            "--val-fraction",
            "0.1",
            "--epochs",
            "1",
            "--max-runs",
            "2",
        ],
        tmp_path,
        mnist_root,
    )
    runs, final = lines[:-1], lines[-1]
    assert sorted((r["settings"]["lr"], r["settings"]["batch_size"]) for r in runs) == [
        (0.02, 32),
        (0.02, 128),
        (0.2, 32),
        (0.2, 128),
    ]
    assert all(r["status"] == "finished" and r["test_accuracy"] > 0.3 for r in runs)
    best = max(runs, key=lambda r: r["best_val_acc"])
    assert final["best"]["run_id"] == best["run_id"]
    assert len(list((tmp_path / "runs").iterdir())) == 4 and len(list((tmp_path / "sweeps").iterdir())) == 1


@pytest.mark.slow
def test_sweep_runs_on_a_dask_cluster_of_two_workers(mnist_root, tmp_path):
    distributed = (
        pytest.importorskip("distributed") if not os.environ.get("CI") else __import__("distributed")
    )
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        lines = run_cli(
            [
                "--vary",
                "lr=0.05,0.2",
                "--train-size",
                "1500",
                "--epochs",
                "1",
                "--executor",
                f"dask://{address}",
            ],
            tmp_path,
            mnist_root,
        )
        worker_pids = {w.pid for w in cluster.workers.values() if hasattr(w, "pid")}
    runs = lines[:-1]
    assert sorted(r["settings"]["lr"] for r in runs) == [0.05, 0.2]
    assert all(r["status"] == "finished" for r in runs) and lines[-1]["best"] is not None
    assert len(worker_pids) == 2
