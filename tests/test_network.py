"""Tests for nn_core.network: end-to-end gradients, L2 penalty, structure, inference and weights."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.activations import LeakyReLU, ReLU
from nn_core.config import ConfigError, ModelConfig
from nn_core.layers import Dense, Dropout
from nn_core.losses import softmax
from nn_core.network import Network, as_batch, build_network
from tests.gradcheck import KINK_MARGIN, NET_EPS, TOL, numerical_gradient, relative_error

SMALL = ModelConfig(n_inputs=6, hidden=(5, 4), activations=("relu", "tanh"), n_classes=3)


def min_kink_distance(net: Network, x: np.ndarray) -> float:
    """Smallest |input| of any ReLU / LeakyReLU layer for the batch x."""
    smallest = np.inf
    for layer in net.layers:
        if isinstance(layer, (ReLU, LeakyReLU)):
            smallest = min(smallest, float(np.abs(x).min()))
        x = layer.infer(x)
    return smallest


def gradcheck_setup(config: ModelConfig, n: int = 4) -> tuple[Network, np.ndarray, np.ndarray]:
    """A network with random biases, fixed dropout masks and a batch away from every ReLU kink.

    Seeds are tried in order until every ReLU input is at least KINK_MARGIN from 0 (deterministic).
    """
    for seed in range(100):
        rng = np.random.default_rng(seed)
        net = build_network(config, rng)
        width = config.n_inputs
        for layer in net.layers:
            if isinstance(layer, Dense):
                layer.b[:] = 0.3 * rng.standard_normal(layer.b.shape)
                width = layer.n_out
            elif isinstance(layer, Dropout):
                layer.fixed_mask = (rng.random((n, width)) >= layer.p).astype(np.float32) / (1 - layer.p)
        x = rng.standard_normal((n, config.n_inputs)).astype(np.float32)
        y = rng.integers(0, config.n_classes, n)
        if min_kink_distance(net, x) >= KINK_MARGIN:
            return net, x, y
    raise AssertionError("no seed gave a batch away from the ReLU kinks")


def check_network(net: Network, x: np.ndarray, y: np.ndarray, weight_decay: float = 0.0) -> dict[str, float]:
    """Relative error of every parameter's gradient of loss + L2 penalty, by central differences."""

    def objective() -> float:
        value, _ = net.loss(net.forward(x, training=True), y)
        return value + net.l2_penalty(weight_decay)

    value, dlogits = net.loss(net.forward(x, training=True), y)
    net.backward(dlogits)
    net.add_l2_grads(weight_decay)
    analytic = {name: g.astype(np.float64) for name, g in net.grads().items()}
    errors = {
        name: relative_error(analytic[name], numerical_gradient(objective, p, NET_EPS))
        for name, p in net.params().items()
    }
    for name, err in errors.items():
        assert err < TOL, f"gradient of {name}: relative error {err:.2e} (tolerance {TOL:.0e})"
    return errors


@pytest.mark.parametrize(
    "config",
    [
        ModelConfig(
            n_inputs=6,
            hidden=(5, 4, 3),
            activations=("tanh", "leaky_relu", "sigmoid"),
            n_classes=3,
            init="xavier",
        ),
        ModelConfig(
            n_inputs=6, hidden=(5, 4, 3), activations=("relu", "tanh", "relu"), n_classes=3, init="he"
        ),
        ModelConfig(
            n_inputs=6,
            hidden=(5, 4),
            activations=("relu", "sigmoid"),
            n_classes=4,
            loss="mse",
            output="sigmoid",
        ),
        ModelConfig(
            n_inputs=6,
            hidden=(5, 4),
            activations=("sigmoid", "tanh"),
            n_classes=4,
            loss="mse",
            output="softmax",
        ),
        ModelConfig(n_inputs=6, hidden=(5, 4), activations=("tanh", "relu"), n_classes=3, dropout=0.5),
        ModelConfig(n_inputs=6, hidden=(), activations=(), n_classes=3),
    ],
    ids=["ce_3_hidden", "ce_relu", "mse_sigmoid", "mse_softmax", "dropout", "no_hidden"],
)
def test_network_gradient_end_to_end(config):
    net, x, y = gradcheck_setup(config)
    errors = check_network(net, x, y)
    assert set(errors) == set(net.params())


def test_network_gradient_with_l2_penalty():
    config = ModelConfig(n_inputs=6, hidden=(5, 4), activations=("leaky_relu", "tanh"), n_classes=3)
    net, x, y = gradcheck_setup(config)
    check_network(net, x, y, weight_decay=0.1)


def test_l2_penalty_value_and_gradient_alone():
    net, _, _ = gradcheck_setup(SMALL)
    wd = 0.3
    weights = [layer.W.astype(np.float64) for layer in net.dense_layers]
    assert net.l2_penalty(wd) == pytest.approx(0.5 * wd * sum((w**2).sum() for w in weights), rel=1e-6)
    assert net.l2_penalty(0.0) == 0.0
    assert net.weight_names() == ["0.W", "2.W", "4.W"]
    for g in net.grads().values():
        g[...] = 0.0
    net.add_l2_grads(wd)
    grads = net.grads()
    for name, p in net.params().items():
        numeric = numerical_gradient(lambda: net.l2_penalty(wd), p)
        if name.endswith(".b"):
            assert not grads[name].any() and not numeric.any()  # biases are not decayed
        else:
            np.testing.assert_allclose(grads[name], wd * p, rtol=1e-6)
            assert relative_error(grads[name], numeric) < TOL


def test_add_l2_grads_adds_to_existing_gradients_in_place():
    net, x, y = gradcheck_setup(SMALL)
    _, dlogits = net.loss(net.forward(x, training=True), y)
    net.backward(dlogits)
    before = {name: g.copy() for name, g in net.grads().items()}
    arrays = net.grads()
    net.add_l2_grads(0.5)
    for name, g in net.grads().items():
        assert g is arrays[name] and g.dtype == np.float32
        expected = before[name] + (0.5 * net.params()[name] if name.endswith(".W") else 0.0)
        np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-7)


def test_build_network_structure_and_names():
    config = ModelConfig(
        n_inputs=12, hidden=(8, 6), activations=("relu", "sigmoid"), n_classes=4, dropout=0.2
    )
    net = build_network(config, np.random.default_rng(0))
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Dense", "ReLU", "Dropout", "Dense", "Sigmoid", "Dropout", "Dense"]
    assert [(d.n_in, d.n_out) for d in net.dense_layers] == [(12, 8), (8, 6), (6, 4)]
    assert not net.dense_layers[0].input_grad and net.dense_layers[1].input_grad
    assert list(net.params()) == ["0.W", "0.b", "3.W", "3.b", "6.W", "6.b"]
    assert list(net.grads()) == list(net.params())
    assert net.n_params() == 12 * 8 + 8 + 8 * 6 + 6 + 6 * 4 + 4


def test_build_network_validates_the_config():
    with pytest.raises(ConfigError, match="one activation per hidden layer"):
        build_network(ModelConfig(hidden=(4, 4)), np.random.default_rng(0))


def test_dtypes_stay_float32_through_forward_and_backward():
    net = build_network(SMALL, np.random.default_rng(1))
    x = np.random.default_rng(2).random((5, 6), dtype=np.float32)
    logits = net.forward(x, training=True)
    _, dlogits = net.loss(logits, np.array([0, 1, 2, 0, 1]))
    net.backward(dlogits)
    assert logits.dtype == dlogits.dtype == np.float32
    for name in net.params():
        assert net.params()[name].dtype == net.grads()[name].dtype == np.float32


def test_forward_reuses_buffers_and_logits_does_not_touch_them():
    net = build_network(SMALL, np.random.default_rng(1))
    rng = np.random.default_rng(3)
    x1, x2 = rng.random((8, 6), dtype=np.float32), rng.random((8, 6), dtype=np.float32)
    out1 = net.forward(x1)
    out2 = net.forward(x2)
    assert np.shares_memory(out1, out2)
    kept = out2.copy()
    fresh = net.logits(x1)
    assert not np.shares_memory(fresh, out2)
    np.testing.assert_array_equal(out2, kept)
    np.testing.assert_allclose(net.logits(x2), kept, rtol=1e-6, atol=1e-7)


def test_same_seed_same_weights_and_different_seeds_differ():
    config = ModelConfig(n_inputs=20, hidden=(10, 5), activations=("relu", "tanh"), dropout=0.3)
    a = build_network(config, np.random.default_rng(42)).get_weights()
    b = build_network(config, np.random.default_rng(42)).get_weights()
    c = build_network(config, np.random.default_rng(43)).get_weights()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["0.W"], c["0.W"])


def test_predict_proba_and_predict():
    config = ModelConfig(n_inputs=784, hidden=(16,), activations=("relu",))
    net = build_network(config, np.random.default_rng(0))
    X = np.random.default_rng(1).random((10, 784), dtype=np.float32)
    p = net.predict_proba(X)
    assert p.shape == (10, 10) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(p, softmax(net.forward(X)), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(net.predict_proba(X, batch_size=3), p, rtol=1e-6)
    np.testing.assert_array_equal(net.predict(X), p.argmax(axis=1))


def test_predict_proba_reads_single_images_and_uint8():
    net = build_network(ModelConfig(hidden=(8,), activations=("tanh",)), np.random.default_rng(0))
    image = np.random.default_rng(1).integers(0, 256, (28, 28), dtype=np.uint8)
    as_float = image.astype(np.float32).reshape(1, 784) / 255
    expected = net.predict_proba(as_float)
    np.testing.assert_allclose(net.predict_proba(image), expected, rtol=1e-6)
    np.testing.assert_allclose(net.predict_proba(as_float[0]), expected, rtol=1e-6)
    np.testing.assert_allclose(net.predict_proba(image[None]), expected, rtol=1e-6)


def test_predict_proba_with_sigmoid_output_sums_to_one():
    config = ModelConfig(
        n_inputs=6, hidden=(5,), activations=("relu",), n_classes=3, output="sigmoid", loss="mse"
    )
    net = build_network(config, np.random.default_rng(0))
    p = net.predict_proba(np.random.default_rng(1).random((4, 6), dtype=np.float32))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert (p > 0).all()


def test_as_batch_rejects_inputs_of_the_wrong_size():
    with pytest.raises(ValueError, match="rows of 784"):
        as_batch(np.zeros(100), 784)
    assert as_batch(np.zeros((2, 28, 28)), 784).shape == (2, 784)


def test_hidden_activations():
    config = ModelConfig(n_inputs=6, hidden=(5, 4), activations=("relu", "sigmoid"), n_classes=3, dropout=0.5)
    net = build_network(config, np.random.default_rng(0))
    X = np.random.default_rng(1).random((7, 6), dtype=np.float32)
    outs = net.hidden_activations(X)
    assert [o.shape for o in outs] == [(7, 5), (7, 4)]
    assert (outs[0] >= 0).all() and ((outs[1] > 0) & (outs[1] < 1)).all()
    d0, d1 = net.dense_layers[:2]
    np.testing.assert_allclose(outs[0], np.maximum(X @ d0.W + d0.b, 0), rtol=1e-5, atol=1e-6)


def test_get_weights_copies_and_set_weights_writes_in_place():
    net = build_network(SMALL, np.random.default_rng(0))
    saved = net.get_weights()
    arrays = net.params()
    assert not any(np.shares_memory(saved[k], arrays[k]) for k in saved)
    arrays["0.W"] += 1.0
    assert not np.array_equal(saved["0.W"], arrays["0.W"])
    net.set_weights(saved)
    for k, v in net.params().items():
        assert v is arrays[k] and v.dtype == np.float32
        np.testing.assert_array_equal(v, saved[k])


def test_set_weights_rejects_wrong_names_and_shapes():
    net = build_network(SMALL, np.random.default_rng(0))
    weights = net.get_weights()
    with pytest.raises(ValueError, match="parameter names differ"):
        net.set_weights({k: v for k, v in weights.items() if k != "0.b"})
    weights["0.W"] = np.zeros((2, 2), dtype=np.float32)
    with pytest.raises(ValueError, match=r"parameter 0.W has shape \(2, 2\)"):
        net.set_weights(weights)


def test_copy_is_independent():
    net = build_network(SMALL, np.random.default_rng(0))
    X = np.random.default_rng(1).random((4, 6), dtype=np.float32)
    twin = net.copy()
    np.testing.assert_array_equal(twin.predict_proba(X), net.predict_proba(X))
    assert twin.config == net.config
    twin.params()["0.W"][...] = 0.0
    assert net.params()["0.W"].any()
