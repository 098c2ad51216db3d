"""Hyperparameter sweeps in the playground: many runs that vary a few settings.

``service`` keeps the server-wide run queue (runs train in worker processes, at most
``DIGIT_LAB_MAX_RUNS`` at once, owners in turn) and reads a sweep's state from the run store;
``figures`` turns a sweep's runs into a table, a heatmap (two settings), parallel coordinates
(three) and overlaid loss curves; ``panel`` is the Streamlit section the Training page shows.
"""
