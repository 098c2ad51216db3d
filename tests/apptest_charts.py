"""Reading Plotly charts out of an AppTest run: find one by its widget key, parse its figure."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest


def chart(at: AppTest, key: str):
    """The one Plotly chart element drawn with ``key``."""
    found = [c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")]
    assert len(found) == 1, f"no chart {key}"
    return found[0]


def spec(at: AppTest, key: str) -> dict:
    """The figure (data and layout) of the chart drawn with ``key``."""
    return json.loads(chart(at, key).proto.spec)
