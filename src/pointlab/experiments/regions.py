"""Linear regions of ReLU networks over the plane, counted exactly from activation patterns.

Given which ReLUs are on (the activation pattern), every pre-activation is an affine function of the
input, so the set of inputs with one pattern is an intersection of half-planes: a convex polygon.
Counting the distinct patterns met on a fine grid therefore counts the activation regions (missing
only those thinner than a grid cell); along a line, the pattern changes count the pieces.

Not here: Telgarsky's sawtooth (`experiments/sawtooth.py`), the experiment and its claims
(`experiments/depth.py`), the drawing (`plots/regions.py`).
"""

from __future__ import annotations

import numpy as np
import torch

from pointlab.engine.models import Architecture, layer_views


def patterns(arch: Architecture, theta: torch.Tensor, points: np.ndarray) -> np.ndarray:
    """Activation pattern ids (M, N): one integer per distinct on/off pattern of all hidden ReLUs.

    theta (M, P) in the engine's layout, points (N, 2). Ids are comparable within one member only.
    """
    x = torch.as_tensor(np.asarray(points, dtype=np.float64))
    layers = layer_views(arch, theta.detach().to(torch.float64))
    h = x.expand(theta.shape[0], *x.shape)  # (M, N, 2)
    bits = []
    for w, b in layers[:-1]:
        z = torch.baddbmm(b, h, w)  # (M, N, width)
        bits.append(z > 0)
        h = torch.relu(z)
    on = torch.cat(bits, dim=2).numpy()  # (M, N, neurons) bool
    packed = np.packbits(on, axis=2)  # (M, N, bytes)
    ids = np.empty(on.shape[:2], dtype=np.int64)
    for m in range(on.shape[0]):
        rows = np.ascontiguousarray(packed[m]).view(np.dtype((np.void, packed.shape[2])))
        ids[m] = np.unique(rows.ravel(), return_inverse=True)[1].ravel()
    return ids


def grid(extent: tuple[float, float, float, float], cells: int) -> np.ndarray:
    """(cells * cells, 2) cell centres over extent (x0, x1, y0, y1), row-major from the bottom."""
    x0, x1, y0, y1 = extent
    xs = x0 + (np.arange(cells) + 0.5) * (x1 - x0) / cells
    ys = y0 + (np.arange(cells) + 0.5) * (y1 - y0) / cells
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def count_regions(ids: np.ndarray) -> np.ndarray:
    """(M,) number of distinct patterns per member on the points the ids were computed for."""
    return np.array([len(np.unique(row)) for row in ids])


def count_pieces(ids: np.ndarray) -> np.ndarray:
    """(M,) pieces along a line: 1 + the number of pattern changes between neighbouring points."""
    return 1 + (np.diff(ids, axis=1) != 0).sum(axis=1)


def counts(
    arch: Architecture,
    theta: torch.Tensor,
    extent: tuple[float, float, float, float],
    cells: int,
    line_points: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(regions over extent on a cells x cells grid (M,), pieces along the line through the
    middle of extent, y = (y0 + y1) / 2, at line_points points (M,))."""
    x0, x1, y0, y1 = extent
    xs = x0 + (np.arange(line_points) + 0.5) * (x1 - x0) / line_points
    line = np.column_stack([xs, np.full_like(xs, (y0 + y1) / 2)])
    return (
        count_regions(patterns(arch, theta, grid(extent, cells))),
        count_pieces(patterns(arch, theta, line)),
    )
