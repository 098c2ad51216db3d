"""AppTest of the dataset explorer page, on the real datasets (DIGIT_LAB_DATA) and on a missing one."""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn_core.data import local as data
from nn_core.data.registry import DATASETS
from tests.apptest_charts import chart, spec
from tests.conftest import require_real_data

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "app_pages/explorer.py"


@cache
def load_split(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The split straight from the data layer (read once per test session)."""
    return data.load_split(name, split)


def open_explorer(monkeypatch, tmp_path, data_root: str) -> AppTest:
    monkeypatch.setenv("DIGIT_LAB_DATA", data_root)
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path / "home"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def explorer(monkeypatch, tmp_path) -> AppTest:
    root = require_real_data("mnist")
    require_real_data("fashion-mnist")
    return open_explorer(monkeypatch, tmp_path, str(root))


def open_tab(at: AppTest, label: str) -> AppTest:
    """Select a tab as a click on it would (the page runs only the open tab)."""
    at.session_state["explorer_tab"] = label
    at.run()
    assert not at.exception, at.exception
    return at


def array(value) -> np.ndarray:
    """A data array of a Plotly JSON spec: a list, or a typed array {'dtype', 'bdata'[, 'shape']}."""
    if isinstance(value, dict):
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        return out.reshape([int(s) for s in str(value["shape"]).split(",")]) if "shape" in value else out
    return np.asarray(value)


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def select(at: AppTest, key: str, row: int) -> None:
    """Send the selection a click on a point carrying ``customdata=row`` would send."""
    states = at._tree.get_widget_states()
    widget = states.widgets.add()
    widget.id = chart(at, key).proto.id
    selection = {
        "points": [{"customdata": row, "point_index": 0}],
        "point_indices": [0],
        "box": [],
        "lasso": [],
    }
    widget.string_value = json.dumps({"selection": selection})
    at._run(states)
    assert not at.exception, at.exception


def test_missing_dataset_shows_the_download_panel_and_stops(monkeypatch, tmp_path):
    at = open_explorer(monkeypatch, tmp_path, str(tmp_path / "empty"))
    assert any("not on this computer yet" in w.value for w in at.warning)
    assert at.button(key="explorer_download_mnist").label == "Download MNIST"
    assert len(at.tabs) == 0 and len(at.metric) == 0


def test_summary_and_charts_come_from_the_data(explorer):
    images, labels = load_split("mnist", "train")
    metrics = {m.label: m.value for m in explorer.metric}
    assert metrics["Images"] == f"{len(images):,}"
    assert metrics["Image size"] == "28 × 28"
    assert metrics["Pixel mean"] == f"{images.mean(dtype=np.float64) / 255:.4f}"
    assert metrics["Pixel std"] == f"{images.std(dtype=np.float64) / 255:.4f}"
    assert [t.label for t in explorer.tabs] == ["Overview", "Samples", "Class averages", "Viewer", "PCA map"]
    balance = spec(explorer, "explorer_balance")["data"][0]
    np.testing.assert_array_equal(array(balance["y"]), np.bincount(labels, minlength=10))
    shown = sorted(c.proto.id.rsplit("-", 1)[1] for c in explorer.get("plotly_chart"))
    assert shown == ["explorer_balance", "explorer_histogram"]  # closed tabs do not run
    pca = spec(open_tab(explorer, "PCA map"), "explorer_pca")["data"]
    assert sum(len(array(t["customdata"])) for t in pca) == 5000
    for c, trace in enumerate(pca):
        assert (labels[array(trace["customdata"])] == c).all()


def test_switching_to_fashion_shows_class_names(explorer):
    images, labels = load_split("fashion-mnist", "train")
    names = DATASETS["fashion-mnist"].class_names
    explorer.radio(key="explorer_dataset").set_value("fashion-mnist").run()
    assert not explorer.exception
    assert list(spec(explorer, "explorer_balance")["data"][0]["x"]) == list(names)
    open_tab(explorer, "Samples")
    assert explorer.button_group(key="explorer_classes_fashion-mnist").options == list(names)
    assert f"({names[labels[0]]})" in markdown_text(open_tab(explorer, "Viewer"))
    assert explorer.metric[0].value == f"{len(images):,}"


def test_class_filter_and_resample_change_the_grid(explorer):
    _, labels = load_split("mnist", "train")
    open_tab(explorer, "Samples")
    before = array(spec(explorer, "explorer_grid")["data"][1]["customdata"])
    assert len(before) == 40 and len(set(labels[before].tolist())) > 3
    explorer.button_group(key="explorer_classes_mnist").set_value([3]).run()
    threes = array(spec(explorer, "explorer_grid")["data"][1]["customdata"])
    assert len(threes) == 40 and (labels[threes] == 3).all()
    explorer.button(key="explorer_resample").click().run()
    assert explorer.number_input(key="explorer_seed").value == 1
    again = array(spec(explorer, "explorer_grid")["data"][1]["customdata"])
    assert (labels[again] == 3).all() and set(again.tolist()) != set(threes.tolist())
    open_tab(open_tab(explorer, "Viewer"), "Samples")  # the settings outlive a closed tab
    assert explorer.button_group(key="explorer_classes_mnist").value == [3]
    assert explorer.number_input(key="explorer_seed").value == 1


def test_viewer_previous_and_next(explorer):
    _, labels = load_split("mnist", "train")
    open_tab(explorer, "Viewer")
    explorer.button(key="explorer_next").click().run()
    assert explorer.number_input(key="explorer_index").value == 1
    assert f"Image **#1** of the training set: label **{labels[1]}**" in markdown_text(explorer)
    explorer.button(key="explorer_prev").click().run()
    explorer.button(key="explorer_prev").click().run()
    assert explorer.number_input(key="explorer_index").value == len(labels) - 1  # wraps around
    z = array(spec(explorer, "explorer_image")["data"][0]["z"])
    np.testing.assert_array_equal(z.reshape(28, 28), load_split("mnist", "train")[0][-1])


def test_choosing_a_point_opens_its_image(explorer):
    _, labels = load_split("mnist", "train")
    open_tab(explorer, "PCA map")
    row = int(array(spec(explorer, "explorer_pca")["data"][4]["customdata"])[7])  # a "4" on the map
    select(explorer, "explorer_pca", row)
    assert spec(explorer, "explorer_pca_image")["layout"]["title"]["text"] == f"#{row}: {labels[row]}"
    assert len(spec(explorer, "explorer_pca")["data"]) == 11  # the ring around the chosen point
    assert open_tab(explorer, "Viewer").number_input(key="explorer_index").value == row  # the viewer follows
    open_tab(explorer, "Samples")
    tile = int(array(spec(explorer, "explorer_grid")["data"][1]["customdata"])[5])
    select(explorer, "explorer_grid", tile)
    open_tab(explorer, "Viewer")
    assert explorer.number_input(key="explorer_index").value == tile


def test_a_smaller_split_keeps_the_index_in_range(explorer):
    open_tab(explorer, "Viewer")
    explorer.number_input(key="explorer_index").set_value(59_999).run()
    explorer.radio(key="explorer_split").set_value("test").run()
    assert not explorer.exception
    assert explorer.number_input(key="explorer_index").value == 9_999
    assert explorer.metric[0].value == "10,000"


def test_viewer_shows_the_image_and_its_class_average_on_one_scale(explorer):
    images, labels = load_split("mnist", "train")
    open_tab(explorer, "Viewer")
    image, mean = (
        spec(explorer, "explorer_image")["data"][0],
        spec(explorer, "explorer_image_mean")["data"][0],
    )
    assert image["zmin"] == mean["zmin"] == 0 and image["zmax"] == mean["zmax"] == 255
    average = images[labels == labels[0]].mean(axis=0)  # 0..255, as the image's own values
    np.testing.assert_allclose(array(mean["z"]).reshape(28, 28), average, atol=0.01)
    assert "one scale" in " ".join(c.value for c in explorer.caption)
