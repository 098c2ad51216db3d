"""Layout for every screen: the app-wide CSS and the Draw page's row of panels that wraps.

Streamlit tells the script nothing about the viewport, so whatever depends on width is left to the
browser: panels sit in a wrapping flex row (``st.container(horizontal=True)``) whose items get a
*minimum useful width* here (the drawing canvas needs its full ``CANVAS_SIZE`` pixels), and a few
rows of small widgets are kept as rows on phones, where Streamlit would stack every column.
The CSS only targets elements by the ``st-key-<key>`` classes Streamlit gives keyed containers and
widgets, and the ``data-testid`` attributes of its layout blocks.
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ui.draw.input import CANVAS_SIZE  # the drawing canvas' side in CSS pixels

SEEN_MIN = 160  # "What the network sees": the 28x28 image may shrink to this width
RESULT_MIN = 280  # prediction headline, probability chart, label picker and button
DRAW_ROW_KEY = "draw_row"
DRAW_PANEL_KEYS = ("draw_input", "draw_seen", "draw_result")

# Flex items of the Draw page's row: grow in proportion (the result gets the most), never below the
# width each panel needs; when the row cannot hold all three at those widths the last ones wrap.
_DRAW_ROW = f"""
.st-key-{DRAW_ROW_KEY} > [data-testid="stLayoutWrapper"]:has(> .st-key-draw_input) {{
  flex: 5 1 {CANVAS_SIZE}px; min-width: min(100%, {CANVAS_SIZE}px);
}}
.st-key-{DRAW_ROW_KEY} > [data-testid="stLayoutWrapper"]:has(> .st-key-draw_seen) {{
  flex: 3 1 {SEEN_MIN}px;
}}
.st-key-{DRAW_ROW_KEY} > [data-testid="stLayoutWrapper"]:has(> .st-key-draw_result) {{
  flex: 6 1 {RESULT_MIN}px;
}}
.st-key-draw_input {{ container-type: inline-size; }}
@container (max-width: {CANVAS_SIZE - 1}px) {{
  .st-key-draw_input [data-testid="stBidiComponentIsolated"] {{ zoom: 0.85; }}
}}
@container (max-width: {int(CANVAS_SIZE * 0.85) - 1}px) {{
  .st-key-draw_input [data-testid="stBidiComponentIsolated"] {{ zoom: 0.7; }}
}}
"""

# The training playground's settings beside the run: settings never narrower than SETTINGS_MIN (their
# two-widget rows need it), the run panel never narrower than RUN_MIN; below that they stack.
SETTINGS_MIN = 300
RUN_MIN = 400
_TRAIN_ROW = (
    '[data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] > [data-testid="stVerticalBlock"]'
    " > .st-key-train_w_preset)"
)
_TRAIN_COLUMNS = f"""
@media (min-width: 641px) {{
  {_TRAIN_ROW} > [data-testid="stColumn"]:first-child {{ flex: 1 1 {SETTINGS_MIN}px; }}
  {_TRAIN_ROW} > [data-testid="stColumn"]:last-child {{ flex: 2 1 {RUN_MIN}px; }}
}}
"""


# Inside the drawing canvas' shadow root (page CSS cannot reach there): its toolbar (undo, reset, ...)
# rests invisible over the canvas' top-right corner until the mouse hovers, so a finger starting a
# stroke there pressed an unseen button instead. It now rests just above the canvas (room made by
# CANVAS_TOP_GAP) and, where nothing can hover (touch screens), stays visible.
_TOOLBAR_CSS = (  # !important: the component's own sheet is adopted, so it comes later in the cascade
    ".dc-toolbar { top: -2.9rem !important; } @media (hover: none) { .dc-toolbar { opacity: 1 !important; } }"
)
CANVAS_TOP_GAP = "2rem"
_CANVAS_GAP_CSS = (
    f'.st-key-draw_input [data-testid="stBidiComponentIsolated"] {{ margin-top: {CANVAS_TOP_GAP}; }}'
    '[data-testid="stLayoutWrapper"]:has(> .st-key-layout_scripts), .st-key-layout_scripts { display: none; }'
)
_TOOLBAR_SCRIPT = f"""<script>
(() => {{
  if (window.digitLabCanvasStyle) return;
  window.digitLabCanvasStyle = true;
  const patch = () => {{
    for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {{
      const root = host.shadowRoot;
      if (!root || root.querySelector('style[data-digit-lab]')) continue;
      const style = document.createElement('style');
      style.dataset.digitLab = 'toolbar';
      style.textContent = {_TOOLBAR_CSS!r};
      root.appendChild(style);
    }}
  }};
  new MutationObserver(patch).observe(document.body, {{childList: true, subtree: true}});
  patch();
}})();
</script>"""


# The run's control buttons (Resume, Pause, Stop, +1 epoch, Reset) share a row of five equal columns,
# too narrow for their labels beside the settings on a tablet; each column now takes its button's
# width and the row wraps instead of cutting the labels short.
_RUN_BUTTONS = (
    '[data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] > [data-testid="stVerticalBlock"]'
    " > .st-key-train_resume)"
)
_RUN_BUTTON_ROW = f"""
{_RUN_BUTTONS} {{ flex-wrap: wrap; }}
{_RUN_BUTTONS} > [data-testid="stColumn"] {{ flex: 1 1 auto; width: auto; min-width: max-content; }}
"""


# Plotly shows its mode bar (zoom, pan, ...) all the time where nothing can hover, on top of the chart's
# title. On touch screens it goes; a double tap still resets a chart that was zoomed by a drag.
_TOUCH_CHARTS = '@media (hover: none) { [data-testid="stPlotlyChart"] .modebar-container { display: none; } }'


def apply_layout_css() -> None:
    """Add the app-wide layout CSS (once per page run; it takes no space on the page)."""
    st.html(f"<style>{_DRAW_ROW}{_CANVAS_GAP_CSS}{_TRAIN_COLUMNS}{_RUN_BUTTON_ROW}{_TOUCH_CHARTS}</style>")
    with st.container(key="layout_scripts"):  # hidden: a script needs a place on the page, not space
        st.html(_TOOLBAR_SCRIPT, unsafe_allow_javascript=True)


def draw_panels() -> tuple[DeltaGenerator, DeltaGenerator, DeltaGenerator]:
    """The Draw page's input, "what the network sees" and result panels, side by side when they fit.

    On a wide screen they share one row (in proportions 5 : 3 : 6); on a narrow one the panels
    that do not fit at their minimum widths wrap onto the next row, so the canvas is never
    narrower than its own ``CANVAS_SIZE`` pixels (on a phone each panel gets a full-width row).
    """
    row = st.container(horizontal=True, gap="medium", key=DRAW_ROW_KEY)
    panels = tuple(row.container(key=key) for key in DRAW_PANEL_KEYS)
    return panels  # type: ignore[return-value]
