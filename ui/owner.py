"""Whose things a browser tab sees: the owner id kept in the page address (``?owner=...``).

Runs and My digits belong to an owner, 16 random hex digits made on a tab's first visit. The id lives
in the URL, so a reload finds the same things again, and in ``st.session_state["train_owner"]``, which
survives page switches (where Streamlit drops the query string). Every page that shows an owner's
things calls ``ensure_owner``; ``keep_owner_in_url`` puts it back in the address bar.
"""

from __future__ import annotations

import secrets

import streamlit as st

from nn_core.store.runstore import is_valid_id

OWNER_KEY = "train_owner"


def ensure_owner() -> str:
    """This browser tab's owner id: from the URL, else this session, else a new one."""
    from_url = st.query_params.get("owner", "")
    if is_valid_id(from_url):
        st.session_state[OWNER_KEY] = from_url
    elif OWNER_KEY not in st.session_state:
        st.session_state[OWNER_KEY] = secrets.token_hex(8)
    return st.session_state[OWNER_KEY]


def keep_owner_in_url(owner: str) -> None:
    """Show the owner id in the address bar (so a reload or a bookmark keeps this tab's things)."""
    if st.query_params.get("owner") != owner:
        st.query_params["owner"] = owner
