"""Each layer's activations over the plane, for the explained step's pictures: `plane_values`.

Plain numpy on the model's weights (no graph, no gradients): for a grid of points of the plane, the
hidden units that vary most over the data and every logit, with the share of the data points where
each unit is active. `plane_extent` chooses the part of the plane to draw.
Not here: the step itself (`step.py`), drawing (`pointlab.plots.explain`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from pointlab.autodiff.mlp import MLP
from pointlab.autodiff.tensor import one_blas_thread, sigmoid


@dataclass(frozen=True)
class PlaneLayer:
    layer: int
    name: str  # "h1", "z3 (logit)"
    units: tuple[int, ...]
    values: np.ndarray  # (len(units), grid, grid)
    active_share: tuple[float, ...]  # per unit: share of the data points where it is > 0


def plane_extent(X: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) to draw: the unit square for the book's data, else the points + 5%."""
    low, high = np.asarray(X).min(0), np.asarray(X).max(0)
    if low.min() >= 0 and high.max() <= 1:
        return (-0.02, 1.02, -0.02, 1.02)
    margin = np.maximum((high - low) * 0.05, 1e-3)
    low, high = low - margin, high + margin
    return (float(low[0]), float(high[0]), float(low[1]), float(high[1]))


def plane_values(
    model: MLP,
    X: np.ndarray,
    extent: tuple[float, float, float, float],
    grid: int = 90,
    per_layer: int = 6,
    first_units: Mapping[int, int] | None = None,
) -> list[PlaneLayer]:
    """Each layer's activations over a grid of the plane (x0, x1, y0, y1): for hidden layers the
    `per_layer` units that vary most over the data points (`first_units[layer]` first, such as a
    traced unit); for the output layer every logit. Plain numpy, no graph: (grid², width) each."""
    x0, x1, y0, y1 = extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, grid), np.linspace(y0, y1, grid))
    points = np.column_stack([gx.ravel(), gy.ravel()])  # (grid², 2)
    data = np.asarray(X, dtype=np.float64)
    out = []
    L = len(model.weights)
    with one_blas_thread():
        h_plane, h_data = points, data
        for i, (w, b) in enumerate(zip(model.weights, model.biases, strict=True), start=1):
            z_plane = h_plane @ w.data + b.data.reshape(-1)
            z_data = h_data @ w.data + b.data.reshape(-1)
            if i == L:
                units = list(range(z_plane.shape[1]))
                values, on_data, name = z_plane, z_data, f"z{i} (logit)"
            else:
                h_plane = _act(z_plane, model.activation)
                h_data = _act(z_data, model.activation)
                spread = h_data.std(axis=0)
                units = [int(u) for u in np.argsort(-spread)]
                first = (first_units or {}).get(i)
                if first is not None:
                    units = [first] + [u for u in units if u != first]
                units = units[:per_layer]
                values, on_data, name = h_plane, h_data, f"h{i}"
            out.append(
                PlaneLayer(
                    layer=i,
                    name=name,
                    units=tuple(units),
                    values=np.stack([values[:, u].reshape(grid, grid) for u in units]),
                    active_share=tuple(float((on_data[:, u] > 0).mean()) for u in units),
                )
            )
    return out


def _act(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return np.maximum(z, 0)
    if activation == "tanh":
        return np.tanh(z)
    if activation == "sigmoid":
        return sigmoid(z)
    if activation == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    return z
