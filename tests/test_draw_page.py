"""The Draw page under AppTest, with the drawing canvas replaced by a stub that returns a fixed image."""

from __future__ import annotations

import json
import sys
import threading
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from nn_core.architecture import parse_layers
from nn_core.config import ModelConfig
from nn_core.images.preprocess import preprocess_digit
from nn_core.network import build_network
from nn_core.store.model_file import SavedModel, save_model
from nn_core.store.my_digits import add_digit, load_digits
from ui.draw import models as draw_models
from ui.draw.input import EMPTY_HINT
from ui.draw.predict import predict_digit
from ui.feature_maps import conv_maps

ROOT = Path(__file__).resolve().parents[1]
PAGE = "app_pages/draw.py"


def _seven() -> np.ndarray:
    im = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(im).line([(60, 50), (210, 50), (110, 240)], fill=(255, 255, 255, 255), width=20)
    return np.asarray(im)


def _tiny_network(seed: int = 0):
    return build_network(ModelConfig(hidden=(16,), activations=("relu",)), np.random.default_rng(seed))


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An app home with one small saved model, and an empty data folder."""
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path / "data"))
    return tmp_path / "home"


@pytest.fixture
def saved_network(home):
    network = _tiny_network()
    save_model(home / "models" / "tiny.npz", SavedModel(network))
    return network


@pytest.fixture
def canvas(monkeypatch):
    """Replace streamlit_drawable_canvas; set ``canvas.image`` to what the next run 'draws'."""
    fake = types.ModuleType("streamlit_drawable_canvas")
    fake.image = None
    fake.calls = []

    def st_canvas(**kwargs):
        fake.calls.append(kwargs)
        return types.SimpleNamespace(image_data=fake.image, json_data={"objects": []})

    fake.st_canvas = st_canvas
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", fake)
    return fake


def _open() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page(PAGE)
    return at.run()


def _texts(at: AppTest) -> str:
    return "\n".join(e.value for kind in (at.markdown, at.subheader, at.info) for e in kind)


def _charts(at: AppTest) -> list:
    return [e for e in at.get("plotly_chart")]


def test_empty_canvas_shows_a_hint_and_no_prediction(home, saved_network, canvas):
    at = _open()
    assert not at.exception
    assert at.title[0].value == "Draw & predict"
    assert at.selectbox(key="draw_model").value == "tiny"
    assert any(EMPTY_HINT in i.value for i in at.info)
    (empty,) = _charts(at)  # drawn before the first stroke, so the browser has the chart library loaded
    assert empty.proto.id.endswith("-draw_probabilities_empty")
    bars = json.loads(empty.proto.spec)["data"][0]
    assert bars["type"] == "bar" and len(bars["x"]) == 10
    assert not any(bars["text"])  # no probabilities yet
    kwargs = canvas.calls[-1]
    assert kwargs["return_image_data"] and kwargs["drawing_mode"] == "freedraw"
    assert (kwargs["width"], kwargs["height"]) == (280, 280)
    assert kwargs["stroke_color"] == "#FFFFFF" and kwargs["background_color"] == "#000000"
    assert at.session_state["current_model"] == "tiny"


def test_a_drawing_shows_the_networks_answer_and_chart(home, saved_network, canvas):
    canvas.image = _seven()
    at = _open()
    assert not at.exception
    digit = preprocess_digit(canvas.image, invert=False)
    expected = predict_digit(saved_network, digit, threshold=0.8)
    assert expected.headline() in _texts(at)
    assert len(_charts(at)) >= 1
    assert at.selectbox[1].value == expected.top  # "This digit is a" starts at the prediction
    at.slider(key="draw_threshold").set_value(0.5).run()
    relaxed = predict_digit(saved_network, digit, threshold=0.5)
    assert relaxed.headline() in _texts(at)


@pytest.mark.parametrize(
    ("hidden", "activations", "charts"),
    [((16,), ("relu",), 4), ((12, 8), ("tanh", "sigmoid"), 4), ((), (), 2)],
)
def test_look_inside_shows_the_hidden_layers(home, canvas, hidden, activations, charts):
    network = build_network(ModelConfig(hidden=hidden, activations=activations), np.random.default_rng(4))
    save_model(home / "models" / "inside.npz", SavedModel(network))
    canvas.image = _seven()
    at = _open()
    assert len(_charts(at)) == 2  # off by default: the probabilities and the network diagram
    at.toggle(key="draw_look_inside").set_value(True).run()
    assert not at.exception
    assert len(_charts(at)) == charts
    if not hidden:
        assert any("no hidden layer" in i.value for i in at.info)


def test_a_cnn_model_predicts_and_look_inside_shows_its_feature_maps(home, canvas):
    layers = parse_layers("conv4x5,maxpool2,conv8x3:linear,bn:relu,maxpool2,dense16")
    network = build_network(ModelConfig(hidden=(), activations=(), layers=layers), np.random.default_rng(4))
    save_model(home / "models" / "cnn.npz", SavedModel(network))
    canvas.image = _seven()
    at = _open()
    assert not at.exception
    expected = predict_digit(network, preprocess_digit(canvas.image, invert=False), threshold=0.8)
    assert expected.headline() in _texts(at)
    at.toggle(key="draw_look_inside").set_value(True).run()
    assert not at.exception
    assert "conv4x5-maxpool2-conv8x3:linear-bn:relu-maxpool2-dense16-10" in _texts(at)
    digit = preprocess_digit(canvas.image, invert=False)
    maps = conv_maps(network, digit)
    assert [m.position for m in maps] == [1, 2, 3, 4, 5]  # every layer on maps; not the dense one
    charts = {c.proto.id: c for c in at.get("plotly_chart")}
    titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text") for c in charts.values()]
    assert "4 filters of 5x5" in titles
    for layer in maps:
        h, w, c = layer.maps.shape
        assert f"layer {layer.position} · {layer.name}: {c} maps of {h}x{w}" in titles
    assert "Layer 1: 16 relu units" in " ".join(c.proto.spec for c in charts.values())  # the dense layer


def test_brush_slider_and_clear_reach_the_canvas(home, saved_network, canvas):
    at = _open()
    at.slider(key="draw_brush").set_value(30).run()
    assert canvas.calls[-1]["stroke_width"] == 30
    first_key = canvas.calls[-1]["key"]
    at.button(key="draw_clear").click().run()
    assert not at.exception
    assert canvas.calls[-1]["key"] != first_key  # a new canvas: the drawing is gone


def test_adding_and_deleting_my_digits(home, saved_network, canvas):
    canvas.image = _seven()
    at = _open()
    at.selectbox[1].set_value(7).run()
    at.button(key="draw_add_digit").click().run()
    assert not at.exception
    digits = load_digits(home / "digits" / "my-digits.npz")
    assert digits.labels.tolist() == [7]
    np.testing.assert_allclose(
        digits.images[0] / 255.0, preprocess_digit(canvas.image, invert=False), atol=0.5 / 255
    )
    assert any("Added a 7" in s.value for s in at.success)
    assert "1 digit (7 ×1)" in _texts(at)
    assert any(m.label.startswith("Accuracy of tiny") for m in at.metric)
    at.multiselect(key="draw_digits_delete").set_value([int(digits.ids[0])]).run()
    at.button(key="draw_digits_delete_button").click().run()
    assert not at.exception
    assert len(load_digits(home / "digits" / "my-digits.npz")) == 0
    assert any("Deleted 1 digit" in s.value for s in at.success)


def test_my_digits_are_scored_with_the_chosen_model(home, saved_network, canvas):
    images = np.random.default_rng(0).integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    predicted = saved_network.predict(images.reshape(6, 784))
    labels = [int(p) for p in predicted[:4]] + [(int(p) + 1) % 10 for p in predicted[4:]]  # two wrong
    for image, label in zip(images, labels, strict=True):
        add_digit(image, label)
    at = _open()
    assert not at.exception
    metric = next(m for m in at.metric if m.label.startswith("Accuracy of tiny"))
    assert metric.value == "66.7%"
    assert "6 digits" in _texts(at)


def test_a_live_run_comes_first_and_a_run_without_weights_says_so(home, saved_network, canvas):
    live = _tiny_network(seed=1)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state["live_models"] = {
        "id3": ("mnist", lambda: live, "run 3"),
        "id4": ("mnist", lambda: None, "run 4"),
    }
    at.switch_page(PAGE)
    canvas.image = _seven()
    at.run()
    assert not at.exception
    assert at.selectbox(key="draw_model").options[:2] == [
        "run 3 (playground run, live)",
        "run 4 (playground run, live)",
    ]
    assert at.selectbox(key="draw_model").value == "run 3"
    expected = predict_digit(live, preprocess_digit(canvas.image, invert=False), 0.8)
    assert expected.headline() in _texts(at)
    at.selectbox(key="draw_model").set_value("run 4").run()
    assert any("no weights yet" in i.value for i in at.info)


def test_a_damaged_model_file_gets_a_message(home, canvas):
    (home / "models").mkdir(parents=True)
    (home / "models" / "broken.npz").write_bytes(b"not a model")
    at = _open()
    assert not at.exception
    assert any("cannot be used" in e.value for e in at.error)


def test_without_models_or_data_the_page_offers_the_download(home, canvas):
    at = _open()
    assert not at.exception
    assert any("default model" in i.value for i in at.info)
    assert any(b.label == "Download MNIST" for b in at.button)
    assert not list(at.get("progress"))


def test_the_default_model_is_trained_once_with_a_progress_bar(home, canvas, monkeypatch):
    release = threading.Event()
    calls = []

    def fake_train(progress=None, **kwargs):
        calls.append(kwargs)
        progress(0.5, "Epoch 2 of 4")
        release.wait(10)
        return SavedModel(_tiny_network(seed=2))

    monkeypatch.setattr(draw_models, "download_panel", lambda name, key: True)
    monkeypatch.setattr(draw_models, "train_default_model", fake_train)
    at = _open()
    assert not at.exception
    job = draw_models.default_model_job()
    assert job.running
    at.run()  # a rerun while it trains does not start a second training
    progress = list(at.get("progress"))
    assert progress and len(calls) == 1
    release.set()
    job.thread.join(10)
    assert (home / "models" / "default-mnist.npz").exists()
    at.run()
    assert not at.exception
    assert at.selectbox(key="draw_model").value == "default-mnist"
    assert len(calls) == 1


def test_a_damaged_my_digits_file_is_kept_aside_for_a_new_set(home, saved_network, canvas):
    """The damaged-file message never suggests unsafe loading; the page offers to keep a copy."""
    import io

    path = home / "digits" / "my-digits.npz"
    path.parent.mkdir(parents=True)
    pickled = io.BytesIO()
    np.savez(
        pickled, format=np.array("digit-lab-digits"), version=np.array(1), images=np.array([{}], dtype=object)
    )
    path.write_bytes(pickled.getvalue())
    canvas.image = _seven()
    at = _open()
    assert not at.exception
    errors = "\n".join(e.value for e in at.error)
    assert "damaged" in errors and "Keep a copy" in errors
    assert "pickle" not in errors.lower() and "unsafe" not in errors.lower()
    at.button(key="draw_digits_set_aside").click().run()
    assert not at.exception
    (copy,) = path.parent.glob("my-digits.damaged-*.npz")
    assert copy.read_bytes() == pickled.getvalue() and not path.exists()
    assert any("kept as" in s.value for s in at.success)
    assert any("No digits yet" in i.value for i in at.info)
    at.selectbox[1].set_value(7).run()
    at.button(key="draw_add_digit").click().run()
    assert load_digits(path).labels.tolist() == [7]
