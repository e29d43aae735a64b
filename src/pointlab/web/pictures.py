"""Pictures as numbers: what the page draws, computed on the server and sent as bytes in JSON.

- `regions`: each member's class probabilities over a grid of the plane, one byte a cell for two
  classes (P(class 1) * 255), two for K > 2 (the likeliest class, its probability * 255);
- `network`: one hidden layer of a member, each unit's activation over the plane (-1..1 as
  0..255) and the weights into it;
- `diagram`: the whole network of a member, for the page to draw as TensorFlow Playground does:
  each hidden layer's first DIAGRAM_UNITS units over the plane and the weights between the units
  drawn (the page says "+k more" for the rest);
- `floats`: numbers as JSON can hold them (None for NaN and infinity).
The page scales and colours them (`static/js/plane.js`, `panels.js`).

Not here: the model's numbers (`live.py`), when a frame is sent (`session.py`).
"""

from __future__ import annotations

import base64
import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from pointlab.web.live import LiveTraining

# Cells per side of each picture. The main picture costs a forward pass of GRID^2 points per
# frame: 40^2 costs the book's complex model about 4 ms, 5% of the training time at 12 frames a
# second (the page smooths the grid when it scales it up).
GRID, THUMB_GRID, UNIT_GRID = 40, 24, 24
MAX_UNITS_SHOWN = 32  # of a hidden layer, in the network view
DIAGRAM_UNITS = 16  # of a hidden layer, in the network diagram


def grid(extent: list[list[float]], cells: int) -> np.ndarray:
    """Centres of cells x cells squares over the extent, row 0 at the top: (cells^2, 2)."""
    (x0, x1), (y0, y1) = extent
    xs = x0 + (np.arange(cells) + 0.5) * (x1 - x0) / cells
    ys = y1 - (np.arange(cells) + 0.5) * (y1 - y0) / cells
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)


def regions(
    live: LiveTraining, members: list[int], extent: list[list[float]], cells: int
) -> list[str]:
    """Each member's picture as base64 bytes (see the module's docstring)."""
    probs = live.regions(members, grid(extent, cells))  # (m, cells^2, K)
    probs = np.nan_to_num(probs, nan=1.0 / probs.shape[2])
    out = []
    for p in probs:
        if p.shape[1] == 2:
            data = np.round(p[:, 1] * 255).astype(np.uint8)
        else:
            top = p.argmax(1)
            data = np.stack([top, np.round(p.max(1) * 255)], 1).astype(np.uint8)
        out.append(base64.b64encode(data.tobytes()).decode())
    return out


def network(
    live: LiveTraining, member: int, layer: int, extent: list[list[float]]
) -> dict[str, Any]:
    """One hidden layer of `member`: each unit's activation over the plane (bytes scaled to
    -1..1 -> 0..255) and the weights into it."""
    hidden = live.configs[member].hidden
    if not hidden:
        return {"layer": None, "layers": 0}
    layer = min(layer, len(hidden) - 1)
    acts = live.units(member, grid(extent, UNIT_GRID))[layer]  # (G, width)
    shown = min(acts.shape[1], MAX_UNITS_SHOWN)
    largest = float(np.nanmax(np.abs(acts[:, :shown]))) if acts.size else 0.0
    scale = largest if math.isfinite(largest) and largest > 0 else 1.0  # JSON has no infinity
    pictures = []
    for u in range(shown):
        values = np.nan_to_num(acts[:, u] / scale)
        data = np.round((values + 1) * 127.5).clip(0, 255).astype(np.uint8)
        pictures.append(base64.b64encode(data.tobytes()).decode())
    weight, bias = live.weights(member)[layer]  # (fan_in, width), (width,)
    return {
        "layer": layer,
        "layers": len(hidden),
        "width": int(acts.shape[1]),
        "shown": shown,
        "scale": scale,
        "grid": UNIT_GRID,
        "units": pictures,
        "weights": [floats(row) for row in np.round(weight[:, :shown].T, 4)],  # (shown, fan_in)
        "bias": floats(np.round(bias[:shown], 4)),
    }


def diagram(live: LiveTraining, member: int, extent: list[list[float]]) -> dict[str, Any]:
    """Every layer of `member`: for each hidden layer its width, its first DIAGRAM_UNITS units'
    activations over the plane (bytes scaled by the layer's largest |activation| to -1..1 ->
    0..255) and that scale; for every layer the weights between the units drawn, as [to][from]
    (the output layer's in full), and their biases."""
    acts = live.units(member, grid(extent, UNIT_GRID))  # per hidden layer (G, width)
    layers = []
    for a in acts:
        shown = min(a.shape[1], DIAGRAM_UNITS)
        largest = float(np.nanmax(np.abs(a[:, :shown]))) if a.size else 0.0
        scale = largest if math.isfinite(largest) and largest > 0 else 1.0
        values = np.nan_to_num(a[:, :shown] / scale)  # (G, shown)
        data = np.round((values + 1) * 127.5).clip(0, 255).astype(np.uint8)
        units = [base64.b64encode(data[:, u].tobytes()).decode() for u in range(shown)]
        layers.append({"width": int(a.shape[1]), "scale": scale, "units": units})
    weights, biases = [], []
    fan_in = 2
    for i, (w, b) in enumerate(live.weights(member)):  # (fan_in, fan_out), (fan_out,)
        rows = min(fan_in, DIAGRAM_UNITS) if i else fan_in
        cols = w.shape[1] if i == len(acts) else min(w.shape[1], DIAGRAM_UNITS)
        weights.append([floats(column) for column in w[:rows, :cols].T])  # (cols, rows)
        biases.append(floats(b[:cols]))
        fan_in = w.shape[1]
    return {"grid": UNIT_GRID, "layers": layers, "weights": weights, "biases": biases}


def floats(values: Any) -> list[float | None]:
    """JSON has no NaN: None stands for a missing number."""
    return [
        None if not math.isfinite(v) else round(float(v), 6) for v in np.asarray(values).ravel()
    ]
