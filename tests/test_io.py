"""Model files: round trip, and every kind of bad file refused with a clear message."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nn_core.architecture import parse_layers
from nn_core.config import ModelConfig, TrainConfig
from nn_core.network import build_network
from nn_core.store.model_file import (
    VERSION,
    ModelFileError,
    SavedModel,
    load_model,
    model_to_bytes,
    save_model,
)
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


DATA = Path(__file__).parent / "data"


def _cnn_model() -> SavedModel:
    config = ModelConfig(
        hidden=(), activations=(), layers=parse_layers("conv4x5:linear,bn:relu,maxpool2,dropout0.2,dense16")
    )
    network = build_network(config, np.random.default_rng(3))
    x = np.random.default_rng(1).random((32, 784), dtype=np.float32)
    for _ in range(3):
        network.forward(x, training=True)  # moves the batch-norm running statistics
    return SavedModel(network, TrainConfig(optimizer="adam", lr=0.001), [], "mnist", None)


def test_cnn_round_trip_keeps_layers_conv_weights_and_batchnorm_statistics(tmp_path):
    model = _cnn_model()
    path = save_model(tmp_path / "cnn.npz", model)
    with np.load(path, allow_pickle=False) as npz:
        assert int(npz["version"]) == VERSION == 2
        meta = json.loads(str(npz["meta"]))
        assert [d["kind"] for d in meta["model_config"]["layers"]] == [
            "conv",
            "batchnorm",
            "maxpool",
            "dropout",
            "dense",
        ]
        assert npz["param/0.W"].shape == (5, 5, 1, 4)
        assert set(k for k in npz.files if k.startswith("state/")) == {"state/1.mean", "state/1.var"}
    loaded = load_model(path)
    assert loaded.network.config == model.network.config
    for name, value in {**model.network.params(), **model.network.state()}.items():
        np.testing.assert_array_equal(loaded.network.get_weights()[name], value)
    assert np.abs(loaded.network.state()["1.mean"]).max() > 0  # not the initial zeros
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    np.testing.assert_array_equal(loaded.network.predict_proba(x), model.network.predict_proba(x))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"param/0.W": np.zeros((3, 3, 1, 4), np.float32)},
            r"do not fit its architecture conv4x5:linear-bn:relu-maxpool2-dropout0.2-dense16-10 "
            r"\(parameter 0.W is float32 of shape \(3, 3, 1, 4\), expected float32 of shape \(5, 5, 1, 4\)\)",
        ),
        (
            {"state/1.var": np.ones(5, np.float32)},
            r"parameter 1.var is float32 of shape \(5,\), expected float32 of shape \(4,\)",
        ),
        ({"state/9.mean": np.ones(4, np.float32)}, "do not fit"),
    ],
)
def test_cnn_files_whose_weights_do_not_fit_their_specs_are_refused(change, expected):
    with pytest.raises(ModelFileError, match=expected):
        load_model(_rewrite(model_to_bytes(_cnn_model()), **change))


def test_cnn_file_without_batchnorm_statistics_is_refused():
    data = _drop(_drop(model_to_bytes(_cnn_model()), "state/1.mean"), "state/1.var")
    with pytest.raises(ModelFileError, match="lacks the batch-norm statistics 1.mean, 1.var"):
        load_model(data)


def test_version_1_files_still_load():
    """tests/data/model_v1.npz was saved by the code before layer specs (format version 1): a
    784-8-10 tanh MLP from build_network(..., default_rng(3))."""
    path = DATA / "model_v1.npz"
    with np.load(path, allow_pickle=False) as npz:
        assert int(npz["version"]) == 1 and "layers" not in json.loads(str(npz["meta"]))["model_config"]
    loaded = load_model(path)
    config = ModelConfig(hidden=(8,), activations=("tanh",))
    assert loaded.network.config == config and loaded.network.state() == {}
    assert loaded.train_config == TrainConfig(epochs=1) and loaded.best_val_acc == 0.85
    expected = build_network(config, np.random.default_rng(3))  # same seed, same weights
    x = np.linspace(0, 1, 784, dtype=np.float32)
    np.testing.assert_allclose(loaded.network.predict_proba(x), expected.predict_proba(x), rtol=1e-6)
    assert model_to_bytes(loaded) != path.read_bytes()  # saving it again writes version 2
    assert load_model(model_to_bytes(loaded)).network.config == config
