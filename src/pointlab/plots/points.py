"""The picture of a data set: its points coloured by class, like the book's `dump_points.py`.

`draw_points(ax, dataset)` draws onto an Axes; `plot_points` writes a file, `show_points` opens a
window. Colours come from `palette.class_colours` (class 0 red, class 1 blue, as in the book).
Not here: decision boundaries and training curves (other modules of `pointlab.plots`).
"""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.axes import Axes

from pointlab.data import Dataset
from pointlab.errors import UserError
from pointlab.plots.palette import class_colours
from pointlab.plots.save import new_figure, save_figure

_NON_INTERACTIVE = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}
SIZE = (7.2, 6.0)  # inches: the square plot and the legend beside it


def plot_points(dataset: Dataset, path: str | os.PathLike[str], title: str | None = None) -> Path:
    """Draw `dataset` into an image file (PNG unless `path` ends in another format matplotlib
    writes, such as .svg or .pdf) and return its path. Written to a temporary file first, so a
    failed write leaves any file already at `path` as it was."""
    figure = new_figure(*SIZE)
    draw_points(figure.add_subplot(), dataset, title)
    return save_figure(figure, path)


def show_points(dataset: Dataset, title: str | None = None) -> None:
    """Open a window with the picture and wait until it is closed. Needs a display."""
    import matplotlib.pyplot as plt

    backend = plt.get_backend().lower()
    if backend in _NON_INTERACTIVE:
        raise UserError(f"cannot open a window: matplotlib's backend is {backend!r} (no display?)")
    figure = plt.figure(figsize=SIZE, dpi=100, layout="constrained")
    draw_points(figure.add_subplot(), dataset, title)
    plt.show()


def draw_points(ax: Axes, dataset: Dataset, title: str | None = None) -> None:
    """Scatter the points on `ax`, one colour per class, with a legend beside the axes."""
    counts = dataset.class_counts()  # (K,)
    for label, colour in enumerate(class_colours(dataset.n_classes)):
        points = dataset.X[dataset.y == label]  # (n_label, 2)
        ax.scatter(points[:, 0], points[:, 1], s=16, c=colour, label=f"{label} ({counts[label]})")
    if title is None:
        spread = ", ".join(f"{label}: {count}" for label, count in enumerate(counts))
        title = f"{dataset.name}: {len(dataset)} points ({spread})"
    ax.set_title(title)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_aspect("equal")
    if len(dataset) and 0 <= dataset.X.min() and dataset.X.max() <= 1:
        # The book's sets fill the unit square: show all of it, with a small margin.
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
    ax.grid(True, alpha=0.3)
    # Outside the axes, so it never hides points.
    ax.legend(
        title="class (points)", loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small"
    )
