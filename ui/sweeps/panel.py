"""The Training page's sweep section: choose settings and values, start, follow, stop, open a run.

Runs of a sweep train in worker processes through the server-wide queue (``ui.sweeps.service``);
the section polls their files once a second while any is queued or running.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from nn_core.config import ConfigError, ModelConfig, TrainConfig
from nn_core.jobs.executors import ExecutorError, max_running
from nn_core.jobs.sweep import MAX_SETTINGS, SweepPoint, expand, parse_vary
from nn_core.store.runstore import RunStoreError
from ui.model_choices import set_current_model
from ui.sweeps import figures
from ui.sweeps.service import is_active, owner_sweeps, resume_sweep, start_sweep, stop_sweep, sweep_state

POLL_SECONDS = 1.0
SELECTED = "sweep_selected"
MESSAGE = "sweep_message"
DEFAULT_VALUES = {
    "lr": "0.01,0.03,0.1",
    "batch_size": "32,128",
    "hidden": "64,128,256-128",
    "optimizer": "sgd,momentum,adam",
    "momentum": "0.5,0.9",
    "weight_decay": "1e-5..1e-3",
    "dropout": "0,0.2",
    "epochs": "3,6",
    "augment": "false,true",
    "init": "xavier,he",
    "schedule": "constant,cosine",
}
HELP = "Comma-separated values (hidden layers as 256-128), or low..high for a range (log-spaced for lr and weight decay)."


def _start(owner: str, model_config: ModelConfig, train_config: TrainConfig) -> None:
    """Start the sweep the planner's widgets describe now (a click can come before the rerun that
    a just-typed value caused has drawn the button again, so the plan is read here, not passed in)."""
    try:
        points = _plan(model_config, train_config)
        sweep = start_sweep(owner, points)
    except (ConfigError, ExecutorError, RunStoreError, OSError) as err:
        st.session_state[MESSAGE] = ("error", f"The sweep could not start: {err}")
        return
    st.session_state[SELECTED] = sweep["sweep_id"]
    st.session_state[MESSAGE] = ("success", f"Sweep started: {len(points)} runs queued.")


def _stop(sweep: dict[str, Any]) -> None:
    count = stop_sweep(sweep)
    st.session_state[MESSAGE] = ("success", f"Sweep stopped ({count} runs cancelled or stopping).")


def _resume(sweep: dict[str, Any]) -> None:
    count = resume_sweep(sweep)
    st.session_state[MESSAGE] = (
        "success",
        f"{count} unfinished runs queued again; each goes on from its last epoch.",
    )


def _open_on_draw_page(key: str) -> None:
    set_current_model(key)  # the Draw page's picker key of the run (ui.model_choices)


def _plan(model_config: ModelConfig, train_config: TrainConfig) -> list[SweepPoint]:
    """The runs the planner's widgets describe (``ConfigError`` for values that cannot run)."""
    state = st.session_state
    names = state.get("sweep_settings", ["lr", "batch_size"])
    varies = [
        parse_vary(f"{name}={state.get(f'sweep_values_{name}', DEFAULT_VALUES[name])}") for name in names
    ]
    random_runs = int(state.get("sweep_random", 8)) if state.get("sweep_mode") == "random" else 0
    return expand(
        model_config, train_config, varies, seeds=int(state.get("sweep_seeds", 1)), random_runs=random_runs
    )


def _planner(model_config: ModelConfig, train_config: TrainConfig) -> bool:
    """The planner's widgets and what they add up to; False when the values cannot run."""
    names = st.multiselect(
        f"Settings to vary (up to {MAX_SETTINGS})",
        list(DEFAULT_VALUES),
        default=["lr", "batch_size"],
        max_selections=MAX_SETTINGS,
        key="sweep_settings",
    )
    for name in names:
        st.text_input(f"Values of {name}", DEFAULT_VALUES[name], key=f"sweep_values_{name}", help=HELP)
    a, b, c = st.columns(3)
    mode = a.radio("Combinations", ("grid", "random"), horizontal=True, key="sweep_mode")
    b.number_input("Random runs", 1, 50, 8, key="sweep_random", disabled=mode == "grid")
    c.number_input("Seeds", 1, 5, 1, key="sweep_seeds", help="Repeat each combination with other seeds.")
    try:
        points = _plan(model_config, train_config)
    except ConfigError as err:
        st.error(f"This sweep cannot run: {err}.", icon=":material/block:")
        return False
    st.caption(
        f"{len(points)} runs of {train_config.epochs} epochs each, the other settings as on the left; "
        f"at most {max_running()} train at once, and other people's runs take turns with yours."
    )
    return True


def render_sweep_section(
    owner: str, model_config: ModelConfig | None, train_config: TrainConfig | None
) -> None:
    """The whole section: planner (when the settings on the left are valid), then the chosen sweep."""
    st.subheader("Sweeps")
    with st.expander("Start a sweep: train many variations of the settings on the left"):
        if model_config is None or train_config is None:
            st.info("Fix the settings on the left first: a sweep varies them.")
        else:
            runnable = _planner(model_config, train_config)
            st.button(
                "Start sweep",
                icon=":material/play_arrow:",
                disabled=not runnable,
                on_click=_start,
                args=(owner, model_config, train_config),
                key="sweep_start",
            )
    kind, text = st.session_state.pop(MESSAGE, (None, ""))
    if kind == "error":
        st.error(text, icon=":material/error:")
    elif kind:
        st.success(text, icon=":material/check_circle:")
    sweeps = owner_sweeps(owner)
    if not sweeps:
        st.caption("No sweeps yet. A sweep trains every combination of a few settings and compares them.")
        return
    by_id = {s["sweep_id"]: s for s in sweeps}
    if st.session_state.get(SELECTED) not in by_id:
        st.session_state[SELECTED] = sweeps[0]["sweep_id"]
    chosen = st.selectbox(
        "Sweep",
        list(by_id),
        format_func=lambda i: _sweep_label(by_id[i]),
        key=SELECTED,
    )
    _sweep_view(by_id[chosen])


def _sweep_label(sweep: dict[str, Any]) -> str:
    """ "30 Nov 23:24 · lr × batch_size · 6 runs" (the id stays in the run names)."""
    names = " × ".join(sweep["runs"][0]["settings"]) if sweep["runs"] else "no settings"
    created = str(sweep.get("created_at", ""))
    when = f"{created[8:10]}-{created[5:7]} {created[11:16]} UTC" if len(created) >= 16 else sweep["sweep_id"]
    return f"{when} · {names} · {len(sweep['runs'])} runs"


def _sweep_view(sweep: dict[str, Any]) -> None:
    active = is_active(sweep_state(sweep))

    @st.fragment(run_every=POLL_SECONDS if active else None)
    def live() -> None:
        states = sweep_state(sweep)
        names = list(sweep["runs"][0]["settings"]) if sweep["runs"] else []
        done = sum(s.status not in ("queued", "running") for s in states)
        st.progress(done / max(len(states), 1), text=f"{done} of {len(states)} runs done")
        st.table(figures.sweep_rows(states))
        if is_active(states):
            st.button(
                "Stop the sweep", icon=":material/stop:", on_click=_stop, args=(sweep,), key="sweep_stop"
            )
        elif any(s.status in ("stopped", "cancelled") for s in states):
            st.button(
                "Resume the unfinished runs",
                icon=":material/play_arrow:",
                on_click=_resume,
                args=(sweep,),
                key="sweep_resume",
                help="Queue again every run that ended before its planned epochs; each goes on from its last epoch.",
            )
        left, right = st.columns(2)
        if len(names) == 2:
            left.plotly_chart(figures.heatmap_figure(states, names[0], names[1]), key="sweep_heatmap")
        elif len(names) >= 3:
            left.plotly_chart(figures.parallel_figure(states, names), key="sweep_parallel")
        right.plotly_chart(figures.loss_curves_figure(states), key="sweep_losses")
        best = figures.best_state(states)
        if best is not None and best.record is not None:
            st.markdown(
                f"Best so far: **{best.record.name}** ({figures.score(best):.2%} best validation accuracy)."
            )
            if st.button(
                "Predict with the best run on the Draw page", icon=":material/draw:", key="sweep_open_best"
            ):
                _open_on_draw_page(f"run:{best.record.run_id}")
                st.switch_page("app_pages/draw.py")
        if active != is_active(states):
            st.rerun()  # the sweep ended (stop polling) or its runs were queued again (start polling)

    live()
