"""The runs of this browser tab: overlaid curves, a summary table, and model files in and out.

Compare: choose runs and a metric; their curves are drawn on one chart. Files: download the
selected run's model as ``.npz`` (the same file the run keeps on disk), upload a model file back
(it becomes a run, viewable and trainable), copy a run's settings into the controls, delete a
run, and read the command line that repeats the run in a terminal.
run. Damaged runs (a run.json that cannot be read) are listed with what is wrong, Delete and, when it
still loads, their model file; ``contained`` keeps a failure in one tab from taking down the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from nn_core.cli.flags import command_line
from nn_core.store.model_file import ModelFileError, load_model
from nn_core.store.runstore import DamagedRun, model_path
from ui.export_buttons import export_buttons
from ui.training import figures as tf
from ui.training import state
from ui.training.live import architecture
from ui.training.view import RunView
from ui.training.worker import RunWorker


def _percent(value: float | None, missing: str) -> str:
    """A fraction as a percentage for the table, or a word saying why there is none (never "None")."""
    return missing if value is None else f"{value:.2%}"


def summary_rows(views: list[RunView]) -> list[dict]:
    """One row per run for the summary table (a run that cannot be summarised shows as damaged)."""
    rows = []
    for v in views:
        try:
            rows.append(_summary_row(v))
        except Exception:  # noqa: BLE001 - one bad run must not hide the others
            rows.append({"run": str(v.name), "status": "damaged"})
    return rows


def _summary_row(v: RunView) -> dict:
    best = max((r.val_acc for r in v.history if r.val_acc is not None), default=None)
    return {
        "run": v.name,
        "status": v.status,
        "dataset": v.train_config.dataset,
        "network": architecture(v),
        "optimizer": f"{v.train_config.optimizer} lr {v.train_config.lr:g}",
        "batch": v.train_config.batch_size,
        "train size": v.train_config.train_size or 60_000,
        "seed": v.train_config.seed,
        "epochs": v.epochs_done,
        "best val acc": _percent(best, "no validation set" if v.train_config.val_fraction == 0 else "-"),
        "test acc": _percent(v.test["acc"] if v.test else None, "-"),
    }


COMPARE = "train_compare_runs"
KNOWN = "train_compare_known"


def _follow_new_runs(run_ids: list[str]) -> None:
    """Add runs not seen before to the overlay (the latest three at first); drop deleted ones."""
    known = st.session_state.get(KNOWN)
    chosen = [rid for rid in st.session_state.get(COMPARE, []) if rid in run_ids]
    if known is None:
        chosen = run_ids[-3:]
    else:
        chosen += [rid for rid in run_ids if rid not in known]
    st.session_state[COMPARE] = chosen
    st.session_state[KNOWN] = set(run_ids)


def render_compare(workers: list[RunWorker]) -> None:
    views = [w.view() for w in workers]
    by_id = {v.run_id: v for v in views}
    if len(views) < 2:
        st.caption(
            "Start another run (for example the same seed with another learning rate) to compare curves."
        )
    _follow_new_runs(list(by_id))
    left, right = st.columns([3, 1])
    chosen = left.multiselect(
        "Runs to overlay",
        list(by_id),
        format_func=lambda rid: by_id[rid].name,
        key=COMPARE,
        help="Pick the runs whose curves to draw on one chart; new runs join it by themselves.",
    )
    metric = right.selectbox(
        "Metric", list(tf.COMPARE_METRICS), format_func=tf.COMPARE_METRICS.get, key="train_compare_metric"
    )
    if chosen:
        series = [(by_id[rid].name, by_id[rid].history) for rid in chosen if rid in by_id]
        st.plotly_chart(tf.compare_figure(series, metric), key="train_compare_chart")
    st.dataframe(summary_rows(list(reversed(views))), hide_index=True)
    st.caption('Test accuracy is measured when a run finishes or is stopped; "-" until then.')


def render_files(owner: str, view: RunView) -> None:
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(
            f"**{view.name}**",
            help="The model file holds the weights of the last completed epoch, both configs and the history.",
        )
        path = model_path(view.run_id)
        if path.is_file():
            st.download_button(
                "Download model (.npz)",
                path.read_bytes,
                file_name=f"digit-lab-{view.name.replace(' ', '-').lower()}.npz",
                mime="application/octet-stream",
                icon=":material/download:",
                on_click="ignore",
                key="train_download_model",
            )
        export_buttons(path if path.is_file() else None, view.name, key="train")
        st.button(
            "Copy its settings to the controls",
            icon=":material/content_copy:",
            key="train_copy_settings",
            on_click=state.copy_settings,
            args=(view.run_id, owner),
            help="Load this run's settings into the controls, e.g. to start a variation of it.",
        )
        confirm = st.checkbox("I want to delete this run", key=f"train_confirm_delete_{view.run_id}")
        st.button(
            "Delete run",
            icon=":material/delete:",
            key="train_delete",
            disabled=not confirm,
            on_click=state.delete_run,
            args=(owner, view.run_id),
            help="Remove the run and its model file for good.",
        )
    with right:
        st.file_uploader(
            "Upload a model (.npz)",
            type=["npz"],
            key=state.UPLOAD,
            on_change=state.import_upload,
            args=(owner,),
            help="A model file downloaded from Digit Lab; it is added as a new run you can analyse and train further.",
        )
    render_command(view)


def render_command(view: RunView) -> None:
    """The ``python -m nn_core train`` command with every setting of the run, ready to copy."""
    st.markdown(
        "**Command line**",
        help="Trains the same network with the same settings and seed in a terminal, from the project "
        "folder. Add `--save` to keep the model, `--json` for machine-readable output.",
    )
    st.code(
        command_line(view.model_config, view.train_config, multiline=True),
        language="bash",
        wrap_lines=True,
    )
    st.caption(
        "A learning rate changed during the run appears with its new value. "
        "`--config` reads a downloaded model file or a shared link as well."
    )


@contextmanager
def contained(what: str) -> Iterator[None]:
    """Show a failure inside the block as a message, so one bad run cannot take the page down."""
    try:
        yield
    except Exception as err:  # noqa: BLE001 - shown to the person; the rest of the page goes on
        st.error(
            f"{what} could not be shown: {err}. The run may be damaged: delete it under Files and sharing.",
            icon=":material/broken_image:",
        )


def render_damaged(owner: str, damaged: list[DamagedRun]) -> None:
    """Runs whose files cannot be read: what is wrong, the model file when it still loads, and Delete."""
    for run in damaged:
        with st.container(border=True):
            st.error(
                f"**A run is damaged** and cannot be shown or trained: {run.reason}",
                icon=":material/broken_image:",
            )
            left, right = st.columns(2, vertical_alignment="center")
            with left:
                _damaged_model(run)
            right.button(
                "Delete damaged run",
                icon=":material/delete:",
                key=f"train_delete_damaged_{run.run_id}",
                on_click=state.delete_damaged,
                args=(owner, run.run_id),
                help="Remove this run's folder and its files for good.",
            )


def _damaged_model(run: DamagedRun) -> None:
    path = model_path(run.run_id)
    if not run.has_model:
        st.caption("It has no model file to keep.")
        return
    try:
        load_model(path)
    except ModelFileError as err:
        st.caption(f"Its model file is damaged too: {err}")
        return
    st.download_button(
        "Download its model (.npz)",
        path.read_bytes,
        file_name=f"digit-lab-{run.run_id}.npz",
        mime="application/octet-stream",
        icon=":material/download:",
        on_click="ignore",
        key=f"train_download_damaged_{run.run_id}",
        help="The weights of its last saved epoch still load: keep them before deleting the run.",
    )
