"""Line-plot figures for the experiments schedules, batch-lr, double-descent and universal.

One helper, `panels`: a row of titled, labelled line charts written as one PNG. It builds a
`matplotlib.figure.Figure` and draws it with the Agg canvas (never pyplot), so it runs headless.
The experiments compute the numbers; this module only draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


@dataclass
class Series:
    label: str
    x: np.ndarray | list
    y: np.ndarray | list
    style: str = "-"  # a matplotlib format string, e.g. "o-", "--"
    color: str | None = None
    band: tuple | None = None  # (low, high) arrays shaded around the line


@dataclass
class Panel:
    title: str
    xlabel: str
    ylabel: str
    series: list[Series] = field(default_factory=list)
    logx: bool = False
    logy: bool = False
    vlines: list[tuple[float, str]] = field(default_factory=list)  # (x, label) marker lines
    ylim: tuple[float, float] | None = None


def panels(path: Path, title: str, items: list[Panel], width: float = 5.2) -> Path:
    """Write the panels side by side into `path` (PNG) under a common title."""
    fig = Figure(figsize=(width * len(items), 4.2), dpi=90, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(items), squeeze=False)[0]
    for ax, item in zip(axes, items, strict=True):
        for s in item.series:
            (line,) = ax.plot(s.x, s.y, s.style, label=s.label, color=s.color, ms=4, lw=1.6)
            if s.band is not None:
                ax.fill_between(s.x, s.band[0], s.band[1], color=line.get_color(), alpha=0.2)
        for x, label in item.vlines:
            ax.axvline(x, color="grey", ls=":", lw=1.2, label=label)
        if item.logx:
            ax.set_xscale("log", base=2)
        if item.logy:
            ax.set_yscale("log")
        if item.ylim is not None:
            ax.set_ylim(*item.ylim)
        ax.set_title(item.title, fontsize=11)
        ax.set_xlabel(item.xlabel)
        ax.set_ylabel(item.ylabel)
        ax.grid(alpha=0.3)
        if any(s.label for s in item.series) or item.vlines:
            ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=12)
    fig.savefig(path)
    return path
