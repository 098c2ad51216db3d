"""The memory estimate against what a run really allocates, the budget, and the refusals (CLI, playground)."""

from __future__ import annotations

import dataclasses
import re
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn_core import memory
from nn_core.architecture import parse_layers
from nn_core.cli.main import main
from nn_core.config import ModelConfig, TrainConfig
from nn_core.experiment import make_trainer, split_training_data
from nn_core.memory import MemoryBudgetError, budget_bytes, check_run, estimate_run
from ui.training import registry as reg

APP = str(Path(__file__).resolve().parents[1] / "app.py")
# The estimate is an upper bound: measured peaks lie between ESTIMATE_OVER_MEASURED[0] and [1] times it.
ESTIMATE_OVER_MEASURED = (1.0, 1.8)
BIG = ",".join(["4096"] * 8)


def _quiet() -> None:
    """Stop training threads other tests may have left, so the traced peak is this run's alone."""
    reg.forget_all()
    for thread in threading.enumerate():
        if thread.name.startswith(("train-", "default-model")):
            thread.join(120)


def _measured_peak(model: ModelConfig, train: TrainConfig, n: int) -> tuple[int, int]:
    """(tracemalloc peak of a one-epoch run with evaluation, bytes of the raw uint8 images it used)."""
    _quiet()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    test_images = rng.integers(0, 256, (memory.N_TEST, 28, 28), dtype=np.uint8)
    test_labels = rng.integers(0, 10, memory.N_TEST).astype(np.uint8)
    tracemalloc.start()
    try:
        data = split_training_data(images, labels, test_images, test_labels, train)
        trainer = make_trainer(model, train, data)
        trainer.run_epoch()
        good = trainer.network.get_weights()  # the copy the CLI and the playground keep
        trainer.evaluate(data.X_val, data.y_val)
        trainer.evaluate(data.X_test, data.y_test)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del good
    return peak, images.nbytes + test_images.nbytes


@pytest.mark.parametrize(
    ("hidden", "batch", "optimizer", "augment", "dropout"),
    [
        ((256, 128), 256, "adam", True, 0.0),
        ((1024, 1024), 2000, "adam", False, 0.0),
        ((512,), 500, "sgd", False, 0.2),
    ],
)
def test_the_estimate_bounds_the_measured_peak(hidden, batch, optimizer, augment, dropout):
    n = 2500
    model = ModelConfig(hidden=hidden, activations=("relu",) * len(hidden), dropout=dropout)
    train = TrainConfig(epochs=1, batch_size=batch, optimizer=optimizer, augment=augment, lr=0.01)
    peak, raw = _measured_peak(model, train, n)
    est = estimate_run(model, train, n)
    # the estimate counts a whole dataset's raw images (70,000); the measurement used n + 10,000
    comparable = est.total - memory.N_RAW * model.n_inputs + raw
    low, high = ESTIMATE_OVER_MEASURED
    assert low * (peak + raw) <= comparable <= high * (peak + raw), (comparable / 1e6, (peak + raw) / 1e6)


@pytest.mark.parametrize(
    ("layers", "batch", "optimizer", "augment"),
    [
        ("conv16x5,maxpool2,conv32x5,maxpool2,dense128", 128, "adam", False),
        ("conv8x3same:linear,bn:relu,maxpool2,conv16x3,avgpool2,dropout0.2,dense64", 256, "momentum", True),
    ],
)
def test_the_estimate_bounds_the_measured_peak_of_a_cnn(layers, batch, optimizer, augment):
    n = 1500
    model = ModelConfig(hidden=(), activations=(), layers=parse_layers(layers))
    train = TrainConfig(epochs=1, batch_size=batch, optimizer=optimizer, augment=augment, lr=0.01)
    peak, raw = _measured_peak(model, train, n)
    est = estimate_run(model, train, n)
    comparable = est.total - memory.N_RAW * model.n_inputs + raw
    low, high = ESTIMATE_OVER_MEASURED
    assert low * (peak + raw) <= comparable <= high * (peak + raw), (comparable / 1e6, (peak + raw) / 1e6)
    big = dataclasses.replace(model, layers=parse_layers("conv128x3same,conv128x3same"))
    assert estimate_run(big, train, n).activations > 5 * est.activations  # 903k unfolded values per image
    with pytest.raises(MemoryBudgetError, match=rf"batch size {batch} needs ~"):
        check_run(big, train, n, 10**8)
    assert memory._network_text(model).startswith("the network conv")


def test_the_estimate_grows_with_what_costs_memory():
    model, train = ModelConfig(hidden=(256,)), TrainConfig(batch_size=64)
    base = estimate_run(model, train, 60_000).total
    assert estimate_run(model, TrainConfig(batch_size=4096), 60_000).total > base
    assert (
        estimate_run(ModelConfig(hidden=(1024, 1024), activations=("relu",) * 2), train, 60_000).total > base
    )
    assert estimate_run(model, TrainConfig(batch_size=64, optimizer="adam"), 60_000).total > base
    assert estimate_run(model, TrainConfig(batch_size=64, augment=True), 60_000).total > base
    assert estimate_run(model, train, 10_000).total < base


def test_budget_from_the_environment_meminfo_or_fallback(monkeypatch):
    monkeypatch.setenv(memory.ENV_VAR, "1500")
    assert budget_bytes() == 1500 * 1024**2
    for bad in ("lots", "-5", "nan"):
        monkeypatch.setenv(memory.ENV_VAR, bad)
        with pytest.raises(memory.ConfigError, match=memory.ENV_VAR):
            budget_bytes()
    monkeypatch.delenv(memory.ENV_VAR)
    monkeypatch.setattr(memory, "_mem_available", lambda: 8 * 1024**3)
    assert budget_bytes() == int(8 * 1024**3 * memory.AVAILABLE_SHARE)
    monkeypatch.setattr(memory, "_mem_available", lambda: None)
    assert budget_bytes() == memory.FALLBACK_BYTES
    monkeypatch.undo()
    assert memory._mem_available() is None or memory._mem_available() > 0


def test_the_refusal_names_the_estimate_the_budget_and_what_to_change():
    model = ModelConfig(hidden=(4096,) * 8, activations=("relu",) * 8)
    train = TrainConfig(batch_size=60_000)
    with pytest.raises(MemoryBudgetError) as caught:
        check_run(model, train, 60_000, budget=6 * 1024**3)
    text = str(caught.value)
    assert "batch size 60000 needs ~" in text and "GB" in text and "budget is 6.4 GB" in text
    assert "use a batch of" in text and "DIGIT_LAB_MEMORY_BUDGET" in text
    suggested = int(re.search(r"use a batch of (\d+)", text).group(1))
    check_run(model, TrainConfig(batch_size=suggested), 60_000, budget=6 * 1024**3)  # the advice fits
    check_run(ModelConfig(), TrainConfig(), 60_000, budget=6 * 1024**3)  # an ordinary run passes


def test_cli_refuses_before_loading_anything(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    monkeypatch.setenv(memory.ENV_VAR, "2000")

    def no_loading(*args, **kwargs):
        raise AssertionError("data was loaded or a network built before the memory check")

    monkeypatch.setattr("nn_core.cli.train.load_training_data", no_loading)
    monkeypatch.setattr("nn_core.cli.train.make_trainer", no_loading)
    status = main(["train", "--hidden", BIG, "--batch-size", "60000", "--train-size", "60000"])
    err = capsys.readouterr().err
    assert status == 2
    assert (
        "batch size 60000 needs ~" in err and "budget is 2.1 GB" in err and "DIGIT_LAB_MEMORY_BUDGET" in err
    )
    assert "Traceback" not in err


def test_playground_refuses_a_shared_link_that_needs_too_much(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    monkeypatch.setenv(memory.ENV_VAR, "6000")
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in {
        "hidden": BIG.replace(",", "-"),
        "act": "relu",
        "batch": "60000",
        "n": "60000",
    }.items():
        at.query_params[key] = value
    at.switch_page("app_pages/training.py").run()
    assert not at.exception, at.exception
    errors = "\n".join(e.value for e in at.error)
    assert "cannot be trained" in errors and "batch size 60000 needs ~" in errors
    assert "budget is 6.3 GB" in errors and "use a batch of" in errors
    assert at.button(key="train_start").disabled
    reg.forget_all()


def test_a_run_that_fails_frees_its_trainer_and_keeps_its_last_epoch(tmp_path, monkeypatch):
    import gc
    import weakref
    from concurrent.futures import ThreadPoolExecutor

    from nn_core.experiment import TrainingData
    from nn_core.jobs import runner
    from nn_core.jobs.queue import RunQueue
    from nn_core.train import Trainer
    from ui.training import worker as tw

    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    rng = np.random.default_rng(0)
    X = rng.random((300, 784), dtype=np.float32)
    y = rng.integers(0, 10, 300)
    data = TrainingData(X[:200], y[:200], X[200:250], y[200:250], X[250:], y[250:])
    original, made = Trainer.run_epoch, []

    def run_epoch(self, on_batch=None):
        if self.epoch == 1:
            raise MemoryError
        return original(self, on_batch)

    def make_trainer(*args):
        trainer = original_make(*args)
        made.append(weakref.ref(trainer))
        return trainer

    original_make = runner.make_trainer
    monkeypatch.setattr(Trainer, "run_epoch", run_epoch)
    monkeypatch.setattr(runner, "make_trainer", make_trainer)
    with ThreadPoolExecutor(1) as pool:  # the runner in this process, so that it can be watched
        queue = RunQueue(pool, 1, task=lambda run_id: runner.train_with_data(run_id, lambda c: data))
        monkeypatch.setattr(tw, "run_queue", lambda: queue)
        worker = reg.new_run(
            "owner-mem", "Run 1", ModelConfig(hidden=(16,)), TrainConfig(epochs=3, batch_size=32), data
        )
        worker.resume(lambda config: data)
        worker.join(30)
    view = worker.view()
    assert view.status == "failed" and "ran out of memory" in view.message
    assert view.epochs_done == 1 and worker.snapshot() is not None
    assert len(made) == 1
    gc.collect()
    assert made[0]() is None, "the failed run's trainer (and its arrays) is still referenced"
    reg.forget_all()
