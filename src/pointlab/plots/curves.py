"""Training curves: loss (log scale) and accuracy against epochs, train and validation.

Takes a history as the engine and `runs.read_metrics` give it: a dict of equal-length lists
`epoch`, `train_loss`, `train_acc`, `val_loss`, `val_acc` (NaN where there is no validation).
`draw_loss(ax, history)` and `draw_accuracy(ax, history)` draw onto an Axes each; `plot_history`
writes both side by side as a run's `loss.png`.
Not here: computing the history (`pointlab.engine`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes

from pointlab.plots.save import new_figure, save_figure

_TINY = 1e-12  # a loss of exactly 0 cannot sit on a log axis: floor it here
_SPLITS = (("train", "train", "tab:blue"), ("val", "validation", "tab:orange"))
History = dict[str, list[float]]


def plot_history(history: History, path: str | os.PathLike[str], title: str = "") -> Path:
    """Two panels, loss and accuracy, into a PNG at `path`; return the path."""
    figure = new_figure(10, 4.2)
    loss_axes, acc_axes = figure.subplots(1, 2)
    draw_loss(loss_axes, history)
    draw_accuracy(acc_axes, history)
    if title:
        figure.suptitle(title, fontsize=11)
    return save_figure(figure, path)


def draw_loss(ax: Axes, history: History) -> None:
    """Train and validation loss per epoch on a log axis; a dot marks each one's lowest."""
    epoch = np.asarray(history["epoch"], dtype=float)
    style = _style(epoch)
    for split, name, colour in _SPLITS:
        loss = np.asarray(history[f"{split}_loss"], dtype=float)
        if not np.isfinite(loss).any():
            continue  # no validation in this run
        ax.plot(epoch, np.maximum(loss, _TINY), color=colour, label=name, **style)
        best = int(np.nanargmin(loss))
        ax.scatter([epoch[best]], [max(loss[best], _TINY)], color=colour, s=25, zorder=3)
    ax.set_yscale("log")
    ax.set_ylabel("loss (cross-entropy, log scale)")
    ax.set_title("loss (dot: lowest)")
    _finish(ax)


def draw_accuracy(ax: Axes, history: History) -> None:
    """Train and validation accuracy per epoch, in percent."""
    epoch = np.asarray(history["epoch"], dtype=float)
    style = _style(epoch)
    for split, name, colour in _SPLITS:
        acc = np.asarray(history[f"{split}_acc"], dtype=float)
        if not np.isfinite(acc).any():
            continue
        ax.plot(epoch, 100 * acc, color=colour, label=name, **style)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(min(45.0, ax.get_ylim()[0]), 101)
    ax.set_title("accuracy")
    _finish(ax)


def _style(epoch: np.ndarray) -> dict:
    return {"marker": "o", "markersize": 3} if len(epoch) < 30 else {}


def _finish(ax: Axes) -> None:
    ax.set_xlabel("epoch")
    ax.grid(True, which="both", alpha=0.3)
    if ax.lines:
        ax.legend(fontsize="small")
