"""The decision-boundary picture: what a trained model predicts over the plane, with the points.

Two classes: the probability of label 1 as a heatmap (red 0, blue 1, as the book colours points),
the 0.5 contour, training points filled, validation points hollow, misclassified points ringed.
K > 2 classes: each class's region in its colour, paler where the model is less sure.
The model comes in as `predict_proba(X (N, 2)) -> (N, K)`, so any model (or a test double) draws.
Not here: training, or the points alone (`plots.points`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from pointlab.data import Dataset, write_atomic
from pointlab.plots.points import class_colours

PredictProba = Callable[[np.ndarray], np.ndarray]
GRID = 300  # cells per side: smooth at the figure's size, 90k points predict in milliseconds


def plot_boundary(
    predict_proba: PredictProba,
    train: Dataset,
    val: Dataset | None,
    path: str | os.PathLike[str],
    title: str = "",
) -> Path:
    """Draw the model's decision regions with the points into a PNG at `path`; return the path.
    The title gets a second line with the train (and validation) accuracy."""
    figure = Figure(figsize=(7.5, 7.8), dpi=100, layout="constrained")
    draw_boundary(figure, predict_proba, train, val, title)
    return write_atomic(Path(path), lambda file: figure.savefig(file, format="png"))


def draw_boundary(
    figure: Figure, predict_proba: PredictProba, train: Dataset, val: Dataset | None, title: str
) -> None:
    """Draw onto a new axes of `figure` (a pyplot figure too, for a window); the figure should
    use the constrained layout, which places the legend below the axes."""
    axes = figure.add_subplot()
    parts = [("train", train)] + ([("validation", val)] if val is not None and len(val) else [])
    points = np.concatenate([d.X for _, d in parts])  # (N, 2)
    (x0, x1), (y0, y1) = _extent(points)
    gx, gy = np.meshgrid(np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)  # (GRID², 2)
    proba = np.asarray(predict_proba(grid)).reshape(GRID, GRID, -1)  # (GRID, GRID, K)
    k = train.n_classes
    colours = class_colours(k)

    if k == 2:
        image = axes.imshow(
            proba[..., 1],
            origin="lower",
            extent=(x0, x1, y0, y1),
            cmap="RdBu",
            vmin=0,
            vmax=1,
            alpha=0.65,
            aspect="auto",
            interpolation="bilinear",
        )
        axes.contour(gx, gy, proba[..., 1], levels=[0.5], colors="black", linewidths=1.2)
        colourbar = figure.colorbar(image, ax=axes, fraction=0.046, pad=0.03)
        colourbar.set_label("predicted probability of label 1")
    else:
        # Argmax class colour, blended towards white where the top probability is low.
        rgb = np.array([to_rgb(c) for c in colours])[proba.argmax(2)]  # (GRID, GRID, 3)
        sure = ((proba.max(2) - 1 / k) / (1 - 1 / k))[..., None]  # 0 at chance, 1 when certain
        shade = 1 - (0.25 + 0.45 * sure) * (1 - rgb)
        axes.imshow(shade, origin="lower", extent=(x0, x1, y0, y1), aspect="auto")
        axes.contour(
            gx, gy, proba.argmax(2), levels=np.arange(k) + 0.5, colors="black", linewidths=0.8
        )

    accuracies = []
    for name, data in parts:
        predicted = np.asarray(predict_proba(data.X)).argmax(1)  # (n,)
        wrong = predicted != data.y
        accuracies.append(f"{name} accuracy {100 * (1 - wrong.mean()):.1f}%")
        for label, colour in enumerate(colours):
            mine = data.X[data.y == label]
            if name == "train":
                axes.scatter(
                    mine[:, 0],
                    mine[:, 1],
                    s=22,
                    c=colour,
                    edgecolors="white",
                    linewidths=0.6,
                    zorder=3,
                )
            else:
                axes.scatter(
                    mine[:, 0],
                    mine[:, 1],
                    s=30,
                    marker="s",
                    facecolors="none",
                    edgecolors=colour,
                    linewidths=1.6,
                    zorder=3,
                )
        axes.scatter(
            data.X[wrong, 0],
            data.X[wrong, 1],
            s=110,
            facecolors="none",
            edgecolors="gold",
            linewidths=1.8,
            zorder=4,
        )

    axes.set_xlim(x0, x1)
    axes.set_ylim(y0, y1)
    axes.set_aspect("equal")
    axes.set_xlabel("x")
    axes.set_ylabel("y")
    axes.set_title("\n".join(filter(None, [title, ", ".join(accuracies)])), fontsize=10)
    # Below the axes, so it never hides points; "outside" makes the layout leave room for it.
    figure.legend(
        handles=_legend(colours, val is not None and len(val) > 0, k),
        loc="outside lower center",
        ncol=3,
        fontsize="small",
        frameon=False,
    )


def _extent(points: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """Plot limits: the unit square for the book's data, else the points plus a 5% margin."""
    low, high = points.min(0), points.max(0)
    if low.min() >= 0 and high.max() <= 1:
        return (-0.02, 1.02), (-0.02, 1.02)
    margin = np.maximum((high - low) * 0.05, 1e-3)
    low, high = low - margin, high + margin
    return (float(low[0]), float(high[0])), (float(low[1]), float(high[1]))


def _legend(colours: list[str], has_val: bool, k: int) -> list[Line2D]:
    def marker(**kw) -> Line2D:
        return Line2D([], [], linestyle="none", **kw)

    handles = [
        marker(marker="o", color=c, markeredgecolor="white", label=f"train, class {i}")
        for i, c in enumerate(colours)
    ]
    if has_val:
        handles += [
            marker(
                marker="s",
                markerfacecolor="none",
                markeredgecolor=c,
                markeredgewidth=1.6,
                label=f"validation, class {i}",
            )
            for i, c in enumerate(colours)
        ]
    handles.append(
        marker(
            marker="o",
            markersize=11,
            markerfacecolor="none",
            markeredgecolor="gold",
            markeredgewidth=1.8,
            label="misclassified",
        )
    )
    label = "p = 0.5 boundary" if k == 2 else "class boundary"
    handles.append(Line2D([], [], color="black", linewidth=1.2, label=label))
    return handles
