"""The figure of experiment `normalization`: training loss against the learning rate per norm,
with the range that trains marked, and the loss's variation and the gradient's change along the
gradient over training.

Takes what `normalization.run` measured; nothing here trains.

Not here: the measurements and claims (`experiments/normalization.py`), the drawing primitives
(`plots/regions.py`, `plots/save.py`).
"""

from __future__ import annotations

import numpy as np

from pointlab.experiments.base import Context
from pointlab.plots.regions import draw_lines
from pointlab.plots.save import new_figure, save_figure

LABELS = {"none": "plain", "layer": "layer norm", "batch": "batch norm"}


def figure(ctx: Context, b, by_norm, numbers) -> tuple[str, str]:
    """Three panels: mean training loss per learning rate (log x), each norm's learning rates
    where most seeds train drawn as a bar under the curves; at the plain net's reference learning
    rate, the loss's variation and the gradient's largest change along the gradient after each
    probe epoch (geometric mean over seeds, log y)."""
    fig = new_figure(16, 4.8, dpi=90, h_pad=0.12)
    ax_loss, ax_var, ax_pred = fig.subplots(1, 3)
    lrs = np.array(b.lrs)
    draw_lines(
        ax_loss,
        lrs,
        {LABELS[n]: np.nanmean(r.train_loss, 1) for n, r in by_norm.items()},
        title=f"training loss after {b.epochs} epochs",
        xlabel="learning rate (SGD, momentum 0.9)",
        ylabel="training loss (mean over seeds)",
        logx=10,
        logy=True,
    )
    ax_loss.axhline(np.log(2), color="grey", ls=":", lw=1)
    colors = [line.get_color() for line in ax_loss.get_lines()]
    low = ax_loss.get_ylim()[0]
    for k, r in enumerate(by_norm.values()):
        most = r.trains.mean(1) > 0.5
        if most.any():  # the span of rates where most seeds train, as a bar below the curves
            y = low * 0.7 ** (k + 1)
            ax_loss.plot(lrs[most], np.full(most.sum(), y), "s", color=colors[k], ms=6)
            ax_loss.hlines(y, lrs[most].min(), lrs[most].max(), color=colors[k], lw=4, alpha=0.6)
    ax_loss.set_ylim(bottom=low * 0.7 ** (len(by_norm) + 1.5))
    ax_loss.annotate(
        "bars: rates where most seeds train",
        (0.02, 0.02),
        xycoords="axes fraction",
        fontsize=8,
        color="grey",
    )
    ax_loss.legend(fontsize=9, loc="lower right")
    ref = numbers["reference_index"]
    probes = list(b.probes)
    for ax, key, what in (
        (ax_var, "variation", "loss variation along the gradient"),
        (ax_pred, "predictiveness", "gradient change along the gradient"),
    ):
        series: dict = {
            LABELS[n]: np.array([np.exp(np.log(getattr(r, key)[p][ref]).mean()) for p in probes])
            for n, r in by_norm.items()
        }
        draw_lines(
            ax,
            probes,
            series,
            title=f"{what}, lr {b.lrs[ref]:.3g}",
            xlabel="epoch",
            ylabel=("max - min loss over steps" if key == "variation" else "max |grad change|")
            + " (geo. mean)",
            logy=True,
        )
        ax.legend(fontsize=9)
    fig.suptitle(
        f"normalization on the spiral: plain, layer norm and batch norm, {b.seeds} seeds per "
        "learning rate"
    )
    name = save_figure(fig, ctx.path("normalization.png")).name
    return name, (
        "training loss against the learning rate per norm (bars: the rates that train), and, "
        "at the plain net's reference rate, how much the loss and the gradient change along the "
        "gradient as training goes on"
    )
