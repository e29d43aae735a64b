"""Pictures of a sweep: validation loss against each hyperparameter, the points tried in the most
important dimensions, and the learning curves of the best trials.

Each `draw_*(ax, rows, ...)` draws the store's rows onto one Axes; each `plot_*` writes one PNG.
What to draw (ranking, importance) is computed in `pointlab.search.report`.
Not here: running or ranking trials (`pointlab.search`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from pointlab.plots.palette import LINE_COLOURS
from pointlab.plots.save import fit_title, new_figure, save_figure
from pointlab.search.space import Param
from pointlab.search.store import TrialRow

DPI = 110


def plot_loss_vs_params(
    rows: Sequence[TrialRow], params: Sequence[Param], path: str | os.PathLike[str], title: str
) -> Path:
    """One panel per hyperparameter: each trial's validation loss against its value."""
    n = len(params)
    cols = min(n, 3)
    figure = new_figure(4.2 * cols, 3.4 * math.ceil(n / cols), dpi=DPI)
    for i, param in enumerate(params):
        draw_loss_vs_param(
            figure.add_subplot(math.ceil(n / cols), cols, i + 1), rows, param, i == 0
        )
    figure.suptitle(fit_title(title, 4.2 * cols))
    return save_figure(figure, path)


def plot_points_tried(
    rows: Sequence[TrialRow], dims: Sequence[Param], path: str | os.PathLike[str], title: str
) -> Path:
    """The trials in the plane of the two most important hyperparameters, coloured by loss; with
    one searched dimension, validation loss against it."""
    figure = new_figure(6, 5, dpi=DPI)
    draw_points_tried(figure.add_subplot(), rows, dims)
    figure.suptitle(fit_title(title, 6))
    return save_figure(figure, path)


def plot_best_curves(
    rows: Sequence[TrialRow], path: str | os.PathLike[str], title: str, n_best: int = 5
) -> Path:
    """Training (dashed) and validation (solid) loss per epoch of the n best trials."""
    figure = new_figure(7, 4.5, dpi=DPI)
    draw_best_curves(figure.add_subplot(), rows, n_best)
    figure.suptitle(fit_title(title, 7))
    return save_figure(figure, path)


def draw_loss_vs_param(
    ax: Axes, rows: Sequence[TrialRow], param: Param, legend: bool = True
) -> None:
    """Each trial's validation loss against its value of `param`; the best ringed in red."""
    done, pruned = _completed(rows), _pruned(rows)
    styles: tuple[tuple[list[TrialRow], dict[str, Any]], ...] = (
        (pruned, dict(c="0.6", marker="x", label="pruned (loss when stopped)")),
        (done, dict(c="tab:blue", marker="o", label="completed")),
    )
    for group, style in styles:
        if group:
            x, labels = _axis_values(param, group)
            jitter = 0.08 * (np.arange(len(x)) % 5 - 2) if labels is not None else 0
            ax.scatter(x + jitter, [_value(r) for r in group], s=18, alpha=0.8, **style)
    if done:
        best = min(done, key=_value)
        x, _ = _axis_values(param, [best])
        ax.scatter(x, [_value(best)], s=120, facecolors="none", edgecolors="red", label="best")
    _, labels = _axis_values(param, done or pruned)
    _set_axis(ax, param, labels)
    ax.set_yscale("log")
    ax.set_ylabel("validation loss (log scale)")
    ax.grid(alpha=0.3)
    if legend and (done or pruned):
        ax.legend(fontsize=7)


def draw_points_tried(ax: Axes, rows: Sequence[TrialRow], dims: Sequence[Param]) -> None:
    """Two dimensions: the trials in their plane, coloured by validation loss, the best starred.
    One dimension: validation loss against it (a y-axis of zeros would mean nothing)."""
    done = [
        r
        for r in rows
        if r.state in ("complete", "pruned") and r.value is not None and math.isfinite(r.value)
    ]
    values = np.array([r.value for r in done], dtype=float)
    px = dims[0]
    x, xlabels = _axis_values(px, done)
    if len(dims) > 1:
        y, ylabels = _axis_values(dims[1], done)
        art = ax.scatter(
            x, y, c=np.log10(values), cmap="viridis", s=40, edgecolors="k", linewidths=0.4
        )
        ax.figure.colorbar(art, ax=ax, label="log10 validation loss (darker is better)")
        _set_axis(ax, dims[1], ylabels, "y")
    else:
        y = values
        ax.scatter(x, y, s=30, color="tab:blue", edgecolors="k", linewidths=0.4, label="trial")
        ax.set_yscale("log")
        ax.set_ylabel("validation loss (log scale)")
    if len(done):
        b = int(np.argmin(values))
        ax.scatter([x[b]], [y[b]], s=220, marker="*", c="red", label="best", zorder=3)
        ax.legend(fontsize=8)
    _set_axis(ax, px, xlabels, "x")
    ax.grid(alpha=0.3)


def draw_best_curves(ax: Axes, rows: Sequence[TrialRow], n_best: int = 5) -> None:
    """Validation (solid) and training (dashed) loss of the first `n_best` rows (best first)."""
    for i, row in enumerate(rows[:n_best]):
        h, colour = row.history, LINE_COLOURS[i % len(LINE_COLOURS)]
        assert h is not None and row.result is not None, "the rows drawn are finished trials"
        label = f"#{row.slot}: " + ", ".join(f"{k}={_short(v)}" for k, v in row.params.items())
        ax.plot(h["epoch"], h["val_loss"], c=colour, lw=1.6, label=label)
        ax.plot(h["epoch"], h["train_loss"], c=colour, lw=1, ls="--", alpha=0.7)
        ax.axvline(row.result["best_epoch"], c=colour, lw=0.6, ls=":", alpha=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (log scale): validation solid, training dashed")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=7, loc="best")


def _completed(rows: Sequence[TrialRow]) -> list[TrialRow]:
    return [
        r for r in rows if r.state == "complete" and r.value is not None and math.isfinite(r.value)
    ]


def _pruned(rows: Sequence[TrialRow]) -> list[TrialRow]:
    return [r for r in rows if r.state == "pruned" and r.value is not None]


def _axis_values(param: Param, rows: Sequence[TrialRow]) -> tuple[np.ndarray, list | None]:
    """x positions of the rows' values, and tick labels when the values are categories."""
    values = [r.params.get(param.name) for r in rows]
    if param.kind == "choice" and not param.is_numeric or param.name == "layers":
        labels = [str(c) for c in param.choices]
        return np.array([labels.index(str(v)) for v in values], dtype=float), labels
    return np.array([np.nan if v is None else v for v in values], dtype=float), None


def _set_axis(ax: Axes, param: Param, labels: list | None, which: str = "x") -> None:
    if labels is not None:
        getattr(ax, f"set_{which}ticks")(range(len(labels)), labels)
        getattr(ax, f"set_{which}lim")(-0.5, len(labels) - 0.5)
    elif param.log:
        getattr(ax, f"set_{which}scale")("log")
    if param.kind == "choice" and labels is None:  # numbers to choose from: a tick at each
        getattr(ax, f"set_{which}ticks")(sorted(c for c in param.choices if c is not None))
    elif param.kind == "int" and not param.log:  # depth 1, 2, 3: no ticks at 2.25
        getattr(ax, f"{which}axis").set_major_locator(MaxNLocator(integer=True))
    getattr(ax, f"set_{which}label")(param.name + (" (log scale)" if param.log else ""))


def _short(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _value(row: TrialRow) -> float:
    """A drawn trial's validation loss (a finished or pruned trial has one)."""
    return math.nan if row.value is None else row.value
