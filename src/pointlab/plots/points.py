"""The picture of a data set: its points coloured by class, like the book's `dump_points.py`.

Class 0 is red and class 1 blue, as in the book; further classes take the other tab10 colours.
Not here: decision boundaries and training curves (other modules of `pointlab.plots`).
"""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from pointlab.data import Dataset, write_atomic
from pointlab.errors import UserError

_BOOK_COLOURS = ["red", "blue"]
# tab10 without its blue and red, which would be confused with classes 1 and 0.
_MORE_COLOURS = [
    "tab:orange",
    "tab:green",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:gray",
    "tab:olive",
    "tab:cyan",
]
_NON_INTERACTIVE = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}


def class_colours(n_classes: int) -> list[str]:
    """One colour per class, as hex strings; past ten classes they cycle through a colour wheel."""
    named = _BOOK_COLOURS + _MORE_COLOURS
    if n_classes <= len(named):
        return [to_hex(colour) for colour in named[:n_classes]]
    from matplotlib import colormaps

    wheel = colormaps["hsv"]
    return [to_hex(wheel(i / n_classes)) for i in range(n_classes)]


def plot_points(dataset: Dataset, path: str | os.PathLike[str], title: str | None = None) -> Path:
    """Draw `dataset` into an image file (PNG unless `path` ends in another format matplotlib
    writes, such as .svg or .pdf) and return its path. Written to a temporary file first, so a
    failed write leaves any file already at `path` as it was."""
    path = Path(path)
    figure = Figure(figsize=(7.2, 6), dpi=100)
    draw_points(figure, dataset, title)
    kind = path.suffix.lower().lstrip(".") or "png"
    supported = figure.canvas.get_supported_filetypes()
    if kind not in supported:
        raise UserError(
            f"{path}: cannot write .{kind} pictures; use one of .{', .'.join(supported)}"
        )
    return write_atomic(path, lambda file: figure.savefig(file, format=kind))


def show_points(dataset: Dataset, title: str | None = None) -> None:
    """Open a window with the picture and wait until it is closed. Needs a display."""
    import matplotlib.pyplot as plt

    backend = plt.get_backend().lower()
    if backend in _NON_INTERACTIVE:
        raise UserError(f"cannot open a window: matplotlib's backend is {backend!r} (no display?)")
    figure = plt.figure(figsize=(7.2, 6), dpi=100)
    draw_points(figure, dataset, title)
    plt.show()


def draw_points(figure: Figure, dataset: Dataset, title: str | None = None) -> None:
    """Scatter the points on a new axes of `figure`, one colour per class, with a legend."""
    axes = figure.add_subplot()
    counts = dataset.class_counts()  # (K,)
    for label, colour in enumerate(class_colours(dataset.n_classes)):
        points = dataset.X[dataset.y == label]  # (n_label, 2)
        axes.scatter(points[:, 0], points[:, 1], s=16, c=colour, label=f"{label} ({counts[label]})")
    if title is None:
        spread = ", ".join(f"{label}: {count}" for label, count in enumerate(counts))
        title = f"{dataset.name}: {len(dataset)} points ({spread})"
    axes.set_title(title)
    axes.set_xlabel("x")
    axes.set_ylabel("y")
    axes.set_aspect("equal")
    if len(dataset) and 0 <= dataset.X.min() and dataset.X.max() <= 1:
        # The book's sets fill the unit square: show all of it, with a small margin.
        axes.set_xlim(-0.02, 1.02)
        axes.set_ylim(-0.02, 1.02)
    axes.grid(True, alpha=0.3)
    # Outside the axes, so it never hides points.
    axes.legend(
        title="class (points)", loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small"
    )
    figure.tight_layout()
