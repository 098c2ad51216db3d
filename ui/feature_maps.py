"""Feature maps and conv filters as grids of small images, for the playground and the Draw page.

``conv_maps(network, image)`` runs one image through a network built from layer specs and keeps
the output of every layer that gives feature maps (conv, pooling, and batch norm or dropout on
maps): a list of ``LayerMaps``. ``maps_mosaic`` tiles (H, W, C) maps into one 2-D array with NaN
gaps, and ``feature_maps_figure`` / ``filters_figure`` draw it as a single heatmap (one trace,
cheap to send), hovering a pixel names its map and value. All are pure functions of arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from nn_core.conv import Conv2D
from nn_core.network import Network

MAX_MAPS = 32  # maps drawn per layer (the first ones); the caption says when there are more
COLS = 8
MAP_SCALE = "gray"  # non-negative maps: black (silent) to white (fires most in this layer)
SIGNED_SCALE = "RdBu_r"  # filters and maps with negative values: blue below 0, red above


@dataclass(frozen=True)
class LayerMaps:
    """One layer's feature maps for one image."""

    position: int  # 1-based index in ``config.layers``
    name: str  # "conv16x5", "maxpool2", "bn"
    maps: np.ndarray  # (H, W, C) float32


def conv_maps(network: Network, image: np.ndarray) -> list[LayerMaps]:
    """The feature maps of every spatial layer for one image (28, 28) or (784,); [] for an MLP."""
    specs = network.config.layers
    if not specs:
        return []
    outputs = network.hidden_activations(np.asarray(image, np.float32).reshape(1, -1))
    return [
        LayerMaps(i, spec.name, out[0])
        for i, (spec, out) in enumerate(zip(specs, outputs, strict=True), start=1)
        if out.ndim == 4
    ]


def first_conv(network: Network) -> Conv2D | None:
    """The network's first convolution layer (its ``W``: (kh, kw, c_in, filters)), or None."""
    return next((layer for layer in network.layers if isinstance(layer, Conv2D)), None)


def maps_mosaic(maps: np.ndarray, cols: int = COLS, gap: int = 1) -> np.ndarray:
    """Maps (H, W, C) tiled row by row, ``cols`` per row, ``gap`` NaN pixels between them.

    Returns an array of shape (rows * (H + gap) - gap, min(C, cols) * (W + gap) - gap), float32.
    """
    h, w, c = maps.shape
    cols = max(1, min(cols, c))
    rows = math.ceil(c / cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, np.float32)
    for k in range(c):
        r, q = divmod(k, cols)
        out[r * (h + gap) : r * (h + gap) + h, q * (w + gap) : q * (w + gap) + w] = maps[:, :, k]
    return out


def _map_index(shape: tuple[int, int, int], cols: int, gap: int) -> np.ndarray:
    """The 1-based map number under each mosaic pixel (NaN in the gaps)."""
    h, w, c = shape
    numbers = np.broadcast_to(np.arange(1, c + 1, dtype=np.float32), (h, w, c))
    return maps_mosaic(np.ascontiguousarray(numbers), cols, gap)


def _grid_figure(
    maps: np.ndarray,
    title: str,
    cols: int,
    width: int,
    max_pixel: float,
    what: str,
    signed: bool | None = None,
) -> go.Figure:
    """One heatmap of the tiled maps, as tall as they are when ``width`` screen pixels wide (at most
    ``max_pixel`` screen pixels per map pixel)."""
    gap = 1 if maps.shape[0] < 12 else 2
    mosaic = maps_mosaic(maps, cols, gap)
    pixel = min(max_pixel, width / mosaic.shape[1])
    index = _map_index(maps.shape, cols, gap)
    finite = maps[np.isfinite(maps)]
    signed = bool(finite.size and finite.min() < 0) if signed is None else signed
    top = float(np.abs(finite).max()) if finite.size else 0.0
    top = top or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=mosaic,
            customdata=index,
            colorscale=SIGNED_SCALE if signed else MAP_SCALE,
            zmin=-top if signed else 0.0,
            zmax=top,
            showscale=False,
            hoverongaps=False,
            hovertemplate=f"{what} %{{customdata:.0f}}<br>value %{{z:.3f}}<extra></extra>",
        )
    )
    height = int(max(90, mosaic.shape[0] * pixel + 40))
    fig.update_layout(
        title={"text": title, "font": {"size": 13}, "x": 0, "xanchor": "left"},
        height=height,
        margin={"l": 4, "r": 4, "t": 30, "b": 4},
        plot_bgcolor="white",
        paper_bgcolor="rgba(0,0,0,0)",
    )
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    return fig


def feature_maps_figure(
    layer: LayerMaps, max_maps: int = MAX_MAPS, cols: int = COLS, width: int = 800
) -> go.Figure:
    """A layer's maps (its first ``max_maps``), all on the layer's scale: the brightest pixel is the
    strongest response anywhere in the layer, so weak filters look dark. ``width``: the screen
    pixels it is shown at (sets its height)."""
    h, w, c = layer.maps.shape
    shown = min(c, max_maps)
    more = f", first {shown} of {c}" if shown < c else ""
    title = f"layer {layer.position} · {layer.name}: {c} maps of {h}x{w}{more}"
    return _grid_figure(layer.maps[:, :, :shown], title, cols, width, 8, "map")


def filters_figure(
    W: np.ndarray, max_filters: int = MAX_MAPS, cols: int = COLS, width: int = 560
) -> go.Figure:
    """A conv layer's filters (kh, kw, c_in, F) as images (summed over input channels): red pixels
    raise the map where the image is bright there, blue ones lower it; one colour scale for all."""
    kh, kw, c_in, f = W.shape
    shown = min(f, max_filters)
    kernels = W.sum(axis=2)[:, :, :shown]  # (kh, kw, shown)
    more = f", first {shown} of {f}" if shown < f else ""
    summed = f", summed over {c_in} input channels" if c_in > 1 else ""
    title = f"{f} filters of {kh}x{kw}{summed}{more}"
    return _grid_figure(kernels, title, cols, width, 24, "filter", signed=True)
