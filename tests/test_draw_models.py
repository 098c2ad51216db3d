"""Model choice helpers of the Draw page: class names, the first choice, short architectures, captions."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.architecture import parse_layers
from nn_core.config import ModelConfig
from nn_core.data.local import load_split, to_float
from nn_core.data.registry import DATASETS
from nn_core.network import build_network
from nn_core.store.model_file import SavedModel, save_model
from ui import model_choices
from ui.draw.models import class_names, initial_key
from ui.model_choices import ModelChoice, compact_architecture
from ui.model_quality import Quality, judge


def test_class_names_follow_the_dataset_and_default_to_digits():
    assert class_names(ModelChoice("run 1", "live", "mnist")) == tuple("0123456789")
    assert class_names(ModelChoice("run 2", "live", "fashion-mnist")) == DATASETS["fashion-mnist"].class_names
    assert class_names(ModelChoice("saved", "file", "")) == tuple("0123456789")


def test_the_first_choice_is_the_remembered_one_else_the_default_model():
    keys = ["default", "live:a1", "file:/m.npz"]
    assert initial_key(keys, None) == "default"
    assert initial_key(keys, "file:/m.npz") == "file:/m.npz"
    assert initial_key(keys, "run:gone") == "default"  # a remembered model that was deleted
    assert initial_key(["live:a1", "file:/m.npz"], None) == "live:a1"
    assert initial_key(keys, "run:a1") == "live:a1"  # a saved run this session holds live


def test_compact_architecture_names_the_layers_that_matter():
    assert (
        compact_architecture(ModelConfig(hidden=(256, 128), activations=("relu", "relu"))) == "784-256-128-10"
    )
    cnn = ModelConfig(layers=parse_layers("conv16x5:linear,bn:relu,maxpool2,dense64,dropout0.5"))
    assert compact_architecture(cnn) == "CNN conv16x5-maxpool2-dense64-10"
    assert compact_architecture(ModelConfig(layers=parse_layers("dense32,bn"))) == "MLP dense32-10"


def test_captions_give_architecture_dataset_and_accuracy_and_mark_bad_models():
    good = ModelChoice("run 2", "live", "fashion-mnist", None, "live:x", "784-32-10", judge(0.85, "test"))
    assert good.caption() == "run 2 · 784-32-10 · Fashion-MNIST · 85.0% test"
    bad = ModelChoice(
        "run 3", "live", "mnist", None, "live:y", "784-32-10", Quality(0.6, "training", "diverged")
    )
    assert bad.caption() == "⚠ run 3 · 784-32-10 · MNIST · diverged (60.0% training)"


@pytest.mark.real_data
def test_a_model_file_is_measured_on_its_test_set_when_it_is_on_disk(mnist_root, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_DATA", str(mnist_root))
    network = build_network(ModelConfig(hidden=(8,), activations=("relu",)), np.random.default_rng(0))
    path = save_model(tmp_path / "m.npz", SavedModel(network))
    measured = model_choices._measured_test_accuracy(str(path), path.stat().st_mtime, "mnist")
    images, labels = load_split("mnist", "test", mnist_root)
    assert measured == pytest.approx(float((network.predict(to_float(images)) == labels).mean()))
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path / "empty"))
    assert model_choices._measured_test_accuracy(str(path), path.stat().st_mtime + 1, "mnist") is None
