"""ui.model_choices: which models a session may predict with (never another owner's runs)."""

from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from nn_core.config import ModelConfig, TrainConfig
from nn_core.network import build_network
from nn_core.store.model_file import SavedModel, save_model
from nn_core.store.paths import models_dir
from nn_core.store.runstore import RunRecord, save_run


def _list_choices_script() -> None:
    import streamlit as st

    from ui.model_choices import load_choice, model_choices, register_live_model

    st.session_state["train_owner"] = "owner-aaaa"
    register_live_model("run-live-1", "mnist", lambda: None, "Run 9 · live")
    for choice in model_choices():
        network = load_choice(choice)
        st.write(f"{choice.kind}|{choice.label}|{'none' if network is None else network.config.hidden}")


def _network(width: int):
    return build_network(ModelConfig(hidden=(width,), activations=("relu",)), np.random.default_rng(0))


def test_only_this_owners_runs_and_standalone_files_are_offered(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    for run_id, owner, name, width in [
        ("run-a-1", "owner-aaaa", "Run 1", 8),
        ("run-b-1", "owner-bbbb", "Run 1", 9),
    ]:
        record = RunRecord(run_id, owner, name, _network(width).config, TrainConfig())
        save_run(record, _network(width))
    save_model(models_dir() / "default-mnist.npz", SavedModel(_network(5)))
    at = AppTest.from_function(_list_choices_script).run()
    assert not at.exception
    lines = [m.value for m in at.markdown]
    assert lines == [
        "default|Default model|(128,)",  # ships with the app (a CNN: its hidden widths are not used)
        "live|Run 9 · live|none",
        "file|Run 1 (saved run)|(8,)",
        "file|default-mnist|(5,)",
    ]
