"""Training curves: loss (log scale) and accuracy against epochs, train and validation.

Takes a history as the engine and `runs.read_metrics` give it: a dict of equal-length lists
`epoch`, `train_loss`, `train_acc`, `val_loss`, `val_acc` (NaN where there is no validation).
Not here: computing the history (`pointlab.engine`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from pointlab.data import write_atomic

_TINY = 1e-12  # a loss of exactly 0 cannot sit on a log axis: floor it here


def plot_history(
    history: dict[str, list[float]], path: str | os.PathLike[str], title: str = ""
) -> Path:
    """Two panels, loss and accuracy, into a PNG at `path`; return the path."""
    epoch = np.asarray(history["epoch"], dtype=float)
    figure = Figure(figsize=(10, 4.2), dpi=100, layout="constrained")
    loss_axes, acc_axes = figure.subplots(1, 2)
    style = {"marker": "o", "markersize": 3} if len(epoch) < 30 else {}
    for split, colour in (("train", "tab:blue"), ("val", "tab:orange")):
        name = "train" if split == "train" else "validation"
        loss = np.asarray(history[f"{split}_loss"], dtype=float)
        acc = np.asarray(history[f"{split}_acc"], dtype=float)
        if not np.isfinite(loss).any():
            continue  # no validation in this run
        loss_axes.plot(epoch, np.maximum(loss, _TINY), color=colour, label=name, **style)
        acc_axes.plot(epoch, 100 * acc, color=colour, label=name, **style)
        best = int(np.nanargmin(loss))
        loss_axes.scatter([epoch[best]], [max(loss[best], _TINY)], color=colour, s=25, zorder=3)
    loss_axes.set_yscale("log")
    loss_axes.set_ylabel("loss (cross-entropy, log scale)")
    loss_axes.set_title("loss (dot: lowest)")
    acc_axes.set_ylabel("accuracy (%)")
    acc_axes.set_ylim(min(45.0, acc_axes.get_ylim()[0]), 101)
    acc_axes.set_title("accuracy")
    for axes in (loss_axes, acc_axes):
        axes.set_xlabel("epoch")
        axes.grid(True, which="both", alpha=0.3)
        if axes.lines:
            axes.legend(fontsize="small")
    if title:
        figure.suptitle(title, fontsize=11)
    return write_atomic(Path(path), lambda file: figure.savefig(file, format="png"))
