"""Per-browser state of the playground: the owner id, the URL, the selected run, the button actions.

Owner. Runs must survive a reload (a new Streamlit session) yet stay private to the browser
tab that made them, so the owner id lives in the URL (``?owner=...``, 16 random hex digits made
on the first visit) and in ``st.session_state["train_owner"]`` (which survives page switches,
where Streamlit drops the query string). Every run records its owner, and the page lists only
the runs of the owner in its URL. Sharing the address bar therefore shares the runs; the
"share these settings" link leaves the owner out. The controls are mirrored into the same URL
after every full rerun, so opening it restores them, seed included.

Actions are widget callbacks: they run before the script, so the page drawn afterwards already
shows the new state. Errors a person can fix are kept as a flash message shown once.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from nn_core.config import ConfigError
from nn_core.data.local import DataError
from nn_core.model_summary import architecture_string
from nn_core.store.model_file import ModelFileError, SavedModel, load_model
from nn_core.store.runstore import RunStoreError
from ui.model_choices import register_live_model, unregister_live_model
from ui.owner import ensure_owner  # noqa: F401 - the playground page calls state.ensure_owner()
from ui.training import controls
from ui.training import params as tp
from ui.training import registry as reg
from ui.training.data import training_data
from ui.training.worker import RunWorker

OWNER = "train_owner"
SELECTED = "train_selected"
FLASH = "train_flash"
UPLOAD = "train_upload"
ERRORS = (ConfigError, DataError, ModelFileError, RunStoreError, ValueError)


FLASH_SECONDS = 15.0  # a message outlives the automatic reruns that may follow the action


def flash(kind: str, text: str) -> None:
    st.session_state[FLASH] = (kind, text, time.monotonic())


def clear_flash() -> None:
    """A new action starts: the previous action's message no longer applies (each callback calls this)."""
    st.session_state.pop(FLASH, None)


def show_flash() -> None:
    """The last action's message, shown on every rerun for a few seconds (a newer one replaces it)."""
    kind, text, at = st.session_state.get(FLASH, (None, "", 0.0))
    if time.monotonic() - at > FLASH_SECONDS:
        st.session_state.pop(FLASH, None)
        return
    if kind == "error":
        st.error(text, icon=":material/error:")
    elif kind == "warning":
        st.warning(text, icon=":material/warning:")
    elif kind == "success":
        st.success(text, icon=":material/check_circle:")


def selected_run(workers: list[RunWorker]) -> RunWorker | None:
    """The run chosen in the selector (the newest when none is chosen or it was deleted)."""
    by_id = {w.record.run_id: w for w in workers}
    chosen = st.session_state.get(SELECTED)
    if chosen not in by_id:
        chosen = workers[-1].record.run_id if workers else None
        st.session_state[SELECTED] = chosen
    return by_id.get(chosen)


def register_models(workers: list[RunWorker]) -> None:
    """Offer every run of this owner to the Draw page."""
    for worker in workers:
        record = worker.record
        label = f"{record.name} · {architecture_string(record.model_config)}"
        register_live_model(record.run_id, record.dataset, worker.snapshot, label)


def start_new_run(owner: str) -> None:
    """Create a run from the controls and start it (a callback of the Start button)."""
    clear_flash()
    controls.collect()
    try:
        model, train = tp.build_configs(controls.values())
        data = training_data(train)
        worker = reg.new_run(owner, None, model, train, data)  # named "Run N" atomically
        worker.resume(training_data)
    except ERRORS as err:
        flash("error", f"The run could not start: {err}")
        return
    st.session_state[SELECTED] = worker.record.run_id


def run_action(owner: str, run_id: str, action: str) -> None:
    """Resume, step, pause, stop, cancel (a queued run) or reset a run (a callback of the run's buttons)."""
    clear_flash()
    worker = reg.get_worker(run_id, owner)
    if worker is None:
        flash("warning", "That run no longer exists (deleted in another tab?).")
        return
    try:
        message = None
        if action == "resume":
            message = worker.resume(training_data)
        elif action == "step":
            message = worker.step(training_data)
        elif action == "pause":
            worker.pause()
        elif action == "stop":
            worker.stop()
        elif action == "cancel":
            if not worker.cancel():
                message = "The run had already left the queue."
        elif action == "reset":
            worker.reset(training_data)
    except ERRORS as err:
        flash("error", f"{action.capitalize()} failed: {err}")
        return
    if message:
        flash("warning", message)


def change_lr(owner: str, run_id: str, key: str) -> None:
    clear_flash()
    worker = reg.get_worker(run_id, owner)
    if worker is None:
        return
    try:
        worker.set_lr(float(st.session_state[key]))
    except ERRORS as err:
        flash("error", str(err))
        return
    flash("success", f"{worker.record.name} goes on with learning rate {st.session_state[key]:g}.")


def delete_run(owner: str, run_id: str) -> None:
    clear_flash()
    try:
        reg.remove_run(run_id, owner)
    except ERRORS as err:
        flash("error", f"The run could not be deleted: {err}")
        return
    unregister_live_model(run_id)
    st.session_state.pop(SELECTED, None)


def delete_damaged(owner: str, run_id: str) -> None:
    """Delete a run shown as damaged (a callback)."""
    try:
        reg.remove_damaged(run_id, owner)
    except (RunStoreError, OSError) as err:
        flash("error", f"The damaged run could not be deleted: {err}")
        return
    flash("success", "The damaged run was deleted.")


def import_upload(owner: str) -> None:
    """Add the uploaded model file as a run of this owner (the uploader's callback)."""
    clear_flash()
    upload = st.session_state.get(UPLOAD)
    if upload is not None:
        import_model(owner, upload.name, upload.getvalue())


def import_model(owner: str, file_name: str, data: bytes) -> None:
    """Add a model file as a run of this owner; a bad file gets a clear message."""
    try:
        saved: SavedModel = load_model(data)
        worker = reg.import_model(owner, None, saved, file_name)
    except ERRORS as err:
        flash("error", f"{file_name} was not added: {err}")
        return
    st.session_state[SELECTED] = worker.record.run_id
    flash("success", f"{file_name} was added as {worker.record.name}.")


def copy_settings(run_id: str, owner: str) -> None:
    """Put a run's settings into the controls (to start a variation of it)."""
    clear_flash()
    worker = reg.get_worker(run_id, owner)
    if worker is None:
        return
    record = worker.record
    if record.model_config.layers:
        flash("error", f"{record.name} is built from layers, which the controls cannot hold yet.")
        return
    st.session_state[controls.VALUES] = tp.values_from_configs(record.model_config, record.train_config)
    controls.clear_widgets()
    flash("success", f"The controls now hold the settings of {record.name}.")


def mirror_to_url(vals: dict[str, Any], owner: str) -> None:
    """Write the controls (and the owner id) into the page's query parameters when they changed."""
    wanted = {**tp.values_to_params(vals), "owner": owner}
    current = {k: st.query_params.get(k) for k in st.query_params}
    if current != wanted:
        st.query_params.from_dict(wanted)


def share_panel(vals: dict[str, Any]) -> None:
    """A link that opens the playground with these controls, seed included, but not this tab's runs."""
    base = (getattr(st.context, "url", "") or "").split("?")[0]
    with st.expander("Share these settings", icon=":material/link:"):
        st.caption(
            "Opens the playground with the same controls. It leaves out your owner id, so your runs stay yours."
        )
        st.code(f"{base}?{urlencode(tp.values_to_params(vals))}", language=None, wrap_lines=True)
