"""The figure of experiment `skip-connections`: training loss against depth, and the gradient of
every layer of the deepest nets at initialization and early in training.

Takes what `skip_connections.run` measured; nothing here trains.

Not here: the measurements and claims (`experiments/skip_connections.py`), the drawing
primitives (`plots/regions.py`, `plots/save.py`).
"""

from __future__ import annotations

import numpy as np

from pointlab.experiments import base
from pointlab.experiments.base import Context
from pointlab.plots.regions import draw_lines
from pointlab.plots.save import new_figure, save_figure

KINDS = ("plain", "residual")


def figure(ctx: Context, b, by_depth) -> tuple[str, str]:
    """Three panels: mean training loss per depth with its 95% interval band, plain and residual;
    the deepest nets' gradient norm per layer (geometric mean over seeds, log scale) at
    initialization and after `b.early` epochs."""
    fig = new_figure(16, 4.6, dpi=90, h_pad=0.12)
    ax_loss, ax_init, ax_early = fig.subplots(1, 3)
    depths = list(b.depths)
    series: dict = {}
    bands: dict = {}
    for k, kind in enumerate(KINDS):
        losses = [by_depth[D].train_loss[k] for D in depths]
        means = [float(np.mean(v)) for v in losses]
        spans = [
            base.interval(m, base.standard_error(v), len(v) - 1)
            for m, v in zip(means, losses, strict=True)
        ]
        series[kind] = means
        bands[kind] = ([max(lo, 0.0) for lo, _ in spans], [hi for _, hi in spans])
    draw_lines(
        ax_loss,
        depths,
        series,
        bands=bands,
        title=f"training loss after {b.epochs} epochs",
        xlabel="hidden layers (32 ReLUs each)",
        ylabel="training loss (mean, 95% band)",
        logx=True,
    )
    ax_loss.set_xticks(depths, [str(D) for D in depths])
    ax_loss.axhline(np.log(2), color="grey", ls=":", lw=1)
    ax_loss.annotate(
        "ln 2: chance",
        (depths[0], np.log(2)),
        fontsize=8,
        color="grey",
        xytext=(0, 3),
        textcoords="offset points",
    )
    ax_loss.legend(fontsize=9)
    deepest = max(depths)
    for ax, key, when in (
        (ax_init, "grad_init", "at initialization"),
        (ax_early, "grad_early", f"after {b.early} epochs"),
    ):
        grads = getattr(by_depth[deepest], key)
        layers = np.arange(1, grads[0].shape[1] + 1)
        draw_lines(
            ax,
            layers,
            {kind: np.exp(np.log(grads[k]).mean(0)) for k, kind in enumerate(KINDS)},
            title=f"{deepest} layers: gradient per layer, {when}",
            xlabel="layer (1: from the inputs; last: the output)",
            ylabel="|dL/dW| (geometric mean over seeds)",
            logy=True,
        )
        ax.legend(fontsize=9)
    fig.suptitle("skip connections on the spiral: plain MLPs against residual ones")
    name = save_figure(fig, ctx.path("skip_connections.png")).name
    return name, (
        "training loss against depth (plain stalls at ln 2 when deep), and the deepest nets' "
        "gradient per layer: plain vanishes toward the inputs, residual does not"
    )
