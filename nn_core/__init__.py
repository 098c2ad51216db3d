"""Digit Lab engine: a from-scratch NumPy neural network for MNIST-style data (no Streamlit here)."""
