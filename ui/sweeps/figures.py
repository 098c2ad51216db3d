"""A sweep's runs as a table and Plotly figures, pure functions of ``RunState`` lists.

The score of a run is its best validation accuracy (its test accuracy where it had no validation
set); runs repeated over seeds are averaged per combination in the heatmap.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from ui.palette import CLASS_COLORS


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "-".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def score(state: Any) -> float | None:
    """Best validation accuracy of a run, else its test accuracy, else None."""
    record = state.record
    if record is None or not record.history:
        return None
    best = record.best_val_acc()
    if best is None and record.test:
        best = record.test.get("acc")
    return best


def status_text(state: Any) -> str:
    if state.status == "queued":
        ahead = state.ahead or 0
        return "queued: next" if ahead == 0 else f"queued: {ahead} run{'s' * (ahead != 1)} ahead"
    if state.status == "running":
        return f"running: epoch {len(state.history)} done"
    return state.status


def sweep_rows(states: Sequence[Any]) -> list[dict[str, Any]]:
    """One row a run: its number, the varied settings, seed, status, epochs and accuracies."""
    rows = []
    for i, s in enumerate(states, 1):
        test = s.record.test.get("acc") if s.record is not None and s.record.test else None
        best = score(s)
        row = {"#": i, **{k: _text(v) for k, v in s.settings.items()}, "seed": s.seed}
        row.update(
            status=status_text(s),
            epochs=len(s.history),
            **{
                "best val acc": f"{best:.2%}" if best is not None else "",
                "test acc": f"{test:.2%}" if test else "",
            },
        )
        rows.append(row)
    return rows


def best_state(states: Sequence[Any]) -> Any | None:
    scored = [s for s in states if score(s) is not None]
    return max(scored, key=score) if scored else None


def heatmap_figure(states: Sequence[Any], x: str, y: str) -> go.Figure:
    """Mean score over seeds for each (x, y) combination; empty cells are runs without results yet."""
    xs = list(dict.fromkeys(_text(s.settings[x]) for s in states))
    ys = list(dict.fromkeys(_text(s.settings[y]) for s in states))
    sums: dict[tuple[str, str], list[float]] = defaultdict(list)
    for s in states:
        if (value := score(s)) is not None:
            sums[(_text(s.settings[x]), _text(s.settings[y]))].append(value)
    z = np.full((len(ys), len(xs)), np.nan)
    for (vx, vy), values in sums.items():
        z[ys.index(vy), xs.index(vx)] = float(np.mean(values))
    text = [[f"{v:.2%}" if np.isfinite(v) else "" for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            x=xs,
            y=ys,
            z=z,
            text=text,
            texttemplate="%{text}",
            colorscale="Viridis",
            colorbar={"title": "best val acc", "tickformat": ".1%"},
            hovertemplate=f"{x}=%{{x}}<br>{y}=%{{y}}<br>%{{text}}<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    fig.update_xaxes(title=x, type="category")
    fig.update_yaxes(title=y, type="category")
    fig.update_layout(
        height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10}, title="Best validation accuracy"
    )
    return fig


def parallel_figure(states: Sequence[Any], names: Sequence[str]) -> go.Figure:
    """Parallel coordinates: one axis per varied setting, the last for the score, a line per run."""
    done = [s for s in states if score(s) is not None]
    dims = []
    for name in names:
        labels = list(dict.fromkeys(_text(s.settings[name]) for s in states))
        dims.append(
            {
                "label": name,
                "values": [labels.index(_text(s.settings[name])) for s in done],
                "tickvals": list(range(len(labels))),
                "ticktext": labels,
            }
        )
    scores = [score(s) for s in done]
    dims.append({"label": "best val acc", "values": scores, "tickformat": ".1%"})
    fig = go.Figure(
        go.Parcoords(
            dimensions=dims,
            line={"color": scores, "colorscale": "Viridis", "showscale": True} if done else {},
        )
    )
    fig.update_layout(height=340, margin={"l": 60, "r": 40, "t": 50, "b": 20})
    return fig


def loss_curves_figure(states: Sequence[Any]) -> go.Figure:
    """Every run's training loss per epoch, overlaid (the best run drawn thicker)."""
    best = best_state(states)
    fig = go.Figure()
    for i, s in enumerate(states):
        if not s.history:
            continue
        label = ", ".join(f"{k}={_text(v)}" for k, v in s.settings.items()) + (f", seed {s.seed}")
        fig.add_trace(
            go.Scatter(
                x=[r.epoch for r in s.history],
                y=[r.train_loss for r in s.history],
                name=label,
                mode="lines+markers",
                line={"color": CLASS_COLORS[i % len(CLASS_COLORS)], "width": 4 if s is best else 1.5},
            )
        )
    fig.update_xaxes(title="epoch", dtick=1)
    fig.update_yaxes(title="training loss", type="log")
    fig.update_layout(
        height=320,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title="Training loss of every run",
        showlegend=len(fig.data) <= 12,
    )
    return fig
