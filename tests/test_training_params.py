"""Controls as values: configs, presets, URL parameters and advice, without Streamlit."""

from __future__ import annotations

import math

import pytest

from nn_core.config import ConfigError
from nn_core.presets import PRESETS
from ui.training import params as tp


def test_defaults_build_valid_configs():
    model, train = tp.build_configs(tp.DEFAULTS)
    assert model.hidden == (128,) and train.train_size == 10_000 and train.seed == 0


def test_the_controls_offer_every_preset_cnns_included():
    assert tp.UI_PRESETS == tuple(PRESETS)
    assert {"fast", "best", "lenet", "cnn-fast", "cnn-best"} <= set(tp.UI_PRESETS)
    assert tp.FIELDS["preset"][2] == (tp.CUSTOM, *tp.UI_PRESETS)


@pytest.mark.parametrize("name", tp.UI_PRESETS)
def test_every_preset_round_trips_through_the_controls(name):
    preset = PRESETS[name]
    values = tp.values_from_preset(name, {"dataset": "fashion-mnist"})
    model, train = tp.build_configs(values)
    assert values["dataset"] == "fashion-mnist"  # the dataset stays as chosen
    assert model == preset.model
    expected = preset.train.__class__(**{**preset.train.to_dict(), "dataset": "fashion-mnist"})
    assert train.lr == pytest.approx(preset.train.lr)
    assert train.val_fraction == pytest.approx(preset.train.val_fraction, abs=1e-4)
    for field in ("epochs", "batch_size", "optimizer", "schedule", "augment", "train_size", "seed"):
        assert getattr(train, field) == getattr(expected, field), field
    assert not tp.preset_modified(values)
    values["seed"] = 123
    assert tp.preset_modified(values)


def test_url_parameters_round_trip_every_control():
    values = dict(tp.DEFAULTS)
    values.update(
        hidden=(300, 100, 30),
        activations=("tanh", "leaky_relu", "sigmoid"),
        optimizer="adam",
        lr=0.003,
        schedule="step",
        step_epochs=3,
        gamma=0.25,
        weight_decay=1e-4,
        dropout=0.3,
        augment=True,
        elastic=True,
        train_size=2000,
        val_fraction=0.2,
        seed=42,
        dataset="fashion-mnist",
        preset="nielsen",
    )
    params = tp.values_to_params(values)
    assert params["hidden"] == "300-100-30" and params["seed"] == "42" and params["aug"] == "1"
    back, problems = tp.params_to_values(params)
    assert problems == []
    assert back == values


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"lr": "fast"}, "not a number"),
        ({"lr": "nan"}, "finite"),
        ({"hidden": "128-x"}, "numbers joined"),
        ({"hidden": "0"}, "width"),
        ({"act": "relu-swish"}, "activations are"),
        ({"opt": "lion"}, "choose one of"),
        ({"seed": "-1"}, "must be"),
        ({"epochs": "2.5"}, "whole number"),
        ({"aug": "maybe"}, "0 or 1"),
    ],
)
def test_bad_url_parameters_are_reported_and_ignored(params, fragment):
    values, problems = tp.params_to_values(params)
    assert len(problems) == 1 and fragment in problems[0]
    key = next(iter(params))
    name = next(n for n, spec in tp.FIELDS.items() if spec[0] == key)
    assert values[name] == tp.DEFAULTS[name]
    tp.build_configs(values)  # what is kept still trains


def test_activations_are_fitted_to_the_number_of_layers():
    values, problems = tp.params_to_values({"hidden": "64-32-16", "act": "tanh"})
    assert values["activations"] == ("tanh", "tanh", "tanh")
    assert any("one activation per hidden layer" in p for p in problems)
    values, _ = tp.params_to_values({"hidden": "64", "act": "tanh-relu"})
    assert values["activations"] == ("tanh",)


def test_log_scaled_values_snap_to_the_nearest_option():
    assert tp.snap(0.0123, tp.LR_OPTIONS) == pytest.approx(0.013)
    assert tp.snap(1e-9, tp.LR_OPTIONS) == min(tp.LR_OPTIONS)
    assert tp.snap(0.0, tp.L2_OPTIONS) == 0.0
    assert all(tp.snap(p.train.lr, tp.LR_OPTIONS) == pytest.approx(p.train.lr) for p in PRESETS.values())
    ratios = [b / a for a, b in zip(tp.LR_OPTIONS, tp.LR_OPTIONS[1:], strict=False)]
    assert max(ratios) < 1.35 and min(ratios) > 1.1  # evenly spread on a log scale


def test_subset_sizes_land_on_the_slider_grid():
    assert tp.params_to_values({"n": "2499"})[0]["train_size"] == 2000
    assert tp.params_to_values({"n": "60000"})[0]["train_size"] == 60_000
    _, train = tp.build_configs({**tp.DEFAULTS, "train_size": 60_000})
    assert train.train_size == 0  # the whole set


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"loss": "cross_entropy", "output": "sigmoid"}, "softmax"),
        ({"hidden": (), "activations": ()}, "at least one hidden layer"),
        ({"momentum": 1.0}, "momentum"),
    ],
)
def test_invalid_combinations_raise_an_explanation(change, message):
    with pytest.raises(ConfigError, match=message):
        tp.build_configs({**tp.DEFAULTS, **change})


def test_elastic_only_applies_with_augmentation():
    _, train = tp.build_configs({**tp.DEFAULTS, "augment": False, "elastic": True})
    assert not train.elastic
    _, train = tp.build_configs({**tp.DEFAULTS, "augment": True, "elastic": True})
    assert train.elastic


def test_advice_flags_slow_or_unstable_settings():
    base = {**tp.DEFAULTS, "train_size": 60_000}
    assert tp.advice(base, tp.count_params((128,))) == []
    assert any("Batch size 1" in n for n in tp.advice({**base, "batch_size": 1}, 0))
    assert any("full-batch" in n for n in tp.advice({**base, "batch_size": 60_000}, 0))
    assert any("diverge" in n for n in tp.advice({**base, "optimizer": "adam", "lr": 0.5}, 0))
    assert any("parameters" in n for n in tp.advice(base, tp.count_params((2048, 2048))))


def test_count_params_matches_the_layer_shapes():
    assert tp.count_params((128,)) == 784 * 128 + 128 + 128 * 10 + 10
    assert math.isclose(tp.count_params(()), 7850)


def test_clamped_snapped_rounded_and_unknown_url_values_are_reported():
    values, problems = tp.params_to_values(
        {"lr": "50", "l2": "-1", "decay": "0.0002", "n": "1500", "epoch": "20"}
    )
    assert values["lr"] == 10.0 and values["weight_decay"] == 0.0 and values["train_size"] == 2000
    text = "\n".join(problems)
    assert "`lr=50`: the largest choice is 10; used 10" in text
    assert "`l2=-1`: must be 0 or more" in text
    assert "`decay=0.0002`" in text and "nearest" in text
    assert "`n=1500`" in text and "2,000" in text
    assert "`epoch=20`: not a setting of this page" in text
    assert len(problems) == 5


def test_values_the_page_itself_writes_read_back_without_a_problem():
    values = dict(tp.DEFAULTS, lr=1.3e-05, weight_decay=3e-06, decay=1e-06, train_size=60_000)
    again, problems = tp.params_to_values({**tp.values_to_params(values), "owner": "0123456789abcdef"})
    assert problems == [] and again == values


def test_sgd_and_momentum_get_learning_rate_advice_too():
    for optimizer, lr in (("sgd", 10.0), ("momentum", 1.0), ("nesterov", 0.5), ("adam", 0.1)):
        notes = tp.advice(dict(tp.DEFAULTS, optimizer=optimizer, lr=lr), 100_000)
        assert any("will likely diverge" in n for n in notes), (optimizer, lr)
    for optimizer, lr in (("sgd", 1.0), ("momentum", 0.05), ("nesterov", 0.1)):
        notes = tp.advice(dict(tp.DEFAULTS, optimizer=optimizer, lr=lr), 100_000)
        assert not any("diverge" in n for n in notes), (optimizer, lr)
