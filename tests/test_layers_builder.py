"""The playground's layer builder: rows of every kind, the summary table, shape errors before Start,
links with ``layers=`` and old ``hidden=``/``act=`` links; plus its pure helpers."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn_core import links
from nn_core.architecture import LayerSpec, parse_layers
from nn_core.config import ModelConfig
from nn_core.model_summary import summary
from tests.playground_apptest import home, open_playground  # noqa: F401 - home is a fixture
from ui.training import cnn_analysis as cnn
from ui.training import layer_rows as lb
from ui.training import params as tp
from ui.training import registry as reg


def _param(at: AppTest, name: str) -> str | None:
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def _summaries(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html") if "mult-adds" in h.proto.body]


def _table(at: AppTest) -> list[list[str]]:
    """The summary table's rows as the text of their cells (tags dropped)."""
    (page,) = _summaries(at)
    rows = re.findall(r"<tr>(.*?)</tr>", page.split("<tbody>")[1])
    return [
        [
            re.sub(r"<[^>]+>", " ", c).replace("&nbsp;", " ").split()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r)
        ]
        for r in rows
    ]


def _layers(at: AppTest) -> list[str]:
    return [" ".join(row[0]) for row in _table(at)]


def _kinds(at: AppTest) -> list[str]:
    i, kinds = 0, []
    while True:
        try:
            kinds.append(at.selectbox(key=f"train_w_row{i}_kind").value)
        except KeyError:
            return kinds
        i += 1


def _add(at: AppTest, kind: str) -> None:
    at.selectbox(key="train_new_kind").select(kind).run()
    at.button(key="train_add_layer").click().run()
    assert not at.exception, at.exception


def test_rows_of_every_kind_are_added_where_they_fit_and_the_summary_follows():
    at = open_playground()  # one dense layer of 128
    assert _kinds(at) == ["dense"]
    assert _layers(at) == ["1 dense128 ReLU", "dense10 out softmax"]
    _add(at, "conv")  # goes before the dense layer
    _add(at, "pool")
    assert _kinds(at) == ["conv", "pool", "dense"]
    rows = _table(at)
    assert _layers(at) == [
        "1 conv16x3 ReLU",
        "2 maxpool2",
        "flatten",
        "3 dense128 ReLU",
        "dense10 out softmax",
    ]
    assert [row[1] for row in rows[:3]] == [["26×26×16"], ["13×13×16"], ["2704"]]
    assert rows[0][2:] == [[str((3 * 3 * 1 + 1) * 16)], [lb.compact(26 * 26 * 16 * 9)]] == [["160"], ["97k"]]
    assert _param(at, "layers") == "conv16x3,maxpool2,dense128"
    assert _param(at, "hidden") is None  # the stack replaces hidden= and act=
    # edit the conv row: 8 filters of 5x5, then make the pooling a mean over 2x2
    at.number_input(key="train_w_row0_filters").set_value(8).run()
    at.number_input(key="train_w_row0_kernel").set_value(5).run()
    at.selectbox(key="train_w_row1_pool").select("avgpool").run()
    _add(at, "batchnorm")
    _add(at, "dropout")
    assert _kinds(at) == ["conv", "pool", "dense", "batchnorm", "dropout"]
    assert _param(at, "layers") == "conv8x5,avgpool2,dense128,bn,dropout0.25"
    total = sum(
        r.params
        for r in summary(
            links.configs_from_values(
                tp.params_to_values({"layers": "conv8x5,avgpool2,dense128,bn,dropout0.25"})[0]
            )[0]
        )
    )
    assert f"{total:,} parameters" in "\n".join(c.value for c in at.caption)
    assert f"{total:,} weights and biases to learn" in "\n".join(c.value for c in at.caption)
    assert not at.error and not at.button(key="train_start").disabled


def test_removing_rows_back_to_dense_layers_makes_an_mlp_again():
    at = open_playground({"layers": "conv8x3,maxpool2,dense32"})
    assert _kinds(at) == ["conv", "pool", "dense"]
    assert at.slider(key="train_w_dropout").disabled  # dropout is a row of its own here
    at.button(key="train_del_layer_0").click().run()
    at.button(key="train_del_layer_0").click().run()
    assert not at.exception
    assert _kinds(at) == ["dense"] and at.number_input(key="train_w_row0_units").value == 32
    assert _param(at, "layers") is None and _param(at, "hidden") == "32"
    assert not at.slider(key="train_w_dropout").disabled


def test_changing_a_rows_kind_gives_it_that_kinds_settings():
    at = open_playground({"hidden": "64"})
    at.selectbox(key="train_w_row0_kind").select("conv").run()
    assert not at.exception
    assert at.number_input(key="train_w_row0_filters").value == 16
    assert at.selectbox(key="train_w_row0_padding").value == "valid"
    assert _param(at, "layers") == "conv16x3"


def test_a_stack_that_does_not_fit_says_which_layer_before_start():
    at = open_playground({"layers": "conv8x5,maxpool2,conv8x5,maxpool2,conv8x5,dense32"})
    errors = "\n".join(e.value for e in at.error)
    assert "layer 5 (conv8x5): a 5x5 kernel does not fit a 4x4 map" in errors
    assert at.button(key="train_start").disabled
    assert _summaries(at) == []
    at.selectbox(key="train_w_row4_padding").select("same").run()  # fix it in the row
    assert not at.error and not at.button(key="train_start").disabled
    assert _table(at)[4][1] == ["4×4×8"]


def test_a_conv_after_a_dense_layer_is_explained():
    at = open_playground({"layers": "dense32,conv8x3"})
    assert "layer 2 (conv8x3): conv and pooling layers need feature maps" in "\n".join(
        e.value for e in at.error
    )


def test_a_cnn_preset_fills_the_rows_and_its_link_reopens_the_same_stack():
    at = open_playground()
    at.selectbox(key="train_w_preset").select("lenet").run()
    assert not at.exception and not at.error
    from nn_core.presets import PRESETS

    link = _param(at, "layers")
    assert parse_layers(link) == PRESETS["lenet"].model.layers
    params = {k: _param(at, k) for k in at.query_params if k != "owner"}
    again = open_playground(params)
    assert not again.warning
    assert _kinds(again) == _kinds(at)
    assert _table(again) == _table(at)
    assert "Settings changed since" not in "\n".join(c.value for c in again.caption)


def test_old_links_open_unchanged():
    at = open_playground({"hidden": "64-32", "act": "tanh-relu", "dropout": "0.2", "lr": "0.1"})
    assert not at.warning
    assert _kinds(at) == ["dense", "dense"]
    assert [at.number_input(key=f"train_w_row{i}_units").value for i in range(2)] == [64, 32]
    assert at.selectbox(key="train_w_row0_activation").value == "tanh"
    assert at.slider(key="train_w_dropout").value == pytest.approx(0.2)
    assert _param(at, "hidden") == "64-32" and _param(at, "act") == "tanh-relu"
    assert _param(at, "dropout") == "0.2" and _param(at, "layers") is None


def test_a_bad_layers_parameter_is_reported_and_left_out():
    at = open_playground({"layers": "conv8x3,maxpol2"})
    assert "layers=conv8x3,maxpol2" in "\n".join(w.value for w in at.warning)
    assert _kinds(at) == ["dense"]


# pure helpers


def test_links_round_trip_a_layer_stack_and_keep_dense_stacks_as_mlps():
    values, problems = links.decode({"layers": "conv8x3s2same:tanh,maxpool2,bn:relu,dropout0.3,dense32"})
    assert problems == [] and values["hidden"] == () and values["dropout"] == 0.0
    assert links.encode(values)["layers"] == "conv8x3s2same:tanh,maxpool2,bn:relu,dropout0.3,dense32"
    model, _ = links.configs_from_values(values)
    assert model.layers == parse_layers("conv8x3s2same:tanh,maxpool2,bn:relu,dropout0.3,dense32")
    plain, problems = links.decode({"layers": "dense64:tanh,dense32"})
    assert plain["layers"] == () and plain["hidden"] == (64, 32) and plain["activations"] == ("tanh", "relu")
    assert links.configs_from_link("?layers=conv8x3,dense16")[0].layers == parse_layers("conv8x3,dense16")


def test_spec_from_fields_uses_the_kinds_own_settings():
    conv = LayerSpec("conv", filters=8, kernel=5, stride=2, padding="same", activation="tanh")
    assert lb.spec_from_fields("conv", {"filters": 4}, conv) == LayerSpec(
        "conv", filters=4, kernel=5, stride=2, padding="same", activation="tanh"
    )
    assert lb.spec_from_fields("pool", {}, conv) == LayerSpec("maxpool", size=2)  # a new kind's defaults
    assert lb.spec_from_fields("dropout", {"rate": 0.30000001}, conv).rate == 0.3


def test_new_conv_and_pooling_rows_go_before_the_dense_ones():
    specs = parse_layers("conv8x3,dense32,dropout0.2")
    assert lb.insert_at(specs, "conv") == lb.insert_at(specs, "pool") == 1
    assert lb.insert_at(specs, "dense") == lb.insert_at(specs, "batchnorm") == 3


def test_summary_records_name_the_output_shapes():
    rows = lb.summary_records(summary(ModelConfig(hidden=(), activations=(), layers=parse_layers("conv4x3"))))
    assert rows[0] == {
        "#": "1",
        "layer": "conv4x3",
        "activation": "ReLU",
        "output": "26×26×4",
        "params": "40",
        "mult-adds": "24k",
    }
    assert rows[1] == {
        "#": "",
        "layer": "flatten",
        "activation": "",
        "output": "2704",
        "params": "0",
        "mult-adds": "0",
    }
    assert rows[-1]["layer"] == "dense10 out" and rows[-1]["params"] == "27k"
    page = lb.summary_html(rows)
    assert page.count("<tr>") == 1 + len(rows) and ">26×26×4</td>" in page and "softmax" in page


def test_compact_counts():
    assert [lb.compact(n) for n in (0, 980, 9_800, 98_000, 1_234_567)] == ["0", "980", "9,800", "98k", "1.2M"]


@pytest.mark.real_data
def test_a_cnn_run_trains_and_its_filters_and_feature_maps_are_shown(mnist_root):
    at = open_playground({"n": "1000", "epochs": "1", "layers": "conv4x3,maxpool2,dense16", "val": "0.1"})
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    (worker,) = reg.owner_workers(at.session_state["train_owner"])
    deadline = time.monotonic() + 90
    while worker.is_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    at.run()
    assert not at.exception, at.exception
    assert worker.view().status == "finished" and worker.view().model_config.layers == parse_layers(
        "conv4x3,maxpool2,dense16"
    )
    titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text") for c in at.get("plotly_chart")]
    assert "4 filters of 3x3" in titles
    assert "layer 1 · conv4x3: 4 maps of 26x26" in titles and "layer 2 · maxpool2: 4 maps of 13x13" in titles
    chooser = at.selectbox(key=f"train_fmaps_{worker.record.run_id}_image")
    assert len(chooser.options) == cnn.SHOWN
    chooser.select_index(3).run()
    assert not at.exception, at.exception


def test_image_choices_put_mistakes_first_then_correct_images():
    y = np.array([0, 1, 2, 3, 4, 5])
    pred = np.array([0, 2, 2, 1, 4, 5])
    assert cnn.image_choices(np.array([3, 1]), y, pred, limit=4) == [3, 1, 0, 2]
    assert cnn.image_choices(np.array([], int), y, pred, limit=2) == [0, 2]
