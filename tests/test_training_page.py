"""The Training playground page under AppTest: controls to config, presets, URL, invalid input, a run,
and the command line of a run in the Files tab."""

from __future__ import annotations

import re
import shlex
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn_core.cli.main import build_parser
from nn_core.cli.train import configs_from_args
from nn_core.config import ModelConfig, TrainConfig
from nn_core.network import build_network
from nn_core.store import runstore
from nn_core.store.model_file import SavedModel
from tests.apptest_charts import spec
from tests.playground_apptest import PAGE, home, open_playground  # noqa: F401 - home is a fixture
from ui.training import registry as reg


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_page_opens_with_defaults_and_mirrors_them_into_the_url():
    at = open_playground()
    assert at.title[0].value == "Training playground"
    assert at.number_input(key="train_w_row0_units").value == 128
    assert at.select_slider(key="train_w_lr").value == pytest.approx(0.05)
    params = at.query_params
    owner = params["owner"][0] if isinstance(params["owner"], list) else params["owner"]
    assert runstore.is_valid_id(owner)
    lr = params["lr"][0] if isinstance(params["lr"], list) else params["lr"]
    assert lr == "0.05"
    assert at.button(key="train_start") is not None


def test_before_the_first_run_the_charts_are_drawn_empty_over_the_planned_epochs():
    at = open_playground({"epochs": "12"})
    assert "No runs yet" in _texts(at.info)
    for key in ("train_empty_loss", "train_empty_acc"):
        figure = spec(at, key)
        assert figure["data"] and all(not trace["x"] for trace in figure["data"]), "no points before a run"
        assert figure["layout"]["xaxis"]["range"] == [0.5, 12.5]
    assert spec(at, "train_empty_acc")["layout"]["yaxis"]["range"] == [0, 1]
    at.number_input(key="train_w_epochs").set_value(30).run()
    assert spec(at, "train_empty_loss")["layout"]["xaxis"]["range"] == [0.5, 30.5]


def test_url_parameters_restore_the_controls_seed_included():
    at = open_playground(
        {"hidden": "64-32", "act": "tanh-relu", "lr": "0.003", "opt": "adam", "seed": "42", "n": "2000"}
    )
    assert at.number_input(key="train_w_row0_units").value == 64
    assert at.number_input(key="train_w_row1_units").value == 32
    assert at.selectbox(key="train_w_row0_activation").value == "tanh"
    assert at.selectbox(key="train_w_optimizer").value == "adam"
    assert at.select_slider(key="train_w_lr").value == pytest.approx(0.003)
    assert at.number_input(key="train_w_seed").value == 42
    assert at.slider(key="train_w_train_size").value == 2000
    assert not at.warning


def test_bad_url_parameters_are_explained_not_crashed_on():
    at = open_playground({"lr": "fast", "hidden": "0-5", "opt": "lion"})
    warnings = _texts(at.warning)
    assert "lr=fast" in warnings and "hidden=0-5" in warnings and "opt=lion" in warnings
    assert at.select_slider(key="train_w_lr").value == pytest.approx(0.05)
    assert at.number_input(key="train_w_row0_units").value == 128


def test_choosing_a_preset_fills_every_control():
    at = open_playground()
    at.selectbox(key="train_w_preset").select("nielsen").run()
    assert not at.exception
    assert [at.number_input(key=f"train_w_row{i}_units").value for i in range(2)] == [30, 25]
    assert at.selectbox(key="train_w_row1_activation").value == "sigmoid"
    assert at.selectbox(key="train_w_output").value == "sigmoid"
    assert at.selectbox(key="train_w_loss").value == "mse"
    assert at.select_slider(key="train_w_lr").value == pytest.approx(1.3)
    assert at.number_input(key="train_w_batch_size").value == 10
    assert at.number_input(key="train_w_epochs").value == 50
    assert not at.error
    at.number_input(key="train_w_seed").set_value(9).run()
    assert "Settings changed since choosing the preset" in _texts(at.caption)


def test_an_invalid_combination_is_explained_and_blocks_start():
    at = open_playground()
    at.selectbox(key="train_w_output").select("sigmoid").run()
    assert not at.exception
    assert "cross-entropy needs a softmax output" in _texts(at.error)
    assert at.button(key="train_start").disabled


def test_layers_can_be_added_and_removed():
    at = open_playground({"hidden": "64", "act": "tanh"})
    at.button(key="train_add_layer").click().run()
    assert at.number_input(key="train_w_row1_units").value == 64
    at.number_input(key="train_w_row1_units").set_value(20).run()
    at.button(key="train_del_layer_0").click().run()
    assert not at.exception
    assert at.number_input(key="train_w_row0_units").value == 20
    assert len([n for n in at.number_input if n.key and n.key.endswith("_units")]) == 1
    at.button(key="train_del_layer_0").click().run()
    assert "at least one hidden layer" in _texts(at.error)


def test_settings_survive_a_page_switch():
    at = open_playground()
    at.number_input(key="train_w_seed").set_value(7).run()
    at.switch_page("app_pages/home.py").run()
    at.switch_page(PAGE).run()
    assert at.number_input(key="train_w_seed").value == 7


@pytest.mark.real_data
def test_a_small_run_trains_and_is_analysed(mnist_root):
    at = open_playground({"n": "1000", "epochs": "2", "hidden": "16", "val": "0.1"})
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    owner = at.session_state["train_owner"]
    (worker,) = reg.owner_workers(owner)
    deadline = time.monotonic() + 60
    while worker.is_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    at.run()
    assert not at.exception, at.exception
    assert worker.view().status == "finished" and worker.view().epochs_done == 2
    assert "Finished: 2 epochs" in _texts(at.markdown)
    assert "Test accuracy" in _texts(at.metric) or any(m.label == "Test accuracy" for m in at.metric)
    assert runstore.load_run(worker.record.run_id).owner == owner
    # the run is offered to the Draw page as a live model
    assert worker.record.run_id in at.session_state["live_models"]

    # +1 epoch, a new learning rate, then Reset back to the seed's initial weights
    at.button(key="train_step").click().run()
    worker.join(60)
    at.run()
    assert worker.view().epochs_done == 3
    lr_key = f"train_new_lr_{worker.record.run_id}"
    at.select_slider(key=lr_key).set_value(0.01).run()
    at.button(key="train_apply_lr").click().run()
    assert worker.view().train_config.lr == pytest.approx(0.01)
    assert "learning rate 0.01" in _texts(at.success)
    at.button(key="train_reset").click().run()
    assert not at.exception, at.exception
    assert worker.view().status == "ready" and worker.view().epochs_done == 0
    assert "Ready: press Start to train." in _texts(at.markdown)


@pytest.mark.real_data
def test_divergence_is_shown_with_advice(mnist_root):
    at = open_playground(
        {
            "n": "1000",
            "epochs": "3",
            "hidden": "64-64-64-64",
            "act": "relu",
            "opt": "momentum",
            "lr": "10",
        }
    )
    at.button(key="train_start").click().run()
    (worker,) = reg.owner_workers(at.session_state["train_owner"])
    worker.join(60)
    at.run()
    assert not at.exception, at.exception
    errors = _texts(at.error)
    assert "Training diverged" in errors and "too high" in errors and "try" in errors
    assert worker.view().status == "diverged"
    assert not at.button(key="train_resume").disabled  # lower the rate and go on


def test_the_files_tab_shows_the_command_line_that_repeats_the_run():
    owner = "00112233445566aa"
    model = ModelConfig(hidden=(24, 12), activations=("tanh", "relu"), init="xavier", dropout=0.1)
    train = TrainConfig(epochs=4, optimizer="adam", lr=0.002, schedule="cosine", seed=5, train_size=3000)
    saved = SavedModel(build_network(model, np.random.default_rng(0)), train, [], "mnist", None)
    worker = reg.import_model(owner, "Run 1", saved, "mine.npz")
    at = open_playground({"owner": owner})
    (code,) = [c for c in at.code if c.value.startswith("python -m nn_core train")]
    assert "--activation tanh,relu" in code.value and "--optimizer adam" in code.value
    words = shlex.split(code.value.replace("\\\n", " "))
    args = build_parser().parse_args(words[3:])
    assert configs_from_args(args) == (worker.record.model_config, worker.record.train_config)


def test_a_clamped_learning_rate_in_a_shared_link_is_reported():
    at = open_playground({"lr": "50", "opt": "sgd"})
    assert at.select_slider(key="train_w_lr").value == pytest.approx(10.0)
    assert "`lr=50`: the largest choice is 10; used 10" in _texts(at.warning)
    assert "will likely diverge" in _texts(at.caption)  # SGD gets the rate advice too


@pytest.mark.real_data
def test_a_run_that_does_not_learn_is_not_reported_as_a_success(mnist_root):
    at = open_playground({"n": "2000", "epochs": "2", "hidden": "128", "opt": "sgd", "lr": "10"})
    at.button(key="train_start").click().run()
    (worker,) = reg.owner_workers(at.session_state["train_owner"])
    worker.join(120)
    at.run()
    assert not at.exception, at.exception
    assert worker.view().status == "finished"  # finite losses: it did not diverge
    assert "but the network did not learn" in _texts(at.markdown)
    warnings = _texts(at.warning)
    assert "This run is not learning" in warnings and "too high: try 1." in warnings


def _click_point(at: AppTest, key: str, x: int, y: int) -> None:
    """Send the selection a click on the point (x, y) of the chart drawn with ``key`` would send."""
    import json

    from tests.apptest_charts import chart

    states = at._tree.get_widget_states()
    widget = states.widgets.add()
    widget.id = chart(at, key).proto.id
    selection = {"points": [{"x": x, "y": y, "point_index": 0}], "point_indices": [0], "box": [], "lasso": []}
    widget.string_value = json.dumps({"selection": selection})
    at._run(states)
    assert not at.exception, at.exception


@pytest.mark.real_data
def test_messages_tables_and_buttons_stay_true_to_the_run(mnist_root):
    at = open_playground({"n": "1000", "epochs": "1", "hidden": "16", "val": "0"})
    at.button(key="train_start").click().run()
    (first,) = reg.owner_workers(at.session_state["train_owner"])
    first.join(60)
    at.run()
    at.file_uploader(key="train_upload").set_value(("broken.npz", b"not a model", "application/octet-stream"))
    at.run()
    assert "broken.npz was not added" in _texts(at.error)
    at.button(key="train_start").click().run()
    assert "broken.npz" not in _texts(at.error)  # a new action replaces the old message
    worker = reg.owner_workers(at.session_state["train_owner"])[-1]
    assert worker is not first
    worker.join(60)
    at.run()
    assert not at.exception, at.exception
    assert "broken.npz" not in _texts(at.error)

    history, summary = (d.value for d in at.dataframe)
    assert "val_acc" not in at.dataframe[0].proto.column_order  # no validation set: no empty columns
    cells = summary.astype(str).to_numpy().ravel().tolist()
    assert not any(c in ("None", "nan", "NaN", "<NA>") for c in cells), cells
    assert summary["best val acc"].iloc[0] == "no validation set"
    assert summary["test acc"].iloc[0].endswith("%")
    assert at.button(key="train_stop").disabled  # finished: nothing to stop

    chart_key = f"train_confusion_{worker.record.run_id}"
    _click_point(at, chart_key, 3, 3)  # the diagonal: the correct answers for class 3
    assert "recognised" in _texts(at.caption) and "Correct: true 3" in _texts(at.markdown)
    _click_point(at, chart_key, 5, 3)  # off the diagonal: back to the errors
    assert "recognised" not in _texts(at.caption)

    at.button(key="train_reset").click().run()
    assert worker.view().status == "ready"
    assert at.button(key="train_stop").disabled  # a run that is Ready has nothing to stop


@pytest.mark.real_data
def test_the_analyse_button_of_a_training_run_names_no_epoch_that_goes_stale(mnist_root):
    at = open_playground({"n": "60000", "epochs": "3", "hidden": "512-256", "val": "0"})
    at.button(key="train_start").click().run()
    (worker,) = reg.owner_workers(at.session_state["train_owner"])
    try:
        deadline = time.monotonic() + 120
        while worker.view().epochs_done == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        at.run()
        if not worker.is_running():
            pytest.skip("the run ended before the page could be checked")
        label = at.button(key="train_analyse_now").label
        assert "epoch" in label and not any(
            ch.isdigit() for ch in label
        )  # the next epoch would make it stale
        at.button(key="train_analyse_now").click().run()
        assert not at.exception, at.exception
        shown = _texts(at.markdown)
        assert re.search(r"on the 10,000 test images, after epoch [1-3]\.", shown)
    finally:
        worker.stop()
        worker.join(120)
