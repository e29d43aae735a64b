"""Axes-level drawing for the experiment `landscape`: a loss surface slice and Hessian spectra.

Not here: computing them (`experiments/landscape.py`, `experiments/hessian.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes


def draw_surface(ax: Axes, alphas: np.ndarray, loss: np.ndarray, title: str) -> None:
    """Filled contours of log10 loss (G, G) over the coefficients (alphas, alphas) of two
    directions, the solution marked at the centre."""
    log_loss = np.log10(np.maximum(loss, 1e-8))
    filled = ax.contourf(alphas, alphas, log_loss, levels=25, cmap="viridis")
    ax.contour(alphas, alphas, log_loss, levels=8, colors="white", linewidths=0.5)
    ax.plot([0], [0], "r*", ms=12, label="the solution")
    ax.figure.colorbar(filled, ax=ax, label="log10 training loss")
    ax.set(title=title, xlabel="direction 1", ylabel="direction 2", aspect="equal")
    ax.legend(fontsize=8, loc="upper right")


def draw_spectra(
    ax: Axes, epochs: Sequence[int], eigenvalues: np.ndarray, negative_mass: Sequence[float]
) -> None:
    """Every eigenvalue (snapshots, P) as a dot at its snapshot, symmetric-log scale; the negative
    share of the spectrum's mass written beside each snapshot."""
    positions = np.arange(len(epochs))
    for i, values in enumerate(eigenvalues):
        colours = np.where(values < 0, "tab:red", "tab:blue")
        ax.scatter(
            np.full(len(values), i) + np.random.default_rng(i).uniform(-0.2, 0.2, len(values)),
            values,
            s=4,
            c=colours,
            alpha=0.5,
            linewidths=0,
        )
        ax.annotate(
            f"{negative_mass[i]:.1%}",
            (i, eigenvalues.min()),
            ha="center",
            fontsize=8,
            color="tab:red",
            xytext=(0, -12),
            textcoords="offset points",
        )
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(positions, [str(e) for e in epochs])
    ax.set(
        title="Hessian eigenvalues over training\n(red: negative; % of |eigenvalue| mass negative)",
        xlabel="epoch",
        ylabel="eigenvalue (symlog)",
    )
    ax.grid(alpha=0.3)
