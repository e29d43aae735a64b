"""The figures of experiment `depth`: regions over the plane, and the counts behind its claims.

Each function takes numbers `depth.run` measured and composes the Axes-level drawings of
`plots/regions.py` into one figure; nothing here trains or counts.

Not here: the measurements and claims (`experiments/depth.py`), the sawtooth
(`experiments/sawtooth.py`), the drawing primitives (`plots/regions.py`).
"""

from __future__ import annotations

import numpy as np

from pointlab.experiments import regions
from pointlab.experiments.base import Context
from pointlab.experiments.sawtooth import sawtooth_theta
from pointlab.plots.regions import draw_lines, draw_regions
from pointlab.plots.save import new_figure, save_figure


def regions_figure(ctx: Context, cells: int, extent, trained_ids, archs) -> tuple[str, str]:
    """The 4-layer sawtooth's regions beside those of the shallowest and deepest trained nets
    (`trained_ids`: depth -> pattern ids (cells * cells,) of one trained member)."""
    figure = new_figure(13, 4.6, dpi=90, h_pad=0.12)
    axes = figure.subplots(1, 3)
    arch, theta = sawtooth_theta(4)
    saw_ids = regions.patterns(arch, theta, regions.grid(extent, cells))[0]
    draw_regions(axes[0], saw_ids.reshape(cells, cells), extent, "sawtooth, 4 layers x 2 units")
    shallow, deep = min(archs), max(archs)
    for ax, D in zip(axes[1:], (shallow, deep), strict=True):
        ids = trained_ids[D].reshape(cells, cells)
        layers = f"{D} layer{'s' if D > 1 else ''} of {archs[D].hidden[0]}"
        draw_regions(ax, ids, extent, f"trained, {layers}: {len(np.unique(ids))} regions")
    for ax in axes:
        ax.add_patch(_unit_square())
    figure.suptitle("linear regions over the plane (dashed: the data's unit square)")
    name = save_figure(figure, ctx.path("depth_regions.png")).name
    return name, "regions: the constructed sawtooth; trained nets of 1 and 8 layers, equal neurons"


def _unit_square():
    from matplotlib.patches import Rectangle

    return Rectangle((0, 0), 1, 1, fill=False, ls="--", lw=1.2, color="black")


def counts_figure(ctx: Context, b, saw, fresh, trained, scaling, target) -> tuple[str, str]:
    """Four panels: the sawtooth's pieces against L; regions against depth at fixed neurons
    (fresh and trained: depth -> (regions (M,), pieces (M,))); regions against neurons
    (N -> regions (M,)); deep against shallow at equal weights on the sawtooth target."""
    figure = new_figure(17, 4.4, dpi=90, h_pad=0.12)
    ax_saw, ax_depth, ax_n, ax_target = figure.subplots(1, 4)
    Ls = list(saw)
    draw_lines(
        ax_saw,
        Ls,
        {
            "deep: L x 2 units": [saw[L]["deep_pieces"] for L in Ls],
            "units one hidden layer needs": [saw[L]["shallow_units"] for L in Ls],
            "units the deep net uses": [saw[L]["deep_units"] for L in Ls],
        },
        styles={"units one hidden layer needs": "s--"},
        title="the sawtooth: pieces along x",
        xlabel="depth L",
        ylabel="count",
        logy=True,
    )
    depths = list(b.depths)
    draw_lines(
        ax_depth,
        depths,
        {
            "fresh": [fresh[D][0].mean() for D in depths],
            "trained": [trained[D][0].mean() for D in depths],
        },
        title=f"regions with {b.neurons} neurons in D layers",
        xlabel="hidden layers D",
        ylabel="regions over the plane (mean)",
        logx=True,
        bands={
            kind: ([counts[D][0].min() for D in depths], [counts[D][0].max() for D in depths])
            for kind, counts in (("fresh", fresh), ("trained", trained))
        },
    )
    Ns = list(b.neuron_counts)
    draw_lines(
        ax_n,
        Ns,
        {
            "fresh, 2 layers": [scaling[N].mean() for N in Ns],
            "N": Ns,
            "N^2 / 2": [N * N / 2 for N in Ns],
        },
        title="regions against neurons N",
        xlabel="neurons N",
        ylabel="regions",
        logx=True,
        logy=True,
        styles={"N": "k:", "N^2 / 2": "k--"},
    )
    deep_label = f"deep {target['deep_hidden']} ({target['deep_params']} weights)"
    shallow_label = f"one layer of {target['shallow_width']} ({target['shallow_params']} weights)"
    draw_lines(
        ax_target,
        np.arange(b.target_seeds),
        {
            deep_label: np.sort(target["deep_acc"]),
            shallow_label: np.sort(target["shallow_acc"]),
        },
        title=f"sawtooth target L = {b.target_depth}: test accuracy",
        xlabel="seeds, sorted",
        ylabel="test accuracy",
    )
    figure.suptitle("depth: what exists (2^L pieces) and what initialization and training give")
    name = save_figure(figure, ctx.path("depth_counts.png")).name
    return (
        name,
        "sawtooth pieces; regions against depth and neurons; deep vs shallow at equal weights",
    )
