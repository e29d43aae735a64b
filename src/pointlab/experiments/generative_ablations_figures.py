"""The figure and method text of experiment `generative-ablations`.

One figure, from what `generative_ablations.measure_set` measured: a gallery as tiny-diffusion's
(a row per point set, a column per setting: seed 0's samples over the held-out points, titled
with its distance), and under it a bar per setting and set, the mean distance over seeds with its
95% Student's t interval, on a log scale, beside the fitted Gaussian (dashed) and the floor
(dotted). Nothing here trains or measures.

Not here: the measurements and claims (`experiments/generative_ablations.py`), the sample
drawing (`plots/generative.py`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes

from pointlab.experiments.base import Context, mean_interval
from pointlab.plots.generative import (
    DATA_COLOUR,
    data_box,
    draw_samples,
    frame_axes,
    marker_size,
)
from pointlab.plots.palette import LINE_COLOURS
from pointlab.plots.save import new_figure, save_figure

FILE = "generative_ablations.png"
SHOWN = 600  # samples drawn per panel


def figure(ctx: Context, b, got: dict[str, Any]) -> tuple[str, str]:
    from pointlab.experiments.generative_ablations import LABELS, SETS

    columns = len(LABELS)
    fig = new_figure(2.1 * columns, 2.3 * len(SETS) + 3.4)
    rows = fig.add_gridspec(2, 1, height_ratios=[2.3 * len(SETS), 3.4])
    top, bottom = fig.add_subfigure(rows[0]), fig.add_subfigure(rows[1])
    gallery = top.subplots(len(SETS), columns, squeeze=False)
    for r, kind in enumerate(SETS):
        g = got[kind]
        held = g["held_out"][:SHOWN]
        box = data_box(held)
        for c, label in enumerate(LABELS):
            ax = gallery[r, c]
            samples = g["samples"][c * b.seeds][:SHOWN]  # seed 0 of setting c
            if np.isfinite(samples).all():
                draw_samples(ax, samples, held, box=box)
                ax.get_legend().remove()
                ax.set_title(f"{kind}\n{label}: {g['mmd'][c, 0]:.2g}", fontsize=8)
            else:  # a diverged model: the data alone, and the word
                size = marker_size(len(held))
                ax.scatter(held[:, 0], held[:, 1], s=size, c=DATA_COLOUR, alpha=0.5, lw=0)
                frame_axes(ax, box, "")
                ax.set_title(f"{kind}\n{label}: diverged", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    for ax, kind in zip(bottom.subplots(1, len(SETS)), SETS, strict=True):
        draw_bars(ax, kind, got[kind])
    fig.suptitle(
        "DDPM ablations, and flow matching sampled with 50 and 5 steps (seed 0's samples in "
        "orange over held-out points; "
        "title: narrow-kernel MMD², lower is closer)",
        fontsize=10,
    )
    save_figure(fig, ctx.path(FILE))
    return FILE, (
        "tiny-diffusion's ablation gallery on checkerboard and moons: samples of each setting "
        "(seed 0), and the distance to held-out points by setting (mean over seeds, 95% t "
        "interval) beside a fitted Gaussian (dashed) and a second sample of the data (dotted)."
    )


def draw_bars(ax: Axes, kind: str, g: dict[str, Any]) -> None:
    """A bar per setting: the mean MMD² over seeds with its 95% t interval, log scale."""
    from pointlab.experiments.generative_ablations import LABELS

    labels = list(LABELS)
    means, halves = np.full(len(labels), np.nan), np.zeros(len(labels))
    for i, row in enumerate(np.asarray(g["mmd"], dtype=float)):
        finite = row[np.isfinite(row)]  # diverged seeds (inf) have no bar to add to
        if len(finite):
            means[i], half = mean_interval(finite)
            halves[i] = half if np.isfinite(half) else 0.0
    means = np.maximum(means, 1e-6)
    low = np.minimum(halves, means * 0.99)  # a log axis cannot go below 0
    x = np.arange(len(labels))
    ax.bar(x, np.nan_to_num(means), color=LINE_COLOURS[0], alpha=0.8)
    ax.errorbar(x, means, yerr=[low, halves], fmt="none", ecolor="black", capsize=3)
    for i, row in enumerate(np.asarray(g["mmd"], dtype=float)):
        if not np.isfinite(row).all():
            diverged = int((~np.isfinite(row)).sum())
            ax.annotate(
                f"{diverged} diverged",
                (i, 1),
                xycoords=("data", "axes fraction"),
                ha="center",
                va="top",
                fontsize=7,
                color="black",
            )
    gaussian, floor = g["references"]["gaussian"][0], g["references"]["floor"][0]
    ax.axhline(gaussian, color=LINE_COLOURS[3], ls="--", lw=1.2, label="fitted Gaussian")
    ax.axhline(max(floor, 1e-6), color=LINE_COLOURS[2], ls=":", lw=1.5, label="floor (data)")
    ax.set_yscale("log")
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("MMD² to held-out points")
    ax.set_title(f"{kind}: mean over seeds, 95% t interval", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7)


def method(b, got: dict[str, Any]) -> str:
    from pointlab.experiments.generative_ablations import (
        BASE,
        HELD_OUT,
        RESAMPLED,
        SETS,
        SETTINGS,
    )

    first = got[SETS[0]]
    settings = "; ".join(
        label if not changes else f"{label} ({', '.join(f'{k}={v}' for k, v in changes.items())})"
        for label, changes in SETTINGS
    )
    return (
        f"Data: {', '.join(SETS)}, {b.points} points each (seed 0), split once: "
        f"{first['train']} to train, {HELD_OUT / 2:.0%} to measure against ({first['n']}) and "
        f"{HELD_OUT / 2:.0%} as the floor's second sample. Base model: DDPM (tiny-diffusion's "
        f"linear betas 1e-4 to 0.02), T = {BASE.steps}, MLP {BASE.hidden} GELU with sinusoidal "
        f"embeddings of t and of each coordinate; AdamW lr {BASE.lr:g} (cosine to 1/100), weight "
        f"decay {BASE.weight_decay:g}, gradient norm clipped to {BASE.clip_grad:g}, batches of "
        f"{BASE.batch_size}, {b.epochs} epochs. Settings (one knob each): {settings}; "
        f"{b.seeds} seeds each; every member of a set trains as one engine population. "
        + "; ".join(
            f"{label}: the {trained} models sampled with {steps} steps instead"
            for label, trained, steps in RESAMPLED
        )
        + ". Each "
        "model draws as many samples as the measured third holds; distance: the squared MMD "
        "with a Gaussian kernel of bandwidth a tenth of the held-out points' median distance "
        "(the energy distance in results.json beside it). Verdicts: per-seed log ratios of two "
        "settings' distances, mean +- Student's t (seeds - 1 degrees of freedom) standard errors."
    )
