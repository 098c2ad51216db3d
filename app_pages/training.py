"""Training playground: choose a network and its training, watch it learn live, look at what it learnt.

Runs train in worker processes behind the server-wide queue (ui/training/worker.py); this page draws
the controls, drives runs through callbacks and polls the selected run from a fragment
(ui/training/live.py).
Runs belong to the owner id in the URL and are saved to disk after every epoch.
"""

import streamlit as st

from nn_core.config import ConfigError
from nn_core.data.local import DataError
from nn_core.store.runstore import RunStoreError
from ui.datasets import download_panel, show_data_error
from ui.sweeps.panel import render_sweep_section
from ui.training import analysis, controls, live, runs, state
from ui.training import params as tp
from ui.training import registry as reg

st.title("Training playground")
st.caption(
    "Build a multi-layer perceptron or a convolutional network, train it on 28x28 images and watch the loss and accuracy after every epoch. "
    "Runs keep going while you use the other pages, and are saved as they go."
)

owner = state.ensure_owner()
controls.init_controls()
for problem in st.session_state.pop(controls.PROBLEMS, []):
    st.warning(f"A setting in the link was changed: {problem}.", icon=":material/link_off:")
state.show_flash()

left, right = st.columns([1, 2], gap="large")
with left:
    st.subheader("Settings")
    values = controls.render_controls()
    error = model_config = train_config = None
    try:
        model_config, train_config = tp.build_configs(values)
    except ConfigError as err:
        error = str(err)
    if error:
        st.error(f"These settings cannot be trained: {error}.", icon=":material/block:")
    else:
        n_params = tp.model_params(model_config)
        for note in tp.advice(values, n_params):
            st.caption(f":material/lightbulb: {note}")
        st.caption(f"{n_params:,} weights and biases to learn.")
    state.share_panel(values)
state.mirror_to_url(values, owner)

try:
    workers = reg.owner_workers(owner)
except RunStoreError as err:
    st.error(str(err), icon=":material/folder_off:")
    workers = []
state.register_models(workers)
with right:
    data_ready = download_panel(values["dataset"], key="train_download_data")
    view = live.render_run_panel(
        owner, workers, can_start=data_ready and error is None, planned_epochs=int(values["epochs"])
    )
    runs.render_damaged(owner, reg.owner_damaged(owner))

if view is not None:
    st.divider()
    tab_analysis, tab_compare, tab_files = st.tabs(["Test-set analysis", "Compare runs", "Files and sharing"])
    with tab_analysis, runs.contained(f"The analysis of {view.name}"):
        worker = reg.get_worker(view.run_id, owner)
        try:
            analysis.render_analysis(view, worker.snapshot() if worker else None)
        except DataError as err:
            show_data_error(err)
    with tab_compare, runs.contained("The comparison"):
        runs.render_compare(workers)
    with tab_files, runs.contained(f"The files of {view.name}"):
        runs.render_files(owner, view)

st.divider()
render_sweep_section(owner, model_config, train_config)
