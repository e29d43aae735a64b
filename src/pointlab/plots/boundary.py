"""The decision-boundary picture: what a trained model predicts over the plane, with the points.

Compute, then draw. `compute_boundary(predict_proba, train, val)` asks the model for its class
probabilities on a grid over the points and for its prediction at every point (a `Boundary`,
plain numpy arrays); `draw_boundary(ax, boundary)` draws it:
- two classes: the probability of label 1 as a heatmap (red 0, blue 1, as the book colours
  points) with a colour bar, and the 0.5 contour;
- K > 2 classes: each class's region in its colour, paler where the model is less sure;
- training points filled, validation points hollow squares, misclassified points ringed (and
  "misclassified" in the legend only when some point is); the accuracies under the title.
The model comes in as `predict_proba(X (N, 2)) -> (N, K)`, so any model (or a test double) draws.
Not here: training, or the points alone (`plots.points`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D
from matplotlib.transforms import ScaledTranslation

from pointlab.data import Dataset
from pointlab.plots.palette import class_colours
from pointlab.plots.save import new_figure, save_figure

PredictProba = Callable[[np.ndarray], np.ndarray]
GRID = 300  # cells per side: smooth at the figure's size, 90k points predict in milliseconds
SIZE = (7.5, 7.8)  # inches: the square plot, its colour bar, the title and the legend below
RING = "gold"  # misclassified points: a ring no class colour uses


@dataclass(frozen=True)
class Part:
    """One set of points drawn (train or validation) and what the model predicts for them."""

    name: str  # "train" | "validation"
    X: np.ndarray  # (n, 2)
    y: np.ndarray  # (n,) true labels
    predicted: np.ndarray  # (n,) the model's labels

    @property
    def wrong(self) -> np.ndarray:
        return self.predicted != self.y  # (n,) bool

    @property
    def accuracy(self) -> float:
        return float(1 - self.wrong.mean()) if len(self.y) else float("nan")


@dataclass(frozen=True)
class Boundary:
    """The numbers of a decision-boundary picture."""

    extent: tuple[float, float, float, float]  # x0, x1, y0, y1
    proba: np.ndarray  # (S, S, K): rows follow y from y0 to y1, columns x from x0 to x1
    parts: tuple[Part, ...]
    n_classes: int

    @property
    def misclassified(self) -> int:
        return int(sum(part.wrong.sum() for part in self.parts))

    def accuracies(self) -> str:
        return ", ".join(f"{p.name} accuracy {100 * p.accuracy:.1f}%" for p in self.parts)


def compute_boundary(
    predict_proba: PredictProba,
    train: Dataset | tuple[np.ndarray, np.ndarray],
    val: Dataset | tuple[np.ndarray, np.ndarray] | None = None,
    *,
    n_classes: int | None = None,
    steps: int = GRID,
    extent: tuple[float, float, float, float] | None = None,
) -> Boundary:
    """Predict on a steps x steps grid over the points (or `extent`) and at every point.

    `train` and `val` are Datasets or (X (n, 2), y (n,)) pairs; `n_classes` defaults to the
    training set's."""
    parts = []
    for name, data in (("train", train), ("validation", val)):
        if data is None:
            continue
        X, y = (data.X, data.y) if isinstance(data, Dataset) else data
        if len(y) == 0:
            continue
        predicted = np.asarray(predict_proba(np.asarray(X, dtype=np.float32))).argmax(1)
        parts.append(Part(name, np.asarray(X), np.asarray(y), predicted))
    k = n_classes or (train.n_classes if isinstance(train, Dataset) else int(train[1].max()) + 1)
    if extent is None:
        extent = _extent(np.concatenate([p.X for p in parts]))
    x0, x1, y0, y1 = extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, steps), np.linspace(y0, y1, steps))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)  # (steps², 2)
    proba = np.asarray(predict_proba(grid)).reshape(steps, steps, -1)  # (steps, steps, K)
    return Boundary(extent, proba, tuple(parts), max(k, proba.shape[2]))


def plot_boundary(
    predict_proba: PredictProba,
    train: Dataset,
    val: Dataset | None,
    path: str | os.PathLike[str],
    title: str = "",
) -> Path:
    """Draw the model's decision regions with the points into a PNG at `path`; return the path.
    The title gets a second line with the train (and validation) accuracy."""
    figure = new_figure(*SIZE)
    draw_boundary(figure.add_subplot(), compute_boundary(predict_proba, train, val), title=title)
    return save_figure(figure, path)


def draw_boundary(
    ax: Axes,
    boundary: Boundary,
    *,
    title: str = "",
    colourbar: bool = True,
    legend: bool = True,
    point_size: float = 22,
) -> None:
    """Draw `boundary` onto `ax`: regions, boundary line, points, accuracies under the title.

    The legend goes below the axes (so it never hides points); give the figure the constrained
    layout (`save.new_figure`) so that it gets room."""
    x0, x1, y0, y1 = boundary.extent
    k = boundary.n_classes
    colours = class_colours(k)
    steps = boundary.proba.shape[0]
    gx, gy = np.meshgrid(np.linspace(x0, x1, steps), np.linspace(y0, y1, steps))
    if k == 2:
        p1 = boundary.proba[..., 1]  # (S, S)
        image = ax.imshow(
            p1,
            origin="lower",
            extent=(x0, x1, y0, y1),
            cmap="RdBu",
            vmin=0,
            vmax=1,
            alpha=0.65,
            aspect="auto",
            interpolation="bilinear",
        )
        if p1.min() < 0.5 < p1.max():  # a model sure of one class everywhere has no 0.5 line
            ax.contour(gx, gy, p1, levels=[0.5], colors="black", linewidths=1.2)
        if colourbar:
            bar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
            bar.set_label("predicted probability of label 1")
    else:
        # Argmax class colour, blended towards white where the top probability is low.
        top = boundary.proba.argmax(2)  # (S, S)
        rgb = np.array([to_rgb(c) for c in colours])[top]  # (S, S, 3)
        sure = ((boundary.proba.max(2) - 1 / k) / (1 - 1 / k))[..., None]  # 0 at chance, 1 sure
        shade = 1 - (0.25 + 0.45 * sure) * (1 - rgb)
        ax.imshow(shade, origin="lower", extent=(x0, x1, y0, y1), aspect="auto")
        ax.contour(gx, gy, top, levels=np.arange(k) + 0.5, colors="black", linewidths=0.8)

    for part in boundary.parts:
        for label, colour in enumerate(colours):
            mine = part.X[part.y == label]  # (n_label, 2)
            if part.name == "train":
                ax.scatter(
                    mine[:, 0],
                    mine[:, 1],
                    s=point_size,
                    c=colour,
                    edgecolors="white",
                    linewidths=0.6,
                    zorder=3,
                )
            else:
                ax.scatter(
                    mine[:, 0],
                    mine[:, 1],
                    s=point_size * 1.4,
                    marker="s",
                    facecolors="none",
                    edgecolors=colour,
                    linewidths=1.6,
                    zorder=3,
                )
        ring = point_size * 5
        wrong = part.X[part.wrong]
        ax.scatter(
            wrong[:, 0],
            wrong[:, 1],
            s=ring,
            facecolors="none",
            edgecolors=RING,
            linewidths=1.8,
            zorder=4,
        )

    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("\n".join(filter(None, [title, boundary.accuracies()])), fontsize=10)
    if legend:
        ax.legend(
            handles=legend_handles(boundary),
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            # below the x label: 0.45 inch under the axes, whatever the figure's size
            bbox_transform=ax.transAxes + ScaledTranslation(0, -0.45, ax.figure.dpi_scale_trans),
            ncol=3,
            fontsize="small",
            frameon=False,
        )


def legend_handles(boundary: Boundary) -> list[Line2D]:
    """The legend's entries: what is drawn, and nothing that is not."""

    def marker(**kw) -> Line2D:
        return Line2D([], [], linestyle="none", **kw)

    colours = class_colours(boundary.n_classes)
    names = {part.name for part in boundary.parts}
    handles = []
    if "train" in names:
        handles += [
            marker(marker="o", color=c, markeredgecolor="white", label=f"train, class {i}")
            for i, c in enumerate(colours)
        ]
    if "validation" in names:
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
    if boundary.misclassified:
        handles.append(
            marker(
                marker="o",
                markersize=11,
                markerfacecolor="none",
                markeredgecolor=RING,
                markeredgewidth=1.8,
                label=f"misclassified ({boundary.misclassified})",
            )
        )
    label = "p = 0.5 boundary" if boundary.n_classes == 2 else "class boundary"
    handles.append(Line2D([], [], color="black", linewidth=1.2, label=label))
    return handles


def _extent(points: np.ndarray) -> tuple[float, float, float, float]:
    """Plot limits: the unit square for the book's data, else the points plus a 5% margin."""
    low, high = points.min(0), points.max(0)
    if low.min() >= 0 and high.max() <= 1:
        return (-0.02, 1.02, -0.02, 1.02)
    margin = np.maximum((high - low) * 0.05, 1e-3)
    low, high = low - margin, high + margin
    return (float(low[0]), float(high[0]), float(low[1]), float(high[1]))
