"""The run panel: choose a run, drive it, and watch it train live.

Buttons are callbacks (``training_state``) so the panel drawn after a click shows the new state.
The live part is a fragment that reruns on its own every ``POLL_SECONDS`` while any run of this
owner is training, and not at all otherwise: each rerun reads the worker's ``view()`` and redraws
the status, the progress bar, the figures and the table. When the last run stops training the
fragment asks for one full rerun, so the rest of the page (analysis, run list) catches up.
"""

from __future__ import annotations

import csv
import io
from functools import partial

import streamlit as st

from nn_core.health import learning_problem, lr_advice
from nn_core.model_summary import architecture_string
from ui.training import figures as tf
from ui.training import params as tp
from ui.training import registry as reg
from ui.training import state
from ui.training.queued import render_queued
from ui.training.view import RunView
from ui.training.worker import RunWorker

POLL_SECONDS = 0.5
STATUS_ICONS = {
    "ready": ":material/radio_button_unchecked:",
    "queued": ":material/hourglass_top:",
    "running": ":material/play_circle:",
    "paused": ":material/pause_circle:",
    "finished": ":material/check_circle:",
    "stopped": ":material/stop_circle:",
    "diverged": ":material/warning:",
    "failed": ":material/error:",
    "interrupted": ":material/history:",
}


def architecture(view: RunView) -> str:
    config = view.model_config
    if config.layers:
        acts = {s.activation for s in config.layers if s.kind in ("dense", "conv")} - {"linear"}
    else:
        acts = set(config.activations)
    return f"{architecture_string(config)} {'/'.join(sorted(acts))}"


def run_label(view: RunView) -> str:
    """A label that does not change while the run trains (Streamlit keeps a widget's shown text)."""
    try:
        return _label(view)
    except Exception:  # noqa: BLE001 - a label must never break the run selector
        return f"{view.name} (damaged)"


def _label(view: RunView) -> str:
    return f"{view.name} · {view.train_config.dataset} · {architecture(view)} · {view.train_config.optimizer} · seed {view.train_config.seed}"


def render_run_panel(
    owner: str, workers: list[RunWorker], can_start: bool, planned_epochs: int
) -> RunView | None:
    """Start button, run selector, run buttons and the live fragment; returns the selected run.

    Before the first run the charts are drawn empty (``planned_epochs`` wide): the page shows where
    the curves will appear, and the browser has the chart library loaded by the time a run starts,
    so the first epoch shows as soon as it ends.
    """
    st.button(
        "Start a new run",
        type="primary",
        icon=":material/play_arrow:",
        disabled=not can_start,
        on_click=state.start_new_run,
        args=(owner,),
        key="train_start",
        help="Train a new network with the settings on the left. Earlier runs are kept for comparison.",
    )
    worker = state.selected_run(workers)
    if worker is None:
        st.info(
            "No runs yet: choose settings on the left and press **Start a new run**.", icon=":material/info:"
        )
        left, right = st.columns(2)
        left.plotly_chart(tf.curve_figure((), "loss", planned_epochs), key="train_empty_loss")
        right.plotly_chart(tf.curve_figure((), "acc", planned_epochs), key="train_empty_acc")
        return None
    views = {w.record.run_id: w.view() for w in workers}
    st.selectbox(
        "Run",
        list(reversed(views)),
        key=state.SELECTED,
        format_func=lambda rid: run_label(views[rid]),
        help="Every run of this browser tab is kept (on disk too): pick one to drive, watch and analyse.",
    )
    view = views[st.session_state[state.SELECTED]]
    _buttons(owner, view)
    _live(owner, view.run_id, any(v.active for v in views.values()))
    return reg.get_worker(view.run_id, owner).view()


def _buttons(owner: str, view: RunView) -> None:
    act = state.run_action
    args = (owner, view.run_id)
    cols = st.columns(5)
    first = "Start" if view.epochs_done == 0 and view.status == "ready" else "Resume"
    cols[0].button(
        first,
        icon=":material/play_arrow:",
        key="train_resume",
        on_click=act,
        args=(*args, "resume"),
        disabled=not (view.can_resume or view.pausing),
        width="stretch",
        help="Train this run until its planned number of epochs.",
    )
    cols[1].button(
        "Pause",
        icon=":material/pause:",
        key="train_pause",
        on_click=act,
        args=(*args, "pause"),
        disabled=view.status != "running" or view.pausing,
        width="stretch",
        help="Stop at the end of the current epoch; Resume goes on from there.",
    )
    cols[2].button(
        "Stop",
        icon=":material/stop:",
        key="train_stop",
        on_click=act,
        args=(*args, "stop"),
        disabled=view.status
        not in ("running", "queued", "paused", "interrupted"),  # nothing to stop otherwise
        width="stretch",
        help="End training now: the epoch in progress is dropped and the weights of the last full epoch kept.",
    )
    cols[3].button(
        "+1 epoch",
        icon=":material/skip_next:",
        key="train_step",
        on_click=act,
        args=(*args, "step"),
        disabled=view.active,
        width="stretch",
        help="Train exactly one more epoch (also beyond the planned number).",
    )
    cols[4].button(
        "Reset",
        icon=":material/restart_alt:",
        key="train_reset",
        on_click=act,
        args=(*args, "reset"),
        width="stretch",
        disabled=view.epochs_done == 0 and view.status == "ready",
        help="Re-initialise the weights from this run's seed (identical to its start) and clear its history.",
    )
    if not view.active:
        key = f"train_new_lr_{view.run_id}"
        if key not in st.session_state:
            st.session_state[key] = tp.snap(view.train_config.lr, tp.LR_OPTIONS)
        left, right = st.columns([4, 1], vertical_alignment="bottom")
        left.select_slider(
            "Learning rate for the next epochs",
            tp.LR_OPTIONS,
            key=key,
            format_func=lambda v: f"{v:g}",
            help="Change the rate of a paused, stopped or diverged run; Resume or +1 epoch then goes on with it.",
        )
        right.button(
            "Apply",
            key="train_apply_lr",
            on_click=state.change_lr,
            args=(owner, view.run_id, key),
            disabled=st.session_state[key] == view.train_config.lr,
            width="stretch",
        )


def _live(owner: str, run_id: str, polling: bool) -> None:
    @st.fragment(run_every=POLL_SECONDS if polling else None)
    def live_fragment() -> None:
        worker = reg.get_worker(run_id, owner)
        if worker is None:
            return
        view = worker.view()
        try:
            _run_body(view)
        except Exception as err:  # noqa: BLE001 - a damaged run shows as such; the page goes on
            st.error(
                f"{view.name} is damaged and cannot be shown ({err}). Delete it under Files and sharing.",
                icon=":material/broken_image:",
            )
        if polling and not reg.owner_active(owner):
            st.rerun()  # training ended: after drawing, one full rerun refreshes the page and stops polling

    live_fragment()


def _run_body(view: RunView) -> None:
    _status(view)
    # room for the epochs still to come, unless the run has ended
    planned = (
        view.train_config.epochs
        if view.status in ("ready", "queued", "running", "paused", "interrupted")
        else None
    )
    tab_charts, tab_table = st.tabs(["Charts", "Table"])
    with tab_charts:
        left, right = st.columns(2)
        left.plotly_chart(tf.curve_figure(view.history, "loss", planned), key="train_live_loss")
        right.plotly_chart(tf.curve_figure(view.history, "acc", planned), key="train_live_acc")
    with tab_table:
        _table(view)


def _status(view: RunView) -> None:
    if view.save_error:
        st.warning(f"The run could not be saved to disk: {view.save_error}", icon=":material/save:")
    last = view.history[-1] if view.history else None
    planned = view.train_config.epochs
    model = view.model_config
    problem = (
        learning_problem(view.history, model.n_classes, model.loss) if view.status != "diverged" else None
    )
    icon = STATUS_ICONS.get(view.status, "")
    if view.status == "queued":
        render_queued(view, icon)
    elif view.active:
        done, total = view.progress
        epoch = view.epochs_done + 1
        text = (
            f"Epoch {epoch} of {planned}: batch {done:,} of {total:,}"
            if total
            else f"Epoch {epoch} of {planned}"
        )
        if view.pausing:
            text += " (pausing after this epoch)"
        st.progress(min(1.0, done / total) if total else 0.0, text=text)
    elif view.status == "diverged":
        st.error(view.message, icon=icon)
    elif view.status == "failed":
        st.error(view.message, icon=icon)
    else:
        note = {
            "ready": "Ready: press Start to train.",
            "paused": f"Paused after epoch {view.epochs_done} of {planned}.",
            "finished": f"Finished: {view.epochs_done} epochs.",
            "stopped": f"Stopped after epoch {view.epochs_done}.",
            "interrupted": view.message,
        }.get(view.status, view.status)
        if view.test:
            note += f" Test accuracy {view.test['acc']:.2%} (epoch {view.test['epoch']})."
        if view.source == "uploaded":
            note += " " + view.message
        if problem is not None and view.status in ("finished", "stopped", "paused"):
            icon = ":material/warning:"
            note = note.replace(".", ", but the network did not learn.", 1)
        st.markdown(f"{icon} {note}")
    if problem is not None:
        advice = lr_advice(view.train_config.lr, view.train_config.optimizer, problem.lr_too_high)
        st.warning(f"This run is not learning: {problem.reason}. {advice}", icon=":material/trending_flat:")
    val = None if last is None else last.val_acc
    stats = [
        ("learning rate", f"{view.lr_now:.3g}"),
        ("seconds / epoch", "-" if last is None else f"{last.seconds:.2f}"),
        ("examples / s", "-" if last is None else f"{last.examples_per_second:,.0f}"),
        ("train accuracy", "-" if last is None else f"{last.train_acc:.2%}"),
        ("validation accuracy", "-" if val is None else f"{val:.2%}"),
    ]
    for col, (name, value) in zip(st.columns(len(stats)), stats, strict=True):
        col.markdown(f"**{value}**  \n:gray[{name}]")


COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds", "examples_per_second")


def history_csv(history: tuple) -> str:
    """The per-epoch records as CSV text (empty cells for missing validation figures)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in history:
        writer.writerow(["" if getattr(r, c) is None else getattr(r, c) for c in COLUMNS])
    return out.getvalue()


def _table(view: RunView) -> None:
    if not view.history:
        st.caption("The table fills in as epochs finish.")
        return
    shown = [c for c in COLUMNS if any(getattr(r, c) is not None for r in view.history)]  # no empty columns
    st.dataframe([r.to_dict() for r in view.history], hide_index=True, column_order=shown)
    if len(shown) < len(COLUMNS):
        st.caption("No validation set: only training figures.")
    st.download_button(
        "Download CSV",
        partial(history_csv, list(view.history)),
        file_name=f"{view.name.replace(' ', '-').lower()}-history.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="train_csv",
    )
