"""Axes-level drawing of linear regions and of small line charts for the experiments `depth`,
`landscape`, `batch-noise` and `lottery`.

Each `draw_*` takes an Axes and numbers computed elsewhere; nothing here trains or measures.
Not here: counting regions (`experiments/regions.py`), saving (`plots/save.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.ticker import MaxNLocator


def draw_regions(
    ax: Axes, ids: np.ndarray, extent: tuple[float, float, float, float], title: str
) -> None:
    """Each region (pattern id on a (cells, cells) grid) in its own pale colour, edges dark."""
    n = int(ids.max()) + 1
    rng = np.random.default_rng(0)  # fixed colours: the same picture run after run
    colours = ListedColormap(0.45 + 0.55 * rng.random((n, 3)))
    ax.imshow(
        ids,
        origin="lower",
        extent=extent,
        cmap=colours,
        vmin=0,
        vmax=n - 1,
        aspect="equal",
        interpolation="nearest",
    )
    edge = np.zeros(ids.shape, dtype=bool)  # (cells, cells): a cell whose neighbour differs
    edge[:, 1:] |= ids[:, 1:] != ids[:, :-1]
    edge[1:, :] |= ids[1:, :] != ids[:-1, :]
    ax.imshow(
        np.ma.masked_where(~edge, edge),
        origin="lower",
        extent=extent,
        cmap="Greys",
        vmin=0,
        vmax=1,
        aspect="equal",
        interpolation="nearest",
    )
    ax.set(title=title, xlabel="x", ylabel="y")
    # at most 5 ticks a side: matplotlib's default packs "-0.50-0.25" together on a narrow panel
    ax.xaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))
    ax.yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))


def draw_lines(
    ax: Axes,
    x: Sequence[float],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logx: bool | int = False,
    logy: bool = False,
    bands: dict[str, tuple[Sequence[float], Sequence[float]]] | None = None,
    styles: dict[str, str] | None = None,
) -> None:
    """One line per series over a shared x, optional shaded (low, high) band per series."""
    for label, values in series.items():
        style = (styles or {}).get(label, "o-")
        (line,) = ax.plot(x, values, style, label=label, ms=4, lw=1.6)
        if bands and label in bands:
            low, high = bands[label]
            ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2)
    if logx:  # True: powers of 2 (widths, depths); or the base to use, e.g. 10 for rates
        ax.set_xscale("log", base=2 if logx is True else logx)
    if logy:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
