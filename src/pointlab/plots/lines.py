"""Line panels: titled, labelled line charts, the pictures most experiments draw.

A `Panel` is the numbers of one chart (its `Series`, axis labels, scales, marker lines);
`draw_panel(ax, panel)` draws it onto an Axes; `plot_panels` writes a row of panels under one
title as one picture. The experiments compute the numbers; this module only draws them.
Not here: decision boundaries (`boundary`), a run's training history (`curves`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes

from pointlab.plots.save import fit_title, new_figure, save_figure

Numbers = Sequence[float] | np.ndarray


@dataclass(frozen=True)
class Series:
    """One line: y against x, with an optional band (low, high) shaded around it."""

    label: str
    x: Numbers
    y: Numbers
    style: str = "-"  # a matplotlib format string, e.g. "o-", "--"
    color: str | None = None
    band: tuple[Numbers, Numbers] | None = None


@dataclass(frozen=True)
class Panel:
    """One chart: its series and how its axes read."""

    title: str
    xlabel: str
    ylabel: str
    series: list[Series] = field(default_factory=list)
    logx: bool = False  # base 2: the experiments' sizes double
    logy: bool = False
    vlines: list[tuple[float, str]] = field(default_factory=list)  # (x, label) marker lines
    ylim: tuple[float, float] | None = None


def draw_panel(ax: Axes, panel: Panel) -> None:
    """Draw `panel`'s series, marker lines, scales, labels and legend onto `ax`."""
    for s in panel.series:
        (line,) = ax.plot(s.x, s.y, s.style, label=s.label, color=s.color, ms=4, lw=1.6)
        if s.band is not None:
            ax.fill_between(s.x, s.band[0], s.band[1], color=line.get_color(), alpha=0.2)
    for x, label in panel.vlines:
        ax.axvline(x, color="grey", ls=":", lw=1.2, label=label)
    # A log axis needs a positive number to show: a panel whose numbers all turned NaN (a failed
    # run) keeps linear axes instead of matplotlib's "Data cannot be log-scaled" error.
    if panel.logx and _positive(s.x for s in panel.series):
        ax.set_xscale("log", base=2)
    if panel.logy and _positive(s.y for s in panel.series):
        ax.set_yscale("log")
    if panel.ylim is not None:
        ax.set_ylim(*panel.ylim)
    ax.set_title(panel.title, fontsize=11)
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    ax.grid(alpha=0.3)
    if any(s.label for s in panel.series) or panel.vlines:
        ax.legend(fontsize=8)


def plot_panels(
    path: str | os.PathLike[str], title: str, panels: Sequence[Panel], width: float = 5.2
) -> Path:
    """Write the panels side by side into `path` (PNG) under a common title; return the path."""
    figure = new_figure(width * len(panels), 4.2, dpi=90)
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=True):
        draw_panel(ax, panel)
    figure.suptitle(fit_title(title, width * len(panels)), fontsize=12)
    return save_figure(figure, path)


def _positive(arrays) -> bool:
    """Whether any of the arrays holds a finite number above zero."""
    return any(bool(np.any(np.isfinite(a) & (np.asarray(a, dtype=float) > 0))) for a in arrays)
