"""Digit Lab: the entry point. Page config, a one-time warm-up of the pages' imports, and navigation;
each page lives in app_pages/.

The folder is not called ``pages/``: Streamlit treats a ``pages/`` folder beside the entry script as
its older multipage layout, and the first request after a server start that deep-links to a page
(``/draw``) would then run that page alone, without this router.

The favicon and the navigation icons are emoji: a ``:material/...`` favicon is fetched by the
browser from an external font host, and the app must work with no internet access (the other
``:material/...`` icons are drawn with the font Streamlit serves itself).
"""

import streamlit as st

from ui import warmup
from ui.layout import apply_layout_css

st.set_page_config(page_title="Digit Lab", page_icon="✏️", layout="wide")
if not warmup.is_warm():  # imports for every page, once per server, before any session's first page runs
    with st.spinner("Starting Digit Lab (the first visit after a restart takes a few seconds)..."):
        warmup.warm()

navigation = st.navigation(
    [
        st.Page("app_pages/home.py", title="Home", icon="🏠", default=True),
        st.Page("app_pages/explorer.py", title="Dataset explorer", icon="🔍", url_path="explorer"),
        st.Page("app_pages/training.py", title="Training playground", icon="📈", url_path="training"),
        st.Page("app_pages/draw.py", title="Draw & predict", icon="✏️", url_path="draw"),
    ],
    position="top",  # no sidebar to eat a tablet's width; on a phone the links fold into a menu
)
apply_layout_css()
navigation.run()
