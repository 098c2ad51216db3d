"""Layer specs: the grammar, its round trip, shape inference and its errors, summaries, configs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nn_core.architecture import (
    MAX_FILTERS,
    MAX_LAYERS,
    LayerSpec,
    format_layers,
    infer_shapes,
    parse_layers,
)
from nn_core.config import ConfigError, ModelConfig
from nn_core.model_summary import architecture_string, summary, summary_text, totals
from nn_core.network import build_network

BENCH = "conv16x5,maxpool2,conv32x5,maxpool2,dense128"


def cnn(text: str, activation: str = "relu") -> ModelConfig:
    return ModelConfig(hidden=(), activations=(), layers=parse_layers(text, activation))


def test_each_token_parses_to_its_fields():
    specs = parse_layers(
        "conv16x5, conv32x3s2, conv32x3same, conv8x3s2same:tanh, maxpool2, avgpool3, bn, bn:relu, "
        "dropout0.25, dense128, dense64:leaky_relu, conv4x3:linear",
        "sigmoid",
    )
    assert specs == (
        LayerSpec("conv", filters=16, kernel=5, activation="sigmoid"),
        LayerSpec("conv", filters=32, kernel=3, stride=2, activation="sigmoid"),
        LayerSpec("conv", filters=32, kernel=3, padding="same", activation="sigmoid"),
        LayerSpec("conv", filters=8, kernel=3, stride=2, padding="same", activation="tanh"),
        LayerSpec("maxpool", size=2),
        LayerSpec("avgpool", size=3),
        LayerSpec("batchnorm"),
        LayerSpec("batchnorm", activation="relu"),
        LayerSpec("dropout", rate=0.25),
        LayerSpec("dense", units=128, activation="sigmoid"),
        LayerSpec("dense", units=64, activation="leaky_relu"),
        LayerSpec("conv", filters=4, kernel=3, activation="linear"),
    )


@pytest.mark.parametrize("default", ["relu", "tanh"])
@pytest.mark.parametrize(
    "text",
    [
        BENCH,
        "conv6x5same:tanh,avgpool2,conv16x5,avgpool2,dense120,dense84:sigmoid",
        "conv32x3s2same:linear,bn:relu,dropout0.1,dense10,bn,dropout1e-05",
        "dense256,dense128",
    ],
)
def test_format_and_parse_round_trip(text, default):
    specs = parse_layers(text, default)
    again = format_layers(specs, default)
    assert parse_layers(again, default) == specs
    assert parse_layers(format_layers(specs, default, sep="-"), default) == specs
    if default == "relu":
        assert again == text.replace("dropout1e-05", "dropout1e-05")


def test_dashes_and_spaces_separate_tokens_too():
    assert parse_layers("conv16x5-maxpool2 dense128") == parse_layers("conv16x5,maxpool2,dense128")
    assert parse_layers("") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("conv16x5,pool2", r"layer 2 \('pool2'\): not a layer; write layers as conv16x5"),
        ("dense128:swish", r"layer 1 \(dense128\): unknown activation 'swish'"),
        ("maxpool2:relu", r"layer 1 \(maxpool2:relu\): a maxpool layer takes no activation"),
        (
            "conv16x5,maxpool2,conv32x5,maxpool2,conv32x5",
            r"layer 5 \(conv32x5\): a 5x5 kernel does not fit a 4x4 map; use padding same",
        ),
        ("conv16x5,conv32x9,conv32x9,conv8x9", r"layer 4 \(conv8x9\): a 9x9 kernel does not fit a 8x8 map"),
        ("dense64,conv8x3", r"layer 2 \(conv8x3\): conv and pooling layers need feature maps"),
        ("conv8x3,maxpool9", r"layer 2 \(maxpool9\): a pooling window must be 2 to 7"),
        (
            "conv8x3,maxpool2,maxpool2,maxpool2,maxpool2,bn,avgpool2",
            r"layer 7 \(avgpool2\): a 2x2 window does not fit a 1x1 map",
        ),
        (
            f"conv{MAX_FILTERS + 1}x3",
            rf"layer 1 \(conv{MAX_FILTERS + 1}x3\): a conv layer takes 1 to {MAX_FILTERS} filters",
        ),
        ("conv8x11", r"kernel must be 1 to 9"),
        ("conv8x3s5", r"stride must be 1 to 4"),
        ("conv0x3", r"1 to 256 filters, got 0"),
        ("dense5000", r"width must be 1 to 4096"),
        ("dropout1.5", r"dropout rate must be above 0 and below 1"),
        ("conv256x3same", r"layer 1 \(conv256x3same\): its output holds 200,704 values per image"),
        ("conv128x3same,conv128x9same", r"layer 2 \(conv128x9same\): unfolding its input takes"),
        ("conv64x3same,dense4096", r"layer 2 \(dense4096\): 205,524,992 weights, more than the limit"),
        (",".join(["bn"] * (MAX_LAYERS + 1)), rf"at most {MAX_LAYERS} hidden layers"),
    ],
)
def test_bad_specs_say_which_layer_and_what_to_do(text, message):
    with pytest.raises(ConfigError, match=message):
        cnn(text).validate()


def test_shapes_of_the_benchmark_cnn_and_of_same_padding_with_strides():
    assert infer_shapes(parse_layers(BENCH)) == [(24, 24, 16), (12, 12, 16), (8, 8, 32), (4, 4, 32), (128,)]
    # same padding: ceil(size / stride); valid: floor((size - k) / stride) + 1
    assert infer_shapes(parse_layers("conv8x3s2same,conv8x3s2,avgpool3,dense10")) == [
        (14, 14, 8),
        (6, 6, 8),
        (2, 2, 8),
        (10,),
    ]
    assert infer_shapes(parse_layers("dense32,bn,dropout0.5")) == [(32,), (32,), (32,)]


def test_inferred_shapes_match_the_built_network():
    config = cnn("conv8x3s2same,bn,conv8x5:tanh,avgpool2,dropout0.2,dense16,bn:relu")
    outs = build_network(config, np.random.default_rng(0)).hidden_activations(np.zeros((2, 784), np.float32))
    assert [o.shape[1:] for o in outs] == infer_shapes(config.layers)


def test_summary_rows_and_totals_of_the_benchmark_cnn():
    rows = summary(cnn(BENCH))
    assert [(r.position, r.layer, r.output_shape) for r in rows] == [
        (1, "conv16x5", (24, 24, 16)),
        (2, "maxpool2", (12, 12, 16)),
        (3, "conv32x5", (8, 8, 32)),
        (4, "maxpool2", (4, 4, 32)),
        (0, "flatten", (512,)),
        (5, "dense128", (128,)),
        (0, "dense10 (output)", (10,)),
    ]
    assert [r.params for r in rows] == [416, 0, 12_832, 0, 0, 65_664, 1_290]
    assert rows[0].macs == 24 * 24 * 16 * 25 and rows[2].macs == 8 * 8 * 32 * 25 * 16
    params, macs = totals(rows)
    assert params == build_network(cnn(BENCH), np.random.default_rng(0)).n_params() == 80_202
    assert macs == 230_400 + 819_200 + 512 * 128 + 128 * 10
    text = summary_text(rows)
    assert "conv16x5" in text and "(24, 24, 16)" in text and "80,202" in text
    assert text.splitlines()[-1] == "80,202 parameters; 1.12 million multiply-adds per image"


def test_summary_of_an_mlp_matches_its_network():
    config = ModelConfig(hidden=(256, 128), activations=("relu", "tanh"), dropout=0.2)
    rows = summary(config)
    assert [r.layer for r in rows] == ["dense256", "dropout0.2", "dense128", "dropout0.2", "dense10 (output)"]
    assert [r.activation for r in rows] == ["relu", "", "tanh", "", "softmax"]
    assert totals(rows)[0] == build_network(config, np.random.default_rng(0)).n_params()


def test_architecture_string_for_people():
    assert (
        architecture_string(ModelConfig(hidden=(256, 128), activations=("relu", "relu"))) == "784-256-128-10"
    )
    assert architecture_string(ModelConfig(hidden=(), activations=())) == "784-10"
    assert architecture_string(cnn(BENCH)) == "conv16x5-maxpool2-conv32x5-maxpool2-dense128-10"
    assert architecture_string(cnn("conv6x5same,avgpool2,dense84", "tanh")) == (
        "conv6x5same:tanh-avgpool2-dense84:tanh-10"
    )


def test_model_config_round_trips_layers_through_json():
    config = cnn("conv8x3s2same:linear,bn:relu,maxpool2,dropout0.25,dense64:tanh")
    data = json.loads(json.dumps(config.to_dict()))
    assert isinstance(data["layers"], list) and data["layers"][0]["kind"] == "conv"
    again = ModelConfig.from_dict(data)
    assert again == config and isinstance(again.layers[0], LayerSpec)
    old = {k: v for k, v in ModelConfig().to_dict().items() if k != "layers"}  # a file from before layers
    assert ModelConfig.from_dict(old) == ModelConfig()
    with pytest.raises(ConfigError, match="layers must be a list"):
        ModelConfig.from_dict({**data, "layers": "conv8x3"})


def test_layers_replace_hidden_and_mlp_validation_is_unchanged():
    config = ModelConfig(layers=parse_layers("dense32"))  # hidden keeps its default, and is ignored
    net = build_network(config, np.random.default_rng(0))
    assert [layer.W.shape for layer in net.dense_layers] == [(784, 32), (32, 10)]
    with pytest.raises(ConfigError, match="one activation per hidden layer"):
        ModelConfig(hidden=(4, 4)).validate()
    with pytest.raises(ConfigError, match="need square images"):
        ModelConfig(n_inputs=30, layers=parse_layers("conv4x3")).validate()
