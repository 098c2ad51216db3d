"""Tests of ``nn_core.export``: ONNX run by onnxruntime and the plain-NumPy zip's ``predict.py`` both
give what the engine gives, on a network trained on real MNIST and on small random networks."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from nn_core.config import ModelConfig, TrainConfig
from nn_core.data.local import load_split, to_float
from nn_core.data.registry import DATASETS
from nn_core.export import ExportError, export_bytes, predict_script, to_numpy_zip, to_onnx
from nn_core.export import onnx as onnx_export
from nn_core.network import build_network
from nn_core.store.model_file import SavedModel, save_model
from nn_core.train import train
from tests.exportcheck import TOLERANCE, max_difference, run_onnx, script_and_cli, twenty_images


@pytest.fixture
def ort():
    """onnxruntime (requirements-export.txt, part of requirements-dev.txt); ONNX tests skip without it."""
    pytest.importorskip("onnx")
    return pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def mnist_model(mnist_root):
    """An MLP (784-64-32-10, relu then tanh) trained for one epoch on 20,000 real MNIST images."""
    images, labels = load_split("mnist", "train", mnist_root)
    config = ModelConfig(hidden=(64, 32), activations=("relu", "tanh"))
    network = build_network(config, np.random.default_rng(0))
    settings = TrainConfig(epochs=1, batch_size=64, optimizer="nesterov", lr=0.1, seed=0)
    history = list(train(network, settings, to_float(images[:20_000]), labels[:20_000]))
    assert history[-1].train_acc > 0.85
    return network


@pytest.fixture(scope="module")
def mnist_test(mnist_root):
    return load_split("mnist", "test", mnist_root)


@pytest.mark.real_data
def test_onnx_matches_the_engine_on_1000_mnist_test_images(ort, mnist_model, mnist_test):
    pixels = to_float(mnist_test[0][:1000], flatten=False)  # (1000, 28, 28)
    expected = mnist_model.predict_proba(pixels)
    got = run_onnx(to_onnx(mnist_model), pixels)
    assert got.shape == (1000, 10) and got.dtype == np.float32
    diff = float(np.abs(got - expected).max())
    print(f"max abs probability difference, ONNX vs nn_core, 1000 MNIST test images: {diff:.2e}")
    assert diff <= TOLERANCE
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()
    assert (got.argmax(axis=1) == mnist_test[1][:1000]).mean() > 0.85


def random_network(activations: tuple[str, ...], output: str = "softmax", dropout: float = 0.0):
    loss = "cross_entropy" if output == "softmax" else "mse"
    config = ModelConfig(
        hidden=(24,) * len(activations),
        activations=activations,
        output=output,
        loss=loss,
        dropout=dropout,
        leaky_slope=0.2,
        init="xavier",
    )
    return build_network(config, np.random.default_rng(len(activations)))


@pytest.mark.parametrize(
    ("activations", "output"),
    [
        (("relu", "leaky_relu", "sigmoid", "tanh"), "softmax"),
        (("relu", "leaky_relu", "sigmoid", "tanh"), "sigmoid"),
        ((), "softmax"),
    ],
)
def test_onnx_handles_every_activation_dropout_and_both_outputs(ort, activations, output):
    network = random_network(activations, output, dropout=0.3)
    pixels = np.random.default_rng(1).random((64, 28, 28), dtype=np.float32)
    got = run_onnx(to_onnx(network), pixels)
    np.testing.assert_allclose(got, network.predict_proba(pixels), rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)


def test_onnx_model_states_its_contract():
    onnx = pytest.importorskip("onnx")
    names = DATASETS["fashion-mnist"].class_names
    model = onnx.load_model_from_string(to_onnx(random_network(("relu",)), names))
    onnx.checker.check_model(model, full_check=True)
    (given,), (out,) = model.graph.input, model.graph.output
    dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]  # noqa: E731
    assert given.name == "pixels" and dims(given) == ["N", 28, 28]
    assert given.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert out.name == "probabilities" and dims(out) == ["N", 10]
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props["class_names"]) == list(names)
    assert {node.op_type for node in model.graph.node} == {"Flatten", "MatMul", "Add", "Relu", "Softmax"}


def test_onnx_export_says_how_to_install_onnx_when_it_is_missing(monkeypatch):
    monkeypatch.setattr(onnx_export, "onnx_available", lambda: False)
    with pytest.raises(ExportError, match="pip install -r requirements-export.txt"):
        to_onnx(random_network(("relu",)))


def test_a_model_not_made_for_28x28_images_is_refused():
    network = build_network(ModelConfig(n_inputs=10, hidden=(4,)), np.random.default_rng(0))
    for fmt in ("onnx", "numpy"):
        with pytest.raises(ExportError, match="28x28"):
            export_bytes(network, fmt)
    with pytest.raises(ExportError, match="unknown export format 'tflite'"):
        export_bytes(random_network(("relu",)), "tflite")


def test_numpy_zip_holds_weights_script_and_readme():
    network = random_network(("leaky_relu", "sigmoid"), "sigmoid", dropout=0.2)
    with zipfile.ZipFile(io.BytesIO(to_numpy_zip(network, list("abcdefghij")))) as archive:
        assert sorted(archive.namelist()) == [
            "digit-lab-model/README.txt",
            "digit-lab-model/predict.py",
            "digit-lab-model/weights.npz",
        ]
        assert archive.read("digit-lab-model/predict.py").decode() == predict_script()
        with np.load(io.BytesIO(archive.read("digit-lab-model/weights.npz")), allow_pickle=False) as npz:
            spec = json.loads(str(npz["spec"]))
            weights = {k: npz[k] for k in npz.files if k != "spec"}
    assert [layer["type"] for layer in spec["layers"]] == ["dense", "leaky_relu", "dense", "sigmoid", "dense"]
    assert spec["layers"][1]["slope"] == pytest.approx(0.2)
    assert spec["output"] == "sigmoid" and spec["class_names"] == list("abcdefghij")
    assert set(weights) == set(network.params()) and all(w.dtype == np.float32 for w in weights.values())


def test_the_script_uses_only_numpy_pillow_and_the_standard_library():
    imports = {
        line.split()[1].split(".")[0]
        for line in predict_script().splitlines()
        if line.startswith(("import ", "from "))
    }
    assert imports <= {"__future__", "argparse", "json", "sys", "pathlib", "numpy", "PIL"}


@pytest.mark.real_data
def test_the_zips_predict_script_agrees_with_the_cli_on_20_images(mnist_model, mnist_test, tmp_path):
    files = twenty_images(*mnist_test, tmp_path)
    assert len(files) == 20
    model_file = save_model(tmp_path / "m.npz", SavedModel(mnist_model))
    code, mine, theirs = script_and_cli(mnist_model, ["--model", str(model_file)], files, tmp_path)
    assert code == 1  # the empty sheet
    assert [r.get("prediction") for r in mine] == [r.get("prediction") for r in theirs]
    assert "error" in mine[-1] and "error" in theirs[-1]
    diff = max_difference(mine, theirs)
    print(f"max abs probability difference, predict.py vs the CLI, 19 images: {diff:.2e}")
    assert diff <= TOLERANCE
    right = sum(
        r["prediction"] == int(f.stem.rsplit("-", 1)[1]) for r, f in zip(mine, files[:16], strict=False)
    )
    assert right >= 13
