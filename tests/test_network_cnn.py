"""Networks built from layer specs: structure, gradients end to end, state, training."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from nn_core.activations import LeakyReLU, ReLU
from nn_core.architecture import parse_layers
from nn_core.config import ModelConfig, TrainConfig
from nn_core.conv import Conv2D
from nn_core.layers import Dense, Dropout, Flatten
from nn_core.network import Network, build_network
from nn_core.normalization import BatchNorm
from nn_core.pooling import MaxPool2D
from nn_core.train import Trainer
from tests.gradcheck import NET_EPS, TOL, numerical_gradient, relative_error

# Feature maps hold many more values than an MLP's hidden layers, so few batches keep all of them
# gradcheck.KINK_MARGIN (0.05) from a kink; a step of NET_EPS in a weight moves an input by about
# 0.01, so 0.02 still keeps every step on one side.
CNN_KINK_MARGIN = 0.02


def cnn(text: str, n_inputs: int = 36, n_classes: int = 3, **kwargs: object) -> ModelConfig:
    return ModelConfig(
        n_inputs=n_inputs, hidden=(), activations=(), n_classes=n_classes, layers=parse_layers(text), **kwargs
    )


def margins(net: Network, x: np.ndarray) -> float:
    """Smallest distance of the batch from a kink: a ReLU input near 0, or a max-pool window whose
    two largest values are close (a step could swap the winner). Runs the training forward pass."""
    smallest = np.inf
    a = net._shaped(x)
    for layer in net.layers:
        if isinstance(layer, (ReLU, LeakyReLU)):
            smallest = min(smallest, float(np.abs(a).min()))
        if isinstance(layer, MaxPool2D):
            n, h, w, c = a.shape
            s = layer.size
            ho, wo = h // s, w // s
            windows = a[:, : ho * s, : wo * s].reshape(n, ho, s, wo, s, c).transpose(0, 1, 3, 5, 2, 4)
            top2 = np.sort(windows.reshape(n, ho, wo, c, s * s), axis=-1)[..., -2:]
            smallest = min(smallest, float((top2[..., 1] - top2[..., 0]).min()))
        a = layer.forward(a, training=True).copy()
    return smallest


def gradcheck_cnn(config: ModelConfig, n: int = 3) -> tuple[Network, np.ndarray, np.ndarray]:
    """A network with random biases, fixed dropout masks and a batch away from every kink."""
    for seed in range(200):
        rng = np.random.default_rng(seed)
        net = build_network(config, rng)
        for layer in net.layers:
            if isinstance(layer, (Dense, Conv2D)):
                layer.b[:] = 0.3 * rng.standard_normal(layer.b.shape)
            if isinstance(layer, BatchNorm):
                layer.gamma[:] = 1 + 0.3 * rng.standard_normal(layer.gamma.shape)
                layer.beta[:] = 0.3 * rng.standard_normal(layer.beta.shape)
        x = rng.standard_normal((n, config.n_inputs)).astype(np.float32)
        a = net._shaped(x)
        for layer in net.layers:  # masks of the right width for each dropout layer
            if isinstance(layer, Dropout):
                width = a[0].size
                layer.fixed_mask = (rng.random((n, width)) >= layer.p).astype(np.float32) / (1 - layer.p)
            a = layer.forward(a, training=True).copy()
        y = rng.integers(0, config.n_classes, n)
        if margins(net, x) >= CNN_KINK_MARGIN:
            return net, x, y
    raise AssertionError("no seed gave a batch away from the kinks")


def check(net: Network, x: np.ndarray, y: np.ndarray, weight_decay: float = 0.0) -> dict[str, float]:
    def objective() -> float:
        value, _ = net.loss(net.forward(x, training=True), y)
        return value + net.l2_penalty(weight_decay)

    _, dlogits = net.loss(net.forward(x, training=True), y)
    net.backward(dlogits)
    net.add_l2_grads(weight_decay)
    analytic = {name: g.astype(np.float64) for name, g in net.grads().items()}
    errors = {}
    for name, p in net.params().items():
        numeric = numerical_gradient(objective, p, NET_EPS)
        if np.abs(numeric).max() < 1e-3 and np.abs(analytic[name]).max() < 1e-6:
            errors[name] = 0.0  # a bias before batch norm: its gradient is zero, both agree
        else:
            errors[name] = relative_error(analytic[name], numeric)
    for name, err in errors.items():
        assert err < TOL, f"gradient of {name}: relative error {err:.2e} (tolerance {TOL:.0e})"
    return errors


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("conv2x3:linear,bn:relu,maxpool2,dense4:tanh", 3),
        ("conv3x3same:tanh,avgpool2,conv2x2:sigmoid,dense5", 3),
        # batch norm of a dense layer over 3 rows is too ill-conditioned for float32 differences
        ("conv2x3s2:leaky_relu,bn,dropout0.3,dense4,bn:tanh,dropout0.5", 6),
    ],
    ids=["conv_bn_relu_pool_dense", "same_avgpool_two_convs", "stride_bn_dropout_on_maps"],
)
def test_cnn_gradient_end_to_end(text, n):
    net, x, y = gradcheck_cnn(cnn(text, init="xavier"), n)
    errors = check(net, x, y)
    assert set(errors) == set(net.params())


def test_l2_decay_applies_to_conv_and_dense_weights_only():
    net, x, y = gradcheck_cnn(cnn("conv2x3:linear,bn:relu,maxpool2,dense4:tanh"))
    assert net.weight_names() == ["0.W", "5.W", "7.W"]  # conv, dense4, output; not BN's gamma
    check(net, x, y, weight_decay=0.1)
    conv = net.layers[0]
    conv.dW[...] = 0.0
    net.add_l2_grads(0.5)
    np.testing.assert_allclose(conv.dW, 0.5 * conv.W, rtol=1e-6)
    assert net.l2_penalty(0.5) == pytest.approx(
        0.25 * sum(float((net.params()[k].astype(np.float64) ** 2).sum()) for k in net.weight_names()),
        rel=1e-5,
    )


def test_structure_labels_and_first_layer_skips_dx():
    net = build_network(cnn("conv4x3,maxpool2,bn,dense8,dropout0.2", n_classes=10), np.random.default_rng(0))
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == [
        "Conv2D",
        "ReLU",
        "MaxPool2D",
        "BatchNorm",
        "Flatten",
        "Dense",
        "ReLU",
        "Dropout",
        "Dense",
    ]
    assert net.labels == [
        "conv4x3",
        "relu",
        "maxpool2",
        "bn",
        "flatten",
        "dense8",
        "relu",
        "dropout0.2",
        "dense10",
    ]
    assert net.input_shape == (6, 6, 1) and net.spec_ends == [1, 2, 3, 6, 7]
    assert not net.layers[0].input_grad and net.layers[5].input_grad
    assert net.layers[0].W.shape == (3, 3, 1, 4) and net.layers[5].W.shape == (2 * 2 * 4, 8)
    assert net.n_params() == (9 + 1) * 4 + 2 * 4 + (16 + 1) * 8 + (8 + 1) * 10


def test_conv_init_scales_with_the_fan_in():
    config = ModelConfig(hidden=(), activations=(), layers=parse_layers("conv64x5,conv64x3"), init="he")
    net = build_network(config, np.random.default_rng(0))
    for layer, fan_in in ((net.layers[0], 25), (net.layers[2], 9 * 64)):
        assert layer.W.std() == pytest.approx(np.sqrt(2 / fan_in), rel=0.05)
        assert not layer.b.any()
    xavier = build_network(ModelConfig(**{**config.__dict__, "init": "xavier"}), np.random.default_rng(0))
    assert xavier.layers[0].W.std() == pytest.approx(np.sqrt(2 / (25 + 25 * 64)), rel=0.05)


def test_rows_are_viewed_as_maps_without_a_copy():
    net = build_network(cnn("conv2x3,maxpool2"), np.random.default_rng(0))
    x = np.random.default_rng(1).random((5, 36), dtype=np.float32)
    shaped = net._shaped(x)
    assert shaped.shape == (5, 6, 6, 1) and np.shares_memory(shaped, x)
    assert net.forward(x).shape == (5, 3)
    np.testing.assert_allclose(net.logits(x), net.forward(x), rtol=1e-5, atol=1e-6)
    probs = net.predict_proba(x.reshape(5, 6, 6))
    assert probs.shape == (5, 3) and np.allclose(probs.sum(axis=1), 1.0)


def test_hidden_activations_give_one_array_per_spec():
    net = build_network(cnn("conv4x3,maxpool2,bn,dense8:tanh,dropout0.2"), np.random.default_rng(0))
    outs = net.hidden_activations(np.random.default_rng(1).random((2, 36), dtype=np.float32))
    assert [o.shape for o in outs] == [(2, 4, 4, 4), (2, 2, 2, 4), (2, 2, 2, 4), (2, 8), (2, 8)]
    assert (outs[0] >= 0).all()  # after the conv's ReLU
    assert np.abs(outs[3]).max() < 1  # after tanh
    np.testing.assert_array_equal(outs[3], outs[4])  # dropout is the identity at inference


def test_batchnorm_state_travels_with_get_set_weights_and_copy():
    net = build_network(cnn("conv3x3,bn,maxpool2"), np.random.default_rng(0))
    x = np.random.default_rng(1).random((16, 36), dtype=np.float32) * 3 + 1
    for _ in range(5):
        net.forward(x, training=True)
    state = net.state()
    assert set(state) == {"2.mean", "2.var"} and state["2.mean"].shape == (3,)
    assert np.abs(state["2.mean"]).max() > 0.1  # the running statistics moved
    weights = net.get_weights()
    assert set(weights) == set(net.params()) | set(state)
    twin = net.copy()
    np.testing.assert_array_equal(twin.state()["2.mean"], state["2.mean"])
    np.testing.assert_allclose(twin.predict_proba(x), net.predict_proba(x), rtol=1e-6)
    fresh = build_network(net.config, np.random.default_rng(5))
    fresh.set_weights({k: v for k, v in weights.items() if k in net.params()})  # state optional
    assert not np.allclose(fresh.predict_proba(x), net.predict_proba(x))
    fresh.set_weights(weights)
    np.testing.assert_allclose(fresh.predict_proba(x), net.predict_proba(x), rtol=1e-6)
    weights["2.var"] = np.ones(4, np.float32)
    with pytest.raises(ValueError, match=r"2.var has shape \(4,\), expected \(3,\) \(var of layer 2, bn\)"):
        fresh.set_weights(weights)


def test_trainer_runs_a_cnn_without_allocating_in_the_loop():
    rng = np.random.default_rng(0)
    X = rng.random((96, 784), dtype=np.float32)
    y = rng.integers(0, 10, 96)
    X[np.arange(96), y * 70] = 8.0  # a bright pixel per class: learnable
    config = ModelConfig(
        hidden=(), activations=(), layers=parse_layers("conv4x5,bn,maxpool2,dense16,dropout0.1")
    )
    net = build_network(config, np.random.default_rng(1))
    trainer = Trainer(net, TrainConfig(epochs=6, batch_size=32, optimizer="adam", lr=0.01), X, y)
    first = trainer.run_epoch()
    tracemalloc.start()
    trainer.run_epoch()
    snapshot_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # a per-step allocation of any batch-sized map (32 x 24 x 24 x 4 float32 = 295 kB) would show
    assert snapshot_peak < 150_000, snapshot_peak
    for _ in range(4):
        last = trainer.run_epoch()
    assert last.train_loss < first.train_loss and last.train_acc > 0.5
    for layer in net.layers:
        if isinstance(layer, Flatten):
            continue
        for name, p in layer.params().items():
            assert p.dtype == layer.grads()[name].dtype == np.float32


def test_inference_runs_in_chunks_that_bound_memory():
    config = ModelConfig(
        hidden=(), activations=(), layers=parse_layers("conv16x5,maxpool2,conv32x5,maxpool2,dense128")
    )
    net = build_network(config, np.random.default_rng(0))
    assert net.infer_rows == 2**23 // (8 * 8 * 5 * 5 * 16)  # the second conv's columns per image
    X = np.random.default_rng(1).random((10, 784), dtype=np.float32)
    whole = net.logits(X)
    net.infer_rows = 3
    np.testing.assert_allclose(net.logits(X), whole, rtol=1e-5, atol=1e-6)
    assert net.predict_proba(X).shape == (10, 10)
