"""The figure and method text of experiment `adversarial`.

One figure, four panels, from the numbers `adversarial.train_and_attack` measured: the boundary
of a standard and of an adversarially trained network (seed 0 of each) with arrows from the test
points that PGD flips to where it moves them; test accuracy against eps under FGSM and PGD; and
how far the test points lie from each boundary. Nothing here trains or attacks; the two networks'
predictions over the plane are the only computation.

Not here: the measurements and claims (`experiments/adversarial.py`), the boundary drawing
(`plots/boundary.py`).
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from pointlab.engine.models import forward, layer_views
from pointlab.experiments.base import Context, mean_interval
from pointlab.plots.boundary import compute_boundary, draw_boundary, legend_handles
from pointlab.plots.palette import LINE_COLOURS
from pointlab.plots.save import new_figure, save_figure

ARROW = "black"


def member_proba(got: dict, member: int):
    """predict_proba (N, 2) -> (N, 2) of one trained member, from the points themselves."""
    arch, inputs = got["arch"], got["inputs"]
    layers = layer_views(arch, got["theta"][member : member + 1])

    def proba(X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            z = forward(arch, layers, inputs(torch.as_tensor(X, dtype=torch.float32)))[0, :, 0]
        p1 = torch.sigmoid(z).numpy()
        return np.column_stack([1 - p1, p1])

    return proba


def figure(ctx: Context, b, got: dict) -> tuple[str, str]:
    from pointlab.experiments.adversarial import MAIN_EPS

    fig = new_figure(12.5, 12, dpi=90, h_pad=0.12)
    axes = fig.subplots(2, 2)
    adv = b.train_eps.index(MAIN_EPS)
    for ax, group, label in (
        (axes[0, 0], 0, "standard training"),
        (axes[0, 1], adv, f"adversarial training, eps {MAIN_EPS:g}"),
    ):
        draw_attacked(ax, got, group * b.seeds, f"{label} (seed 0)", MAIN_EPS)
    draw_accuracy(axes[1, 0], b, got)
    draw_margins(axes[1, 1], b, got)
    fig.suptitle(
        f"adversarial examples on the spiral: PGD moves each test point by at most {MAIN_EPS:g} "
        "in x and in y"
    )
    name = save_figure(fig, ctx.path("adversarial.png")).name
    return name, (
        "top: the boundaries of a standard and an adversarially trained network, with an arrow "
        "from each test point that PGD flips; bottom: accuracy against eps, and each test "
        "point's distance to the boundary"
    )


def draw_attacked(ax: Axes, got: dict, member: int, title: str, eps: float) -> None:
    """One member's boundary over its training points, and arrows from each test point whose
    right answer PGD at `eps` turns wrong to the point PGD made of it."""
    proba = member_proba(got, member)
    boundary = compute_boundary(proba, got["train"], steps=240)
    test = got["test"]
    moved = got["moved"][member]  # (N, 2)
    right = proba(test.X).argmax(1) == test.y
    flipped = right & (proba(moved).argmax(1) != test.y)  # (N,)
    start, shift = test.X[flipped], moved[flipped] - test.X[flipped]
    draw_boundary(ax, boundary, title=title, colourbar=False, legend=False, point_size=10)
    ax.quiver(
        start[:, 0],
        start[:, 1],
        shift[:, 0],
        shift[:, 1],
        angles="xy",
        scale_units="xy",
        scale=1,
        color=ARROW,
        width=0.004,
        headwidth=3.5,
        headlength=4,
        headaxislength=3.5,
        zorder=5,
    )
    ax.set_title(
        f"{ax.get_title()}\n{flipped.sum()} of {right.sum()} right test points flipped by PGD "
        f"at eps {eps:g}",
        fontsize=10,
    )
    arrow = Line2D(
        [],
        [],
        color=ARROW,
        marker=r"$\rightarrow$",
        markersize=14,
        linestyle="none",
        label="test point -> PGD's point",
    )
    ax.legend(
        handles=[*legend_handles(boundary), arrow],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.09),
        ncol=2,
        fontsize="small",
        frameon=False,
    )


def draw_accuracy(ax: Axes, b, got: dict) -> None:
    """Test accuracy against eps: PGD solid with its t interval over seeds, FGSM dashed."""
    eps = np.array(b.attack_eps)
    for g, trained in enumerate(b.train_eps):
        colour = LINE_COLOURS[g]
        name = "standard" if trained == 0 else f"adversarial, eps {trained:g}"
        for attack, style in (("pgd", "o-"), ("fgsm", "s--")):
            per_eps = [mean_interval(got[attack][g, :, j]) for j in range(len(eps))]
            mean = np.array([m for m, _ in per_eps])
            ax.plot(eps, mean, style, color=colour, ms=4, lw=1.6, label=f"{name}: {attack.upper()}")
            if attack == "pgd":
                half = np.array([h for _, h in per_eps])
                ax.fill_between(eps, mean - half, mean + half, color=colour, alpha=0.15)
    ax.set(
        title=f"test accuracy under attack (mean of {b.seeds} seeds; band: 95% t interval)",
        xlabel="eps: how far each coordinate may move",
        ylabel="test accuracy",
        ylim=(0, 1.02),
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def draw_margins(ax: Axes, b, got: dict) -> None:
    """Each test point's L-infinity distance to the boundary, all seeds pooled, per training."""
    margin = got["margin"]  # (groups, seeds, N); 0: the point is wrong already
    # Wrong points (at 0) and points far from every boundary would dwarf the rest: the legend
    # counts them instead of drawing them.
    top = 3 * float(np.median(margin[margin > 0]))
    bins = [float(v) for v in np.linspace(0, top, 36)]
    for g, trained in enumerate(b.train_eps):
        colour = LINE_COLOURS[g]
        name = "standard" if trained == 0 else f"adversarial, eps {trained:g}"
        values = margin[g].ravel()
        shown = values[(values > 0) & (values <= top)]
        wrong, far = (values == 0).mean(), (values > top).mean()
        name += f" ({wrong:.0%} wrong, {far:.0%} beyond {top:.2f})"
        ax.hist(shown, bins=bins, histtype="step", lw=1.6, color=colour, label=name)
        ax.axvline(np.median(values), color=colour, ls=":", lw=1.4)
    ax.set(
        title="each test point's distance to the boundary (dotted: medians)",
        xlabel=f"L-infinity distance: the smallest eps that flips it (up to {top:.2f})",
        ylabel="right test points (all seeds)",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def method(b) -> str:
    from pointlab.experiments.adversarial import NOISE

    eps = ", ".join(f"{e:g}" for e in b.train_eps)
    return (
        f"Data: the spiral (two arms, jitter {NOISE:g}), {b.n_train} training and {b.n_test} test "
        "points from different seeds, standardized as `pointlab train` feeds them. Models: MLP "
        f"(64, 64), ReLU, Adam lr 0.01, full batch, {b.epochs} epochs, {b.seeds} seeds per "
        f"training eps ({eps}; 0 is standard training), all members one engine population. "
        f"Adversarial training: every epoch's pass trains on PGD's points ({b.train_steps} "
        "steps of 2.5 eps / steps, projected on the L-infinity ball, no random start) against "
        "the member's weights as they are, through the engine's `train_inputs` hook. "
        f"Attacks on the test points: FGSM and PGD ({b.attack_steps} steps) at eps in "
        f"{list(b.attack_eps)}, in the units of the points, differentiating through the "
        "standardization. Margin: each test point's smallest flipping eps by bisection "
        f"({b.halvings} halvings of [0, 0.2], PGD at each), 0 for a point already wrong; the "
        "claim compares medians. Verdicts: the mean over seeds +- Student's t (n - 1 degrees "
        "of freedom) standard errors."
    )
