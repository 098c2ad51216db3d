"""The network diagram on its pages under AppTest: the Draw page (canvas stubbed, as in
test_draw_page.py) and the playground's test-set analysis; and reading a click on a neuron."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn_core.config import ModelConfig
from nn_core.images.preprocess import preprocess_digit
from nn_core.network import build_network
from nn_core.store.default_model import load_default_model
from nn_core.store.model_file import SavedModel, save_model
from tests.apptest_charts import spec
from tests.test_draw_page import _choose, _file_key, _open, _seven, canvas, home  # noqa: F401 - fixtures
from tests.test_explorer_page import array
from ui.diagram.panel import picked_neuron
from ui.diagram.stages import network_stages


def _save(folder, hidden=(16,), activations=("relu",), seed=0):
    network = build_network(ModelConfig(hidden=hidden, activations=activations), np.random.default_rng(seed))
    save_model(folder / "models" / "net.npz", SavedModel(network))
    return network


def _open_saved(folder: Path) -> AppTest:
    """The Draw page with the saved ``net.npz`` chosen (the shipped default model comes first)."""
    return _choose(_open(), _file_key(folder / "models" / "net.npz"))


def _neurons(figure: dict) -> dict:
    (trace,) = [t for t in figure["data"] if t.get("customdata") is not None and t["type"] == "scatter"]
    return trace


def _image(figure: dict) -> np.ndarray:
    heat = next(t for t in figure["data"] if t["type"] == "heatmap")
    return array(heat["z"]).astype(np.float32)[::-1]


def test_no_diagram_before_a_drawing(home, canvas):  # noqa: F811
    _save(home)
    at = _open()
    assert not at.exception
    assert not [c for c in at.get("plotly_chart") if c.proto.id.endswith("-draw_diagram")]


def test_a_drawing_lights_the_diagram(home, canvas):  # noqa: F811
    network = _save(home, hidden=(40,))
    canvas.image = _seven()
    at = _open_saved(home)
    assert not at.exception
    figure = spec(at, "draw_diagram")
    digit = preprocess_digit(canvas.image, invert=False)
    np.testing.assert_allclose(_image(figure), digit, atol=1e-6)  # the image the network sees
    neurons = _neurons(figure)
    assert len(neurons["customdata"]) == 16 + 10  # 16 of the 40, and the ten outputs
    stages = network_stages(network, digit)
    strongest = np.sort(np.argsort(-stages[0].values)[:16])
    assert [u for c, u in neurons["customdata"] if c == 1] == strongest.tolist()
    top = int(np.argmax(stages[-1].values))
    assert neurons["text"][16 + top].startswith(f"<b>{top} ")
    notes = [a["text"] for a in figure["layout"]["annotations"]]
    assert "+ 24 more neurons<br>(less active, not drawn)" in notes
    assert any("Click a neuron" in c.value for c in at.caption)


def test_a_chosen_neuron_shows_its_weights_and_can_be_let_go(home, canvas):  # noqa: F811
    network = _save(home, hidden=(16,))
    canvas.image = _seven()
    at = _open_saved(home)
    at.session_state["draw_diagram_neuron"] = (1, 5)  # what a click on neuron 5 of layer 1 stores
    at.run()
    assert not at.exception
    assert any(m.value == "**Layer 1: neuron 5**" for m in at.markdown)
    weights = spec(at, "draw_diagram_weights")
    np.testing.assert_allclose(
        array(weights["data"][0]["z"]), network.dense_layers[0].W[:, 5].reshape(28, 28), rtol=1e-6
    )
    figure = spec(at, "draw_diagram")
    assert any(t.get("marker", {}).get("symbol") == "circle-open" for t in figure["data"])
    at.button(key="draw_diagram_release").click().run()
    assert "draw_diagram_neuron" not in at.session_state
    assert not [c for c in at.get("plotly_chart") if c.proto.id.endswith("-draw_diagram_weights")]


def test_an_output_neuron_shows_its_probability(home, canvas):  # noqa: F811
    network = _save(home, hidden=(8,))
    canvas.image = _seven()
    at = _open_saved(home)
    at.session_state["draw_diagram_neuron"] = (2, 7)
    at.run()
    assert not at.exception
    assert any(m.value == "**Output: 7**" for m in at.markdown)
    prob = network.predict_proba(preprocess_digit(canvas.image, invert=False))[0, 7]
    assert any(f"probability {prob:.1%}" in m.value for m in at.markdown)


def test_top_to_bottom_for_narrow_screens(home, canvas):  # noqa: F811
    _save(home)
    canvas.image = _seven()
    at = _open()
    across = spec(at, "draw_diagram")["layout"]["height"]
    at.toggle(key="draw_diagram_vertical").set_value(True).run()
    assert not at.exception
    assert spec(at, "draw_diagram")["layout"]["height"] > across


def test_a_network_without_hidden_layers_is_drawn_straight_to_the_outputs(home, canvas):  # noqa: F811
    _save(home, hidden=(), activations=())
    canvas.image = _seven()
    at = _open_saved(home)
    assert not at.exception
    assert len(_neurons(spec(at, "draw_diagram"))["customdata"]) == 10


def test_the_default_cnn_is_drawn_as_feature_maps_then_neurons(home, canvas):  # noqa: F811
    canvas.image = _seven()
    at = _open()  # nothing saved: the shipped default model, a convolutional network
    assert not at.exception
    assert not [i for i in at.info if "cannot show" in i.value]
    figure = spec(at, "draw_diagram")
    digit = preprocess_digit(canvas.image, invert=False)
    np.testing.assert_allclose(_image(figure), digit, atol=1e-6)
    network = load_default_model().network
    stages = network_stages(network, digit)
    maps = [t for t in figure["data"] if t["type"] == "heatmap"][1:]
    assert [array(t["z"]).shape for t in maps] == [(24, 24)] * 8 + [(12, 12)] * 8 + [(8, 8)] * 8 + [
        (4, 4)
    ] * 8
    shown = [u for c, u in _neurons(figure)["customdata"] if c == 1]
    strongest = np.sort(np.argsort(-stages[0].values.mean(axis=(0, 1)))[:8])
    assert shown == strongest.tolist()
    np.testing.assert_allclose(
        array(maps[0]["z"])[::-1], stages[0].values[:, :, shown[0]], rtol=1e-5, atol=1e-6
    )
    assert any("column of feature maps" in c.value for c in at.caption)


def test_a_chosen_feature_map_shows_its_filter(home, canvas):  # noqa: F811
    canvas.image = _seven()
    at = _open()
    at.session_state["draw_diagram_neuron"] = (
        1,
        3,
    )  # what a click on channel 3 of the first convolution stores
    at.run()
    assert not at.exception
    assert any(m.value == "**Layer 1: channel 3**" for m in at.markdown)
    filt = spec(at, "draw_diagram_weights")
    W = load_default_model().network.layers[0].W  # (5, 5, 1, 32)
    np.testing.assert_allclose(array(filt["data"][0]["z"]), W[:, :, 0, 3], rtol=1e-6)
    at.session_state["draw_diagram_neuron"] = (3, 10)  # a map of the second convolution: no filter image
    at.run()
    assert not at.exception
    assert any(m.value == "**Layer 3: channel 10**" for m in at.markdown)
    assert not [c for c in at.get("plotly_chart") if c.proto.id.endswith("-draw_diagram_weights")]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"selection": {"points": [{"customdata": [1, 17], "x": 0.1}]}}, (1, 17)),
        ({"selection": {"points": [{"x": 0.1, "y": 0.2}]}}, None),  # the image or the background
        ({"selection": {"points": []}}, None),
        (None, None),
    ],
)
def test_a_click_is_read_as_a_neuron_or_nothing(event, expected):
    assert picked_neuron(event) == expected


def _analysis_app(layers: str = "") -> None:
    import numpy as np

    from nn_core.architecture import parse_layers
    from nn_core.config import ModelConfig, TrainConfig
    from nn_core.network import build_network
    from ui.training.analysis import render_analysis
    from ui.training.view import RunView

    config = (
        ModelConfig(hidden=(24,))
        if not layers
        else ModelConfig(hidden=(), activations=(), layers=parse_layers(layers))
    )
    network = build_network(config, np.random.default_rng(0))
    view = RunView(
        run_id="r1",
        owner="o",
        name="run 1",
        status="finished",
        message="",
        model_config=network.config,
        train_config=TrainConfig(),
        history=(),
        epoch_ended_at=(),
        test=None,
        source="trained",
        generation=0,
        progress=(0, 0),
        pausing=False,
        lr_now=0.1,
        version=1,
    )
    render_analysis(view, network)


@pytest.mark.real_data
def test_the_analysis_shows_the_diagram_for_a_chosen_test_image(mnist_root, tmp_path, monkeypatch):
    from nn_core.data.local import load_split, to_float
    from ui.training.analysis import analyse, confident_mistakes

    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    at = AppTest.from_function(_analysis_app, default_timeout=60).run()
    assert not at.exception, at.exception
    images, labels = load_split("mnist", "test", mnist_root)
    X = to_float(images)
    network = build_network(ModelConfig(hidden=(24,)), np.random.default_rng(0))
    mistakes = confident_mistakes(analyse(network, X, labels), labels)
    pick = at.selectbox(key="train_diagram_r1_pick")
    assert pick.value == int(mistakes[0]) and pick.options[0].startswith(f"#{mistakes[0]}: a ")
    figure = spec(at, "train_diagram_r1")
    np.testing.assert_allclose(_image(figure), X[mistakes[0]].reshape(28, 28), atol=1e-6)
    outputs = [t for t in _neurons(figure)["text"] if t]  # "3  0%  ← true", "<b>7  97%</b>", ...
    first = int(mistakes[0])
    assert outputs[labels[first]].endswith("← true")  # the label, marked
    assert outputs[network.predict(X[first : first + 1])[0]].startswith("<b>")  # the wrong answer, bold
    pick.set_value(int(mistakes[3])).run()
    np.testing.assert_allclose(
        _image(spec(at, "train_diagram_r1")), X[mistakes[3]].reshape(28, 28), atol=1e-6
    )
    at.number_input(key="train_diagram_r1_number").set_value(5).run()
    assert not at.exception
    np.testing.assert_allclose(_image(spec(at, "train_diagram_r1")), X[5].reshape(28, 28), atol=1e-6)
    assert any(c.value.startswith("#5: a ") for c in at.caption)


@pytest.mark.real_data
def test_the_analysis_draws_a_cnn_as_feature_maps(mnist_root, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    at = AppTest.from_function(_analysis_app, default_timeout=60, args=("conv4x5,maxpool2",)).run()
    assert not at.exception, at.exception
    figure = spec(at, "train_diagram_r1")
    heatmaps = [t for t in figure["data"] if t["type"] == "heatmap"]
    assert [array(t["z"]).shape for t in heatmaps] == [(28, 28)] + [(24, 24)] * 4 + [(12, 12)] * 4
    assert not [i for i in at.info if "cannot show" in i.value]
