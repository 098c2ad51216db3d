"""A run waiting in the server-wide queue: its place in words, and a button to take it out."""

from __future__ import annotations

import streamlit as st

from ui.training import state
from ui.training.view import RunView


def queue_note(ahead: int) -> str:
    """Where a queued run stands, in words ("2 runs ahead of this one")."""
    if ahead == 0:
        return "Queued: this run starts as soon as a place is free."
    return f"Queued: {ahead} run{'s' if ahead != 1 else ''} ahead of this one."


def render_queued(view: RunView, icon: str) -> None:
    """The queue place of ``view`` (a queued run) and its Cancel button."""
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.markdown(f"{icon} {queue_note(view.ahead or 0)}")
    right.button(
        "Cancel",
        icon=":material/close:",
        key="train_cancel",
        on_click=state.run_action,
        args=(view.owner, view.run_id, "cancel"),
        width="stretch",
        help="Take this run out of the queue; it keeps its epochs and can be started again.",
    )
