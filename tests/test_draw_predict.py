"""The Draw page's computations: prediction, unit contributions, weight images, scoring, upscaling."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.config import ModelConfig
from nn_core.network import build_network
from ui.draw.predict import (
    Prediction,
    first_layer_contributions,
    layer_activations,
    predict_digit,
    score_digits,
    top_units,
    unit_weight_images,
    upscale,
)


def _network(hidden=(12,), activations=("relu",), seed=0, **kwargs):
    return build_network(
        ModelConfig(hidden=hidden, activations=activations, **kwargs), np.random.default_rng(seed)
    )


def _digit(seed=0):
    return np.random.default_rng(seed).uniform(0, 1, size=(28, 28)).astype(np.float32)


def test_prediction_is_the_argmax_and_sure_follows_the_threshold():
    net = _network()
    digit = _digit()
    probs = net.predict_proba(digit)[0]
    top = int(np.argmax(probs))
    sure = predict_digit(net, digit, threshold=float(probs[top]))
    assert sure.top == top and sure.sure
    assert sure.confidence == pytest.approx(float(probs[top]))
    np.testing.assert_allclose(sure.probabilities, probs)
    unsure = predict_digit(net, digit, threshold=float(probs[top]) + 1e-3)
    assert not unsure.sure


def test_headline_names_the_class_and_confidence():
    probs = np.array([0.02, 0.9, 0.08], np.float32)
    assert Prediction(probs, 1, 0.9, True).headline() == "1 (90% sure)"
    assert Prediction(probs, 1, 0.9, False).headline(("a", "b", "c")) == "Not sure: maybe b (90%)"


def test_contributions_of_one_hidden_layer_add_up_to_the_logit():
    net = _network(hidden=(20,))
    digit = _digit(1)
    logits = net.logits(digit.reshape(1, 784))[0]
    out = net.dense_layers[1]
    for target in (0, 3, 9):
        contributions = first_layer_contributions(net, digit, target)
        assert contributions.shape == (20,) and contributions.dtype == np.float32
        assert contributions.sum() + out.b[target] == pytest.approx(float(logits[target]), rel=1e-4, abs=1e-4)
        hidden = net.hidden_activations(digit)[0][0]
        np.testing.assert_allclose(contributions, hidden * out.W[:, target], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("activations", [("tanh", "sigmoid"), ("leaky_relu", "relu"), ("sigmoid", "tanh")])
def test_contributions_are_activation_times_gradient_in_deeper_networks(activations):
    """Check d logit / d h1 against central differences through the layers above the first."""
    net = _network(hidden=(6, 5), activations=activations, seed=3, dropout=0.2, leaky_slope=0.1)
    digit = _digit(2)
    target = 4
    h1 = net.hidden_activations(digit)[0][0].astype(np.float64)
    above = net.layers[next(i for i, layer in enumerate(net.layers) if layer is net.dense_layers[1]) :]

    def logit_from(h: np.ndarray) -> float:
        x = h[None].astype(np.float32)
        for layer in above:
            x = layer.infer(x)
        return float(x[0, target])

    eps = 1e-2
    grad = np.array(
        [(logit_from(h1 + eps * e) - logit_from(h1 - eps * e)) / (2 * eps) for e in np.eye(len(h1))]
    )
    np.testing.assert_allclose(first_layer_contributions(net, digit, target), h1 * grad, rtol=2e-2, atol=2e-4)


def test_contributions_need_a_hidden_layer():
    with pytest.raises(ValueError, match="no hidden layer"):
        first_layer_contributions(_network(hidden=(), activations=()), _digit(), 0)


def test_top_units_are_the_largest_first():
    contributions = np.array([0.1, -2.0, 3.0, 0.5, 3.0], np.float32)
    assert top_units(contributions, 3).tolist() == [2, 4, 3]
    assert top_units(contributions, 10).tolist() == [2, 4, 3, 0, 1]


def test_unit_weight_images_are_columns_of_the_first_weight_matrix():
    net = _network(hidden=(9,))
    images = unit_weight_images(net, np.array([4, 0]))
    assert images.shape == (2, 28, 28) and images.dtype == np.float32
    W = net.dense_layers[0].W
    np.testing.assert_array_equal(images[0].ravel(), W[:, 4])
    assert images[1][3, 5] == W[3 * 28 + 5, 0]  # row-major pixels, as the input is flattened


def test_layer_activations_give_one_vector_per_hidden_layer():
    net = _network(hidden=(7, 3), activations=("relu", "tanh"))
    acts = layer_activations(net, _digit())
    assert [a.shape for a in acts] == [(7,), (3,)]
    assert (acts[0] >= 0).all() and (np.abs(acts[1]) <= 1).all()


def test_upscale_repeats_each_pixel_into_a_block():
    digit = np.array([[0.0, 1.0], [0.5, 2.0]], np.float32)
    big = upscale(digit, 3)
    assert big.shape == (6, 6) and big.dtype == np.uint8
    assert (big[:3, :3] == 0).all() and (big[:3, 3:] == 255).all()
    assert (big[3:, :3] == 128).all() and (big[3:, 3:] == 255).all()  # 0.5 rounds to 128; 2.0 clips


def test_score_counts_right_answers_and_confusions():
    net = _network(seed=5)
    X = np.random.default_rng(6).uniform(0, 1, size=(30, 784)).astype(np.float32)
    predicted = net.predict(X)
    labels = predicted.copy()
    labels[:5] = (labels[:5] + 1) % 10  # five deliberate mistakes
    score = score_digits(net, X, labels)
    assert score.accuracy == pytest.approx(25 / 30)
    assert score.confusion.sum() == 30 and np.trace(score.confusion) == 25
    assert score.confusion[labels[0], predicted[0]] >= 1
    np.testing.assert_array_equal(score.predictions, predicted)


def test_score_of_an_empty_set_is_nan_not_an_error():
    score = score_digits(_network(), np.zeros((0, 784), np.float32), np.zeros(0, np.uint8))
    assert np.isnan(score.accuracy)
    assert score.confusion.shape == (10, 10) and score.confusion.sum() == 0
