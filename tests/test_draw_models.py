"""Model choice helpers of the Draw page: class names by dataset, and the default-model job's guards."""

from __future__ import annotations

import threading

import numpy as np

from nn_core.config import ModelConfig
from nn_core.data.local import DataUnavailableError
from nn_core.data.registry import DATASETS
from nn_core.network import build_network
from nn_core.store.model_file import SavedModel
from ui.draw import models as draw_models
from ui.draw.models import DefaultModelJob, class_names
from ui.model_choices import ModelChoice


def test_class_names_follow_the_dataset_and_default_to_digits():
    assert class_names(ModelChoice("run 1", "live", "mnist")) == tuple("0123456789")
    assert class_names(ModelChoice("run 2", "live", "fashion-mnist")) == DATASETS["fashion-mnist"].class_names
    assert class_names(ModelChoice("saved", "file", "")) == tuple("0123456789")


def test_the_job_trains_once_saves_and_does_not_restart(tmp_path, monkeypatch):
    started, release = threading.Event(), threading.Event()
    calls = []

    def fake_train(progress):
        calls.append(1)
        progress(0.3, "Epoch 1 of 3")
        started.set()
        release.wait(10)
        return SavedModel(build_network(ModelConfig(hidden=(4,)), np.random.default_rng(0)))

    monkeypatch.setattr(draw_models, "train_default_model", fake_train)
    job = DefaultModelJob(tmp_path / "models" / "default-mnist.npz")
    job.start()
    assert started.wait(10)
    job.start()  # already running: no second thread
    assert job.running and job.message == "Epoch 1 of 3" and job.fraction == 0.3
    release.set()
    job.thread.join(10)
    assert job.path.exists() and job.error is None
    job.start()  # the file exists: nothing to do
    assert not job.running and len(calls) == 1


def test_a_failed_training_keeps_its_message_and_saves_nothing(tmp_path, monkeypatch):
    def missing(progress):
        raise DataUnavailableError("MNIST is not on this computer: download it on the home page.")

    monkeypatch.setattr(draw_models, "train_default_model", missing)
    job = DefaultModelJob(tmp_path / "default-mnist.npz")
    job.start()
    job.thread.join(10)
    assert job.error == "MNIST is not on this computer: download it on the home page."
    assert not job.path.exists()

    def broken(progress):
        raise RuntimeError("disk full")

    monkeypatch.setattr(draw_models, "train_default_model", broken)
    job.error = None
    job.start()
    job.thread.join(10)
    assert job.error == "Training the default model failed: disk full"
