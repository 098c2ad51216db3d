"""Placeholder while the page is built."""

import streamlit as st

st.title("draw")
st.info("This page is being built.")
