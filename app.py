"""Digit Lab: the entry point. Page config and navigation only; each page lives in pages/."""

import streamlit as st

st.set_page_config(page_title="Digit Lab", page_icon=":material/draw:", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/explorer.py", title="Dataset explorer", icon=":material/grid_view:", url_path="explorer"),
        st.Page("pages/training.py", title="Training playground", icon=":material/model_training:", url_path="training"),
        st.Page("pages/draw.py", title="Draw & predict", icon=":material/draw:", url_path="draw"),
    ]
)
navigation.run()
