"""Model files: round trip, and every kind of bad file refused with a clear message."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from nn_core.config import ModelConfig, TrainConfig
from nn_core.network import build_network
from nn_core.store.model_file import ModelFileError, SavedModel, load_model, model_to_bytes, save_model
from nn_core.train import EpochMetrics


def _model() -> SavedModel:
    config = ModelConfig(hidden=(16, 8), activations=("relu", "tanh"), dropout=0.1)
    network = build_network(config, np.random.default_rng(3))
    record = EpochMetrics(1, 0.5, 0.8, 0.6, 0.75, 0.05, 1.5, 40000.0)
    return SavedModel(network, TrainConfig(epochs=3, lr=0.02), [record], "fashion-mnist", 0.75)


def _rewrite(data: bytes, **replace: np.ndarray) -> bytes:
    """The same .npz with some entries replaced (or added)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays.update(replace)
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def test_round_trip_keeps_weights_configs_history_and_dataset(tmp_path):
    model = _model()
    path = save_model(tmp_path / "sub" / "m.npz", model)
    loaded = load_model(path)
    for name, value in model.network.params().items():
        np.testing.assert_array_equal(loaded.network.params()[name], value)
        assert loaded.network.params()[name].dtype == np.float32
    assert loaded.network.config == model.network.config
    assert loaded.train_config == model.train_config
    assert loaded.history == model.history
    assert (loaded.dataset, loaded.best_val_acc) == ("fashion-mnist", 0.75)
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    np.testing.assert_array_equal(loaded.network.predict_proba(x), model.network.predict_proba(x))
    assert load_model(path.read_bytes()).network.config == model.network.config
    assert [p.name for p in path.parent.iterdir()] == ["m.npz"]  # no temporary file left


def test_file_is_readable_without_pickle():
    with np.load(io.BytesIO(model_to_bytes(_model())), allow_pickle=False) as npz:
        assert str(npz["format"]) == "digit-lab-model"
        assert json.loads(str(npz["meta"]))["dataset"] == "fashion-mnist"


def _bad_files() -> dict[str, tuple[bytes, str]]:
    good = model_to_bytes(_model())
    single = io.BytesIO()
    np.save(single, np.zeros(3))
    foreign = io.BytesIO()
    np.savez(foreign, weights=np.zeros(3))
    pickled = io.BytesIO()
    np.savez(
        pickled,
        format=np.array("digit-lab-model"),
        version=np.array(1),
        meta=np.array([{"a": 1}], dtype=object),
    )
    not_npz = io.BytesIO()
    with zipfile.ZipFile(not_npz, "w") as zf:
        zf.writestr("readme.txt", "hello")
    return {
        "text": (b"hello, I am not a model", "not a Digit Lab model"),
        "empty": (b"", "not a Digit Lab model"),
        "truncated": (good[: len(good) // 2], "truncated or damaged"),
        "single array": (single.getvalue(), "not a Digit Lab model"),
        "foreign npz": (foreign.getvalue(), "no 'digit-lab-model' marker"),
        "plain zip": (not_npz.getvalue(), "no 'digit-lab-model' marker"),
        "pickled meta": (pickled.getvalue(), "damaged or not a Digit Lab model"),
        "newer version": (_rewrite(good, version=np.array(7)), "version 7"),
        "wrong shape": (_rewrite(good, **{"param/0.W": np.zeros((784, 99), np.float32)}), "do not fit"),
        "missing weight": (_drop(good, "param/3.b"), "do not fit"),
        "nan weights": (_rewrite(good, **{"param/0.b": np.full(16, np.nan, np.float32)}), "NaN or infinite"),
        "bad settings": (
            _rewrite(good, meta=np.array(json.dumps({"model_config": {"hidden": [0]}}))),
            "cannot use",
        ),
    }


def _drop(data: bytes, key: str) -> bytes:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files if k != key}
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


@pytest.mark.parametrize("kind", list(_bad_files()))
def test_bad_files_are_refused_clearly(kind, tmp_path):
    data, expected = _bad_files()[kind]
    with pytest.raises(ModelFileError, match=expected):
        load_model(data)
    path = tmp_path / "upload.npz"
    path.write_bytes(data)
    with pytest.raises(ModelFileError, match=str(path)):
        load_model(path)


def test_missing_file_is_a_model_file_error(tmp_path):
    with pytest.raises(ModelFileError, match="cannot open"):
        load_model(tmp_path / "nope.npz")
