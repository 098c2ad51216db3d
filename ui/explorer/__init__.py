"""The dataset explorer behind ``app_pages/explorer.py``.

``stats`` wraps the engine's statistics (``nn_core.data.stats``) in Streamlit caches; ``images``
builds image mosaics and viewers; ``figures`` builds the charts (class balance, histograms, PCA).
"""
