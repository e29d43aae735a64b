"""Pictures of a sweep: validation loss against each hyperparameter, the points tried in the two
most important dimensions, and the learning curves of the best trials.

Each function takes the store's rows (and the space) and writes one PNG through the Agg canvas.
What to draw (ranking, importance) is computed in `pointlab.search.report`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from pointlab.data import write_atomic
from pointlab.search.space import Param
from pointlab.search.store import TrialRow


def _save(fig: Figure, path: str | os.PathLike[str]) -> Path:
    return write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=110))


def _axis_values(param: Param, rows: Sequence[TrialRow]) -> tuple[np.ndarray, list | None]:
    """x positions of the rows' values, and tick labels when the values are categories."""
    values = [r.params.get(param.name) for r in rows]
    if param.kind == "choice" and not param.is_numeric or param.name == "layers":
        labels = [str(c) for c in param.choices]
        return np.array([labels.index(str(v)) for v in values], dtype=float), labels
    return np.array([np.nan if v is None else v for v in values], dtype=float), None


def _set_axis(ax, param: Param, labels: list | None, which: str = "x") -> None:
    if labels is not None:
        getattr(ax, f"set_{which}ticks")(range(len(labels)), labels)
        getattr(ax, f"set_{which}lim")(-0.5, len(labels) - 0.5)
    elif param.log:
        getattr(ax, f"set_{which}scale")("log")
    if param.kind == "int" and not param.log:  # depth 1, 2, 3: no ticks at 2.25
        getattr(ax, f"{which}axis").set_major_locator(MaxNLocator(integer=True))
    getattr(ax, f"set_{which}label")(param.name + (" (log scale)" if param.log else ""))


def plot_loss_vs_params(
    rows: Sequence[TrialRow], params: Sequence[Param], path: str | os.PathLike[str], title: str
) -> Path:
    """One panel per hyperparameter: each trial's validation loss against its value."""
    done = [
        r for r in rows if r.state == "complete" and r.value is not None and math.isfinite(r.value)
    ]
    pruned = [r for r in rows if r.state == "pruned" and r.value is not None]
    n = len(params)
    cols = min(n, 3)
    fig = Figure(figsize=(4.2 * cols, 3.4 * math.ceil(n / cols)), layout="constrained")
    best = min(done, key=lambda r: r.value) if done else None
    for i, param in enumerate(params):
        ax = fig.add_subplot(math.ceil(n / cols), cols, i + 1)
        styles = (
            (pruned, dict(c="0.6", marker="x", label="pruned (loss when stopped)")),
            (done, dict(c="tab:blue", marker="o", label="completed")),
        )
        for group, style in styles:
            if group:
                x, labels = _axis_values(param, group)
                jitter = 0.08 * (np.arange(len(x)) % 5 - 2) if labels is not None else 0
                ax.scatter(x + jitter, [r.value for r in group], s=18, alpha=0.8, **style)
        if best is not None:
            x, _ = _axis_values(param, [best])
            ax.scatter(x, [best.value], s=120, facecolors="none", edgecolors="red", label="best")
        _, labels = _axis_values(param, done or pruned)
        _set_axis(ax, param, labels)
        ax.set_yscale("log")
        ax.set_ylabel("validation loss (log scale)")
        ax.grid(alpha=0.3)
        if i == 0:
            ax.legend(fontsize=7)
    fig.suptitle(title)
    return _save(fig, path)


def plot_points_tried(
    rows: Sequence[TrialRow], dims: Sequence[Param], path: str | os.PathLike[str], title: str
) -> Path:
    """The trials in the plane of the two most important hyperparameters, coloured by loss."""
    done = [
        r
        for r in rows
        if r.state in ("complete", "pruned") and r.value is not None and math.isfinite(r.value)
    ]
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.add_subplot()
    px, py = dims[0], dims[1] if len(dims) > 1 else None
    x, xlabels = _axis_values(px, done)
    if py is not None:
        y, ylabels = _axis_values(py, done)
    else:
        y, ylabels = np.zeros(len(done)), None
    values = np.array([r.value for r in done])
    art = ax.scatter(x, y, c=np.log10(values), cmap="viridis", s=40, edgecolors="k", linewidths=0.4)
    fig.colorbar(art, ax=ax, label="log10 validation loss (darker is better)")
    if len(done):
        b = int(np.argmin(values))
        ax.scatter([x[b]], [y[b]], s=220, marker="*", c="red", label="best")
        ax.legend(fontsize=8)
    _set_axis(ax, px, xlabels, "x")
    if py is not None:
        _set_axis(ax, py, ylabels, "y")
    else:
        ax.set_yticks([])
    ax.grid(alpha=0.3)
    ax.set_title(title)
    return _save(fig, path)


def plot_best_curves(
    rows: Sequence[TrialRow], path: str | os.PathLike[str], title: str, n_best: int = 5
) -> Path:
    """Training (dashed) and validation (solid) loss per epoch of the n best trials."""
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    colours = ["tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:brown"]
    for i, row in enumerate(rows[:n_best]):
        h, colour = row.history, colours[i % len(colours)]
        label = f"#{row.slot}: " + ", ".join(f"{k}={_short(v)}" for k, v in row.params.items())
        ax.plot(h["epoch"], h["val_loss"], c=colour, lw=1.6, label=label)
        ax.plot(h["epoch"], h["train_loss"], c=colour, lw=1, ls="--", alpha=0.7)
        best_epoch = row.result["best_epoch"]
        ax.axvline(best_epoch, c=colour, lw=0.6, ls=":", alpha=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (log scale): validation solid, training dashed")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    ax.set_title(title)
    return _save(fig, path)


def _short(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
