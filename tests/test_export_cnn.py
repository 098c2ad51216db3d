"""Tests of exporting convolutional networks: ONNX run by onnxruntime and the NumPy zip's ``predict.py``
give what the engine gives, for a CNN with every layer type trained on real MNIST, the shipped default
model, and random networks whose padding, strides and pooling windows leave rows out or pad unevenly."""

from __future__ import annotations

import importlib.util
import io
import json
import zipfile

import numpy as np
import pytest

from nn_core.architecture import parse_layers
from nn_core.config import ModelConfig, TrainConfig
from nn_core.conv import Conv2D
from nn_core.data.local import load_split, to_float
from nn_core.export import ExportError, export_bytes, to_numpy_zip, to_onnx
from nn_core.export.onnx_conv import conv_pads
from nn_core.layers import Layer
from nn_core.network import Network, build_network
from nn_core.normalization import BatchNorm
from nn_core.store.default_model import default_model_path, load_default_model
from nn_core.store.model_file import SavedModel, save_model
from nn_core.train import train
from tests.exportcheck import TOLERANCE, max_difference, run_onnx, script_and_cli, twenty_images

# conv same (odd kernel), batch norm after a conv, max pool, conv same with stride 2 (uneven padding),
# dropout on maps, conv valid, avg pool dropping a partial window, flatten, dense, batch norm after a
# dense layer, dropout on rows
EVERY_LAYER = (
    "conv16x5same:linear,bn:relu,maxpool2,conv24x3s2same:leaky_relu,dropout0.2,conv32x3,avgpool2,"
    "dense64:linear,bn:tanh,dropout0.1"
)


@pytest.fixture
def ort():
    pytest.importorskip("onnx")
    return pytest.importorskip("onnxruntime")


def cnn(layers: str, output: str = "softmax", seed: int = 0) -> Network:
    loss = "cross_entropy" if output == "softmax" else "mse"
    config = ModelConfig(
        hidden=(), activations=(), layers=parse_layers(layers), output=output, loss=loss, leaky_slope=0.2
    )
    return build_network(config, np.random.default_rng(seed))


def shake_batch_norms(network: Network, rng: np.random.Generator) -> None:
    """Give every batch norm running statistics and parameters far from their initial 0 and 1."""
    for layer in network.layers:
        if isinstance(layer, BatchNorm):
            f = layer.n_features
            layer.set_state({"mean": rng.normal(0.0, 0.5, f), "var": rng.uniform(0.2, 3.0, f)})
            layer.gamma[:] = rng.uniform(0.5, 1.5, f)
            layer.beta[:] = rng.normal(0.0, 0.3, f)


def zip_probabilities(network: Network, pixels: np.ndarray) -> np.ndarray:
    """Probabilities from the zip's own ``predict.py`` and ``weights.npz``, run in this process."""
    with zipfile.ZipFile(io.BytesIO(to_numpy_zip(network))) as archive:
        source = archive.read("digit-lab-model/predict.py")
        weights_bytes = archive.read("digit-lab-model/weights.npz")
    spec = importlib.util.spec_from_loader("exported_predict", loader=None)
    script = importlib.util.module_from_spec(spec)
    exec(compile(source, "predict.py", "exec"), script.__dict__)  # noqa: S102 (the file we just exported)
    with np.load(io.BytesIO(weights_bytes), allow_pickle=False) as npz:
        weights = {k: npz[k] for k in npz.files if k != "spec"}
        layers = json.loads(str(npz["spec"]))
    return script.probabilities(layers, weights, pixels)


@pytest.fixture(scope="module")
def mnist_cnn(mnist_root):
    """A CNN with every layer type, trained for one epoch on 8,000 real MNIST images."""
    images, labels = load_split("mnist", "train", mnist_root)
    network = cnn(EVERY_LAYER)
    settings = TrainConfig(epochs=1, batch_size=64, optimizer="adam", lr=0.003, seed=0)
    history = list(train(network, settings, to_float(images[:8000]), labels[:8000]))
    assert history[-1].train_acc > 0.7
    stats = network.state()
    assert len(stats) == 4 and all(np.abs(v - (k.endswith(".var"))).max() > 0.05 for k, v in stats.items())
    return network


@pytest.fixture(scope="module")
def mnist_test(mnist_root):
    return load_split("mnist", "test", mnist_root)


def onnx_difference(ort, network: Network, pixels: np.ndarray, what: str) -> np.ndarray:
    expected = network.predict_proba(pixels)
    got = run_onnx(to_onnx(network), pixels)
    assert got.shape == expected.shape and got.dtype == np.float32
    diff = float(np.abs(got - expected).max())
    print(f"max abs probability difference, ONNX vs nn_core, {what}: {diff:.2e}")
    assert diff <= TOLERANCE
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()
    return got


@pytest.mark.real_data
def test_a_cnn_with_every_layer_type_in_onnx_matches_the_engine_on_1000_mnist_images(
    ort, mnist_cnn, mnist_test
):
    assert {type(layer).__name__ for layer in mnist_cnn.layers} >= {
        "Conv2D", "BatchNorm", "MaxPool2D", "AvgPool2D", "MapDropout", "Dropout", "Flatten", "Dense"
    }  # fmt: skip
    pixels = to_float(mnist_test[0][:1000], flatten=False)
    got = onnx_difference(ort, mnist_cnn, pixels, "CNN with every layer type, 1000 MNIST test images")
    assert (got.argmax(axis=1) == mnist_test[1][:1000]).mean() > 0.8


@pytest.mark.real_data
def test_the_shipped_default_model_in_onnx_matches_the_engine_on_1000_mnist_images(ort, mnist_test):
    network = load_default_model().network
    pixels = to_float(mnist_test[0][:1000], flatten=False)
    got = onnx_difference(ort, network, pixels, "default model, 1000 MNIST test images")
    assert (got.argmax(axis=1) == mnist_test[1][:1000]).mean() > 0.98


# Geometry the engine handles its own way: "same" padding with the smaller half first (odd and even
# kernels, strides 1 to 3, a 1x1 kernel with stride 2 whose windows stop short of the last row), valid
# convs and pooling windows that leave rows out, batch norm on maps and rows, both output functions.
RANDOM_STACKS = [
    ("conv6x4same:leaky_relu,bn:relu,conv8x3s2,maxpool3,dropout0.3,bn:sigmoid,avgpool2", "softmax"),
    ("conv4x2s2same,conv6x5s3same:tanh,avgpool3,dense12,bn", "softmax"),
    ("conv4x1s2same,maxpool2,conv5x3s4:linear,bn:leaky_relu,dense8:sigmoid", "sigmoid"),
    ("maxpool2,bn,conv3x7same,avgpool4", "softmax"),
]


def random_cnn(layers: str, output: str) -> Network:
    network = cnn(layers, output, seed=len(layers))
    rng = np.random.default_rng(7)
    shake_batch_norms(network, rng)
    network.layers[-1].W *= 8  # confident outputs, so that a wrong layer shows in the probabilities
    return network


@pytest.mark.parametrize(("layers", "output"), RANDOM_STACKS)
def test_random_cnns_in_onnx_match_the_engine(ort, layers, output):
    network = random_cnn(layers, output)
    pixels = np.random.default_rng(1).random((64, 28, 28), dtype=np.float32)
    got = onnx_difference(ort, network, pixels, layers)
    assert np.ptp(got, axis=1).mean() > 0.1  # classes far apart: a wrong layer would show


@pytest.mark.parametrize(("layers", "output"), [*RANDOM_STACKS, (EVERY_LAYER, "softmax")])
def test_random_cnns_in_the_zips_script_match_the_engine(layers, output):
    network = random_cnn(layers, output)
    pixels = np.random.default_rng(1).random((64, 28, 28), dtype=np.float32)
    expected = network.predict_proba(pixels)
    got = zip_probabilities(network, pixels)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()
    assert np.ptp(expected, axis=1).mean() > 0.1  # classes far apart: a wrong layer would show


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "size", "pads"),
    [
        (3, 1, "same", 28, [1, 1, 1, 1]),
        (4, 1, "same", 13, [1, 1, 2, 2]),  # even kernel: the smaller half on top and left
        (3, 2, "same", 14, [0, 0, 1, 1]),  # 7 outputs read 15 rows: one zero row at the bottom
        (1, 2, "same", 28, [0, 0, 0, 0]),  # windows stop at row 26: no padding, row 27 unread
        (3, 2, "valid", 28, [0, 0, 0, 0]),
    ],
)
def test_conv_pads_follow_the_engine(kernel, stride, padding, size, pads):
    layer = Conv2D(np.zeros((kernel, kernel, 1, 1)), np.zeros(1), stride, padding)
    assert conv_pads(layer, size, size) == pads
    top, left, bottom, right = pads
    assert (size + top + bottom - kernel) // stride + 1 == layer.output_shape(size, size)[0]


def test_the_onnx_graph_of_a_cnn_uses_onnx_operators_and_keeps_the_contract():
    onnx = pytest.importorskip("onnx")
    model = onnx.load_model_from_string(to_onnx(cnn(EVERY_LAYER)))
    ops = {node.op_type for node in model.graph.node}
    assert ops >= {"Reshape", "Conv", "BatchNormalization", "MaxPool", "AveragePool", "Transpose", "Flatten"}
    assert "Dropout" not in ops
    (given,), (out,) = model.graph.input, model.graph.output
    assert given.name == "pixels" and out.name == "probabilities"
    dims = [d.dim_param or d.dim_value for d in given.type.tensor_type.shape.dim]
    assert dims == ["N", 28, 28]


def test_the_numpy_zip_of_a_cnn_describes_every_layer_and_keeps_the_running_statistics():
    network = cnn(EVERY_LAYER)
    shake_batch_norms(network, np.random.default_rng(0))
    with zipfile.ZipFile(io.BytesIO(to_numpy_zip(network))) as archive:
        with np.load(io.BytesIO(archive.read("digit-lab-model/weights.npz")), allow_pickle=False) as npz:
            spec = json.loads(str(npz["spec"]))
            weights = {k: npz[k] for k in npz.files if k != "spec"}
    kinds = [layer["type"] for layer in spec["layers"]]
    assert kinds == [
        "conv", "batchnorm", "relu", "maxpool", "conv", "leaky_relu", "conv", "relu", "avgpool",
        "flatten", "dense", "batchnorm", "tanh", "dense",
    ]  # fmt: skip
    assert spec["input"] == [28, 28, 1]
    assert spec["layers"][4] == {"type": "conv", "W": "4.W", "b": "4.b", "stride": 2, "pads": [0, 1, 0, 1]}
    assert set(weights) == set(network.params()) | set(network.state())
    for name, value in network.state().items():
        np.testing.assert_array_equal(weights[name], value)


class Square(Layer):
    """A layer no export format knows."""

    def infer(self, x: np.ndarray) -> np.ndarray:
        return x * x


def test_a_layer_without_a_converter_is_refused_by_name():
    network = cnn("conv4x3,dense8")
    network.layers.insert(2, Square())
    if importlib.util.find_spec("onnx") is not None:
        with pytest.raises(ExportError, match="layers of type Square cannot be exported to ONNX"):
            export_bytes(network, "onnx")
    with pytest.raises(ExportError, match="layers of type Square cannot be exported to NumPy"):
        export_bytes(network, "numpy")


@pytest.mark.real_data
@pytest.mark.parametrize("which", ["every layer type", "default model"])
def test_the_zips_script_agrees_with_the_cli_on_20_images_for_a_cnn(which, mnist_cnn, mnist_test, tmp_path):
    files = twenty_images(*mnist_test, tmp_path)
    if which == "default model":
        network, model_args = load_default_model().network, []  # the CLI's default
        assert default_model_path().is_file()
    else:
        network = mnist_cnn
        model_args = ["--model", str(save_model(tmp_path / "cnn.npz", SavedModel(network)))]
    code, mine, theirs = script_and_cli(network, model_args, files, tmp_path)
    assert code == 1  # the empty sheet
    assert [r.get("prediction") for r in mine] == [r.get("prediction") for r in theirs]
    diff = max_difference(mine, theirs)
    print(f"max abs probability difference, predict.py vs the CLI, {which}, 19 images: {diff:.2e}")
    assert diff <= TOLERANCE
    right = sum(
        r["prediction"] == int(f.stem.rsplit("-", 1)[1]) for r, f in zip(mine, files[:16], strict=False)
    )
    assert right >= (15 if which == "default model" else 11)
