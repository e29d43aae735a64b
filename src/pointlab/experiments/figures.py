"""Small drawing helpers shared by the experiments (`capacity`, `memorize`, `grid-vs-random`,
`lr-importance`): a decision boundary on an axis, and saving a Figure as a PNG.

Figures are `matplotlib.figure.Figure` objects drawn by the Agg canvas, never pyplot, so they work
headless and in threads. Not here: the general plots of `pointlab.plots`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from pointlab.engine.models import Architecture, to_sequential

# The book's colours: class 0 red, class 1 blue; further classes from tab10.
CLASS_COLOURS = ["red", "blue", "tab:green", "tab:orange", "tab:purple", "tab:brown"]


def predict_grid(
    arch: Architecture, state: dict, extent, steps: int = 200, scale=None
) -> np.ndarray:
    """Predicted class on a steps x steps grid over extent (x0, x1, y0, y1); (steps, steps).

    scale: the input transform the model was trained with (points -> model inputs), if any."""
    model = to_sequential(arch)
    model.load_state_dict(state)
    xs = np.linspace(extent[0], extent[1], steps)
    ys = np.linspace(extent[2], extent[3], steps)
    gx, gy = np.meshgrid(xs, ys)
    points = np.c_[gx.ravel(), gy.ravel()]  # (steps * steps, 2)
    points = torch.tensor(points if scale is None else scale(points), dtype=torch.float32)
    with torch.no_grad():
        logits = model(points)  # (steps * steps, n_outputs)
    if logits.shape[1] == 1:
        labels = (logits[:, 0] > 0).long()
    else:
        labels = logits.argmax(1)
    return labels.numpy().reshape(steps, steps)


def draw_boundary(
    ax, arch: Architecture, state: dict, X: np.ndarray, y: np.ndarray, title: str, scale=None
):
    """Regions of each predicted class (light) with the points on top (the book's colours)."""
    extent = (0.0, 1.0, 0.0, 1.0)
    k = max(arch.n_classes, int(y.max()) + 1)
    regions = predict_grid(arch, state, extent, scale=scale)
    ax.imshow(
        regions,
        origin="lower",
        extent=extent,
        cmap=ListedColormap(CLASS_COLOURS[:k]),
        alpha=0.18,
        vmin=0,
        vmax=k - 1,
        aspect="auto",
        interpolation="nearest",
    )
    for c in range(k):
        ax.scatter(*X[y == c].T, s=9, color=CLASS_COLOURS[c], label=f"class {c}")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="x", ylabel="y", title=title)


def save(figure: Figure, out: Path, name: str) -> str:
    """Write `figure` as out/name (PNG) and return the file name for the report."""
    out.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(out / name, dpi=90)
    return name
