"""Everything the pages import, loaded once per server process before the first session's page runs.

Streamlit runs each session's script in its own thread. On a fresh server, several people arriving
at once would each start importing pandas (``st.dataframe``), plotly and the page modules; Python
hands a half-initialised module to the second importer in some paths (plotly looks pandas up in
``sys.modules`` without importing it), and a chart then failed with "partially initialized module
'pandas' has no attribute 'Series'". ``warm()`` imports them under one lock, so every other session
waits for the first one to finish instead of racing it, and later calls return at once.
"""

from __future__ import annotations

import importlib
import threading
import time

from streamlit import runtime

MODULES = (
    "numpy",
    "pandas",  # st.dataframe and plotly's array checks
    "pyarrow",  # st.dataframe's wire format
    "PIL.Image",
    "plotly.graph_objects",
    "plotly.io",
    "plotly.utils",
    "nn_core",
    "ui.datasets",
    "ui.model_choices",
    "ui.training.controls",
    "ui.training.live",
    "ui.training.analysis",
    "ui.training.runs",
    "ui.training.state",
    "ui.explorer.figures",
    "ui.explorer.images",
    "ui.explorer.stats",
    "ui.draw.input",
    "ui.draw.models",
    "ui.draw.panels",
    "ui.draw.digits",
)
IN_RUN_ONLY = ("streamlit_drawable_canvas",)  # registers its component: only inside a Streamlit run

_LOCK = threading.Lock()
_seconds: float | None = None  # how long the warm-up took, once done


def _serialise_one_figure() -> None:
    """Plotly loads its validators and JSON encoder on first use: do that here too."""
    import plotly.graph_objects as go
    import plotly.io as pio

    pio.to_json(go.Figure(go.Bar(x=[0, 1], y=[0.5, 1.0])), validate=True)


def warm() -> float:
    """Import every module the pages need (once per process); returns the seconds it took."""
    global _seconds
    if _seconds is not None:
        return _seconds
    with _LOCK:
        if _seconds is None:
            start = time.perf_counter()
            for name in MODULES:
                try:
                    importlib.import_module(name)
                except ImportError:  # a renamed module: the page importing it reports that itself
                    continue
            if runtime.exists():
                for name in IN_RUN_ONLY:
                    importlib.import_module(name)
            _serialise_one_figure()
            _seconds = time.perf_counter() - start
    return _seconds


def is_warm() -> bool:
    """True once ``warm()`` has finished in this process."""
    return _seconds is not None
