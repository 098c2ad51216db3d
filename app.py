"""Digit Lab: the entry point. Page config and navigation only; each page lives in app_pages/.

The folder is not called ``pages/``: Streamlit treats a ``pages/`` folder beside the entry script as
its older multipage layout, and the first request after a server start that deep-links to a page
(``/draw``) would then run that page alone, without this router.
"""

import streamlit as st

from ui.layout import apply_layout_css

st.set_page_config(page_title="Digit Lab", page_icon=":material/draw:", layout="wide")

navigation = st.navigation(
    [
        st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page(
            "app_pages/explorer.py",
            title="Dataset explorer",
            icon=":material/grid_view:",
            url_path="explorer",
        ),
        st.Page(
            "app_pages/training.py",
            title="Training playground",
            icon=":material/model_training:",
            url_path="training",
        ),
        st.Page("app_pages/draw.py", title="Draw & predict", icon=":material/draw:", url_path="draw"),
    ],
    position="top",  # no sidebar to eat a tablet's width; on a phone the links fold into a menu
)
apply_layout_css()
navigation.run()
