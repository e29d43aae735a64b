"""Precision-recall curves: for two classes, class 1's precision against its recall as the
threshold on its probability falls, one curve per set of points or per model, each labelled with
its average precision; a dashed line at the share of class 1, the precision of guessing.

Compute, then draw: the curves come from `pointlab.metrics.precision_recall`.
`draw_precision_recall(ax, curves)` draws onto an Axes; `plot_precision_recall` writes a run's
`precision_recall.png`.
Not here: computing the curves (`pointlab.metrics`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes

from pointlab.metrics import PrecisionRecall
from pointlab.plots.palette import LINE_COLOURS
from pointlab.plots.save import fit_title, new_figure, save_figure

SIZE = (6.0, 5.2)  # inches


def plot_precision_recall(
    curves: Mapping[str, PrecisionRecall], path: str | os.PathLike[str], title: str = ""
) -> Path:
    """One panel of `curves` (name -> curve) into a PNG at `path`; return the path."""
    figure = new_figure(*SIZE)
    ax = figure.subplots()
    draw_precision_recall(ax, curves)
    if title:
        figure.suptitle(fit_title(title, SIZE[0], 11), fontsize=11)
    return save_figure(figure, path)


def draw_precision_recall(
    ax: Axes, curves: Mapping[str, PrecisionRecall], colours: Mapping[str, str] | None = None
) -> None:
    """Each curve as steps from recall 0 (precision as scikit-learn's step rule reads it), its
    average precision in the legend, and each set's share of class 1 as a dashed floor."""
    colours = colours or {}
    for i, (name, curve) in enumerate(curves.items()):
        colour = colours.get(name, LINE_COLOURS[i % len(LINE_COLOURS)])
        if not np.isfinite(curve.average_precision):
            continue  # no point of class 1 here: no curve
        recall = np.r_[0.0, curve.recall]
        precision = np.r_[curve.precision[:1], curve.precision]
        label = f"{name} (AP {curve.average_precision:.3f})"
        ax.step(recall, precision, where="pre", color=colour, label=label)
        ax.axhline(curve.positive_share, color=colour, linestyle="--", linewidth=0.8, alpha=0.7)
    ax.set_xlim(0, 1.01)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall of class 1")
    ax.set_ylabel("precision of class 1")
    ax.set_title("precision-recall (dashed: share of class 1)", fontsize=10)
    ax.grid(True, alpha=0.3)
    if ax.lines:
        ax.legend(fontsize="small", loc="lower left")
