"""Experiment `depth`: what depth buys, seen exactly in the plane.

Telgarsky (2016), "Benefits of depth in neural networks": a ReLU network of depth L with 2 units a
layer computes the sawtooth t^L with 2^L linear pieces; one hidden layer needs on the order of 2^L
units for it (along any line it has at most width + 1 pieces). Hanin & Rolnick (2019), "Deep ReLU
networks have surprisingly few activation patterns": networks as initialized and as trained have
far fewer regions than that maximum, about as many as their neuron count allows (in a 2-D input,
on the order of N^2 for N neurons; along a line on the order of N), whatever the depth.

Here: the sawtooth built exactly and its one-layer twin; regions counted from activation patterns
on a grid over the plane; fresh and trained nets of 1 to 8 layers with the same neuron count; deep
against shallow at equal parameter count trained on a sawtooth target. This module holds the
budgets, the runs and the claims.

Not here: the sawtooth's construction (`experiments/sawtooth.py`), the counting
(`experiments/regions.py`), the figures (`experiments/depth_figures.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from pointlab import engine, generators
from pointlab.config import TrainConfig
from pointlab.engine.models import Architecture, init_theta, theta_from_states
from pointlab.experiments import base, depth_figures, regions, sawtooth
from pointlab.experiments.base import Claim, Context, Report

NAME = "depth"


@dataclass(frozen=True)
class Budget:
    cells: int  # grid cells per side for counting regions
    line_points: int  # points along a line for counting pieces
    saw_depths: tuple[int, ...]  # L of the constructed sawtooth
    neurons: int  # hidden neurons of every net in the depth comparison
    depths: tuple[int, ...]  # hidden layers, each of neurons / depth units
    neuron_counts: tuple[int, ...]  # N for the scaling of regions with neurons (depth 2)
    init_seeds: int
    train_epochs: int  # the nets trained on the book's curve before counting
    train_seeds: int
    target_depth: int  # L of the sawtooth target trained at equal parameter count
    deep_width: int
    target_epochs: int
    target_seeds: int


QUICK = Budget(
    cells=256,
    line_points=3 * 2**11,
    saw_depths=(1, 2, 3, 4, 5, 6, 7, 8),
    neurons=32,
    depths=(1, 2, 4, 8),
    neuron_counts=(8, 16, 32, 64),
    init_seeds=4,
    train_epochs=300,
    train_seeds=2,
    target_depth=4,
    deep_width=8,
    target_epochs=600,
    target_seeds=6,
)
FULL = Budget(
    cells=512,
    line_points=3 * 2**12,
    saw_depths=(1, 2, 3, 4, 5, 6, 7, 8),
    neurons=32,
    depths=(1, 2, 4, 8),
    neuron_counts=(8, 16, 32, 64, 128),
    init_seeds=10,
    train_epochs=2000,
    train_seeds=4,
    target_depth=4,
    deep_width=8,
    target_epochs=2000,
    target_seeds=16,
)
# Grids of cell centres at multiples of 2^-k: a sawtooth's kinks sit at dyadic points k / 2^L,
# and a centre exactly on one would count a region of zero width.
EXTENT = (-0.5, 1.5, -0.5, 1.5)  # the unit square of the data and a margin around it


def region_counts(
    arch: Architecture, theta: torch.Tensor, budget: Budget
) -> tuple[np.ndarray, np.ndarray]:
    """(regions over EXTENT (M,), pieces along the line y = 0.5 across EXTENT (M,))."""
    return regions.counts(arch, theta, EXTENT, budget.cells, budget.line_points)


def run(ctx: Context) -> Report:
    b = QUICK if ctx.quick else FULL
    # --seeds raises the full version's seeds (never below the calibrated counts)
    b = replace(
        b,
        init_seeds=ctx.seed_count(b.init_seeds),
        train_seeds=ctx.seed_count(b.train_seeds),
        target_seeds=ctx.seed_count(b.target_seeds),
    )
    ctx.say("depth: the constructed sawtooth")
    saw = sawtooth.measure(b.saw_depths, b.line_points, b.cells)

    ctx.say("depth: regions of fresh networks")
    archs = {D: Architecture((b.neurons // D,) * D, "relu") for D in b.depths}
    seeds = list(range(b.init_seeds))
    fresh = {D: region_counts(a, init_theta(a, seeds), b) for D, a in archs.items()}
    scaling = {}
    for N in b.neuron_counts:
        a = Architecture((N // 2, N // 2), "relu")
        scaling[N] = region_counts(a, init_theta(a, seeds), b)[0]

    ctx.say("depth: training each depth on the book's curve, then counting again")
    data = generators.make("curve", n=500, noise=0.0, seed=0)
    test = generators.make("curve", n=2000, noise=0.0, seed=1)
    configs = [
        TrainConfig(hidden=a.hidden, epochs=b.train_epochs, lr=0.01, seed=s)
        for D, a in archs.items()
        for s in range(b.train_seeds)
    ]
    results = engine.train(
        configs, data.X, data.y, test.X, test.y, log_every=b.train_epochs, device=ctx.device
    )
    trained, trained_acc, trained_ids = {}, {}, {}
    for D, a in archs.items():
        rs = [r for r in results if tuple(r.config.hidden) == a.hidden]  # widths tell depths apart
        theta = theta_from_states(a, [r.final_state for r in rs])
        trained[D] = region_counts(a, theta, b)
        trained_acc[D] = float(np.mean([r.last("val_acc") for r in rs]))
        trained_ids[D] = regions.patterns(a, theta[:1], regions.grid(EXTENT, b.cells))[0]

    ctx.say("depth: deep against shallow at equal parameter count on a sawtooth target")
    target = sawtooth.deep_against_shallow(
        b.target_depth, b.deep_width, b.target_epochs, b.target_seeds, ctx.device
    )

    claims, numbers = _claims(b, saw, fresh, trained, scaling, target)
    numbers.update(trained_test_acc=trained_acc, equal_parameters=target, budget=b.__dict__)
    names = [
        depth_figures.regions_figure(ctx, b.cells, EXTENT, trained_ids, archs),
        depth_figures.counts_figure(ctx, b, saw, fresh, trained, scaling, target),
    ]
    return Report(
        title="Depth: the linear regions a ReLU net can make, and those it has",
        claim=(
            "Telgarsky 2016, *Benefits of depth in neural networks*: depth L with 2 ReLUs a layer "
            "computes a sawtooth with 2^L linear pieces, while one hidden layer needs width on the "
            "order of 2^L. Hanin & Rolnick 2019, *Deep ReLU networks have surprisingly few "
            "activation patterns* (and *Complexity of linear regions in deep networks*): at "
            "initialization and after training, the number of regions depends on the number of "
            "neurons, not exponentially on depth. The book's fundamentals say networks of four or "
            "more layers capture patterns that shallow ones cannot."
        ),
        method=_method(b),
        claims=claims,
        figures=names,
        findings=_findings(b, claims, numbers, target),
        numbers=numbers,
    )


def _ratio(top: np.ndarray, bottom: np.ndarray) -> tuple[float, float, float]:
    """mean(top) / mean(bottom) over seeds, its standard error (first-order, independent) and
    that error's degrees of freedom (Welch's)."""
    a, b = float(np.mean(top)), float(np.mean(bottom))
    ratio = a / b
    se, df = base.combined_se(
        (ratio * base.standard_error(top) / a, len(top) - 1),
        (ratio * base.standard_error(bottom) / b, len(bottom) - 1),
    )
    return ratio, se, df


def _claims(b: Budget, saw, fresh, trained, scaling, target) -> tuple[list[Claim], dict]:
    """The six claims, from the counts: fresh/trained map depth -> (regions (M,), pieces (M,)),
    scaling maps N -> regions (M,)."""
    exact = all(row["deep_pieces"] == 2**L and row["deep_error"] < 1e-9 for L, row in saw.items())
    shallow_exact = all(
        row["shallow_pieces"] == 2**L and row["shallow_error"] < 1e-6 for L, row in saw.items()
    )
    L_max = max(saw)
    deepest, shallowest = max(b.depths), min(b.depths)
    # Not exponential in depth: the same neurons in 8 layers could cut the plane into far more
    # pieces (the sawtooth shows 2^L from 2 units a layer), yet they make no more than in one.
    fresh_ratio, fresh_se, fresh_df = _ratio(fresh[deepest][0], fresh[shallowest][0])
    trained_ratio, trained_se, trained_df = _ratio(trained[deepest][0], trained[shallowest][0])
    # Regions against neurons on log-log axes: the slope of a least-squares line through every
    # seed's count, with its standard error from the residuals.
    log_n = np.concatenate([np.full(len(scaling[N]), np.log(N)) for N in b.neuron_counts])
    log_r = np.concatenate([np.log(scaling[N]) for N in b.neuron_counts])
    (slope, _), cov = np.polyfit(log_n, log_r, 1, cov=True)
    slope, slope_se = float(slope), float(np.sqrt(cov[0, 0]))  # df: points - 2
    gap, gap_se = target["gap"], target["gap_se"]  # df: seeds of both sides - 2
    claims = [
        Claim(
            "depth L with 2 units a layer makes 2^L linear pieces (Telgarsky)",
            f"constructed sawtooth, L = {min(saw)}..{L_max}: pieces along x == 2^L, error < 1e-9",
            f"{saw[L_max]['deep_pieces']} pieces at L = {L_max}, {saw[L_max]['deep_units']} units",
            exact,  # a construction, exact: no noise to allow for
        ),
        Claim(
            "one hidden layer needs on the order of 2^L units to match",
            "the one-layer twin with 2^L units equals it (error < 1e-6); width w gives at most "
            "w + 1 pieces on a line",
            f"{saw[L_max]['shallow_units']} units at L = {L_max} (deep {saw[L_max]['deep_units']})",
            shallow_exact,
        ),
        Claim(
            "trained at equal parameter count, deep fits a high-frequency target better",
            f"sawtooth L = {b.target_depth} target: median test acc deep - shallow >= 0 (95% t "
            "interval, bootstrap standard error over seeds)",
            f"{gap:+.3f} +- {gap_se:.3f} (deep {target['deep_median']:.3f}, shallow "
            f"{target['shallow_median']:.3f})",
            base.at_least(gap, 0.0, gap_se, 2 * b.target_seeds - 2),
        ),
        Claim(
            "fresh networks: regions do not grow exponentially with depth (Hanin & Rolnick)",
            f"{b.neurons} neurons: mean regions at {deepest} layers <= 2 x at {shallowest} layer "
            "(ratio's 95% t interval)",
            f"{fresh[deepest][0].mean():.0f} vs {fresh[shallowest][0].mean():.0f} (ratio "
            f"{fresh_ratio:.2f} +- {fresh_se:.2f})",
            base.at_most(fresh_ratio, 2.0, fresh_se, fresh_df),
        ),
        Claim(
            "trained networks: still no exponential growth with depth",
            f"after training: mean regions at {deepest} layers <= 2 x at {shallowest} layer "
            "(ratio's 95% t interval)",
            f"{trained[deepest][0].mean():.0f} vs {trained[shallowest][0].mean():.0f} (ratio "
            f"{trained_ratio:.2f} +- {trained_se:.2f})",
            base.at_most(trained_ratio, 2.0, trained_se, trained_df),
        ),
        Claim(
            "regions grow like a low power of the neuron count, not exponentially",
            "fresh 2-layer nets: log-log slope of regions against N <= 2 (N^2 for a 2-D input; "
            "95% t interval)",
            f"{slope:.2f} +- {slope_se:.2f}",
            base.at_most(slope, 2.0, slope_se, len(log_n) - 2),
        ),
    ]
    numbers = dict(
        sawtooth={str(L): row for L, row in saw.items()},
        fresh_regions={str(D): fresh[D][0] for D in b.depths},
        fresh_line_pieces={str(D): fresh[D][1] for D in b.depths},
        trained_regions={str(D): trained[D][0] for D in b.depths},
        trained_line_pieces={str(D): trained[D][1] for D in b.depths},
        regions_by_neurons={str(N): scaling[N] for N in b.neuron_counts},
        fresh_depth_ratio=fresh_ratio,
        trained_depth_ratio=trained_ratio,
        regions_slope=slope,
        regions_slope_se=slope_se,
        line_pieces_per_neuron={str(D): fresh[D][1].mean() / b.neurons for D in b.depths},
    )
    return claims, numbers


def _method(b: Budget) -> str:
    return (
        f"Regions: activation patterns of all hidden ReLUs on a {b.cells} x {b.cells} grid of "
        f"cell centres over [{EXTENT[0]}, {EXTENT[1]}]^2 (the data's unit square with a margin); "
        "a pattern's inputs form a convex polygon, so distinct patterns are regions (those "
        "thinner than a cell are missed); pieces along a line from pattern changes at "
        f"{b.line_points} points. Sawtooth: built exactly for L = {list(b.saw_depths)}, and its "
        "one-hidden-layer twin with one unit per kink. Depth at fixed neurons: "
        f"{b.neurons} neurons as {', '.join(f'{D} x {b.neurons // D}' for D in b.depths)} layers, "
        f"{b.init_seeds} initializations each (the engine's, torch.nn.Linear's); trained: "
        f"{b.train_seeds} seeds each on the book's curve (500 points, no label flips), Adam lr "
        f"0.01, full batch, {b.train_epochs} epochs. Neurons: 2 layers of N/2 for N in "
        f"{list(b.neuron_counts)}. Equal parameters: 1,000 points uniform in the unit square "
        f"labelled t^{b.target_depth}(x) > 1/2 ({2**b.target_depth} stripes), inputs "
        f"standardized; {b.target_depth} layers of {b.deep_width} against one layer with no "
        f"fewer weights; Adam lr 0.01, full batch, {b.target_epochs} epochs, {b.target_seeds} "
        "seeds each; test on 4,000 fresh points."
    )


def _findings(b: Budget, claims: list[Claim], numbers: dict, target: dict) -> str:
    saw = {int(L): row for L, row in numbers["sawtooth"].items()}
    L = max(saw)
    fresh = {int(D): r.mean() for D, r in numbers["fresh_regions"].items()}
    trained = {int(D): r.mean() for D, r in numbers["trained_regions"].items()}
    rows = "\n".join(
        f"| {D} x {b.neurons // D} | {fresh[D]:.0f} | {trained[D]:.0f} | "
        f"{numbers['line_pieces_per_neuron'][str(D)]:.2f} | "
        f"{numbers['trained_test_acc'][D]:.3f} |"
        for D in b.depths
    )
    _, _, deep_wins, fresh_flat, trained_flat, low_power = claims
    deepest, shallowest = max(b.depths), min(b.depths)
    fewer = "fewer" if fresh[deepest] < fresh[shallowest] else "more"
    depth_words = base.follow(
        fresh_flat,
        f"with the same neurons, {deepest} layers have no more than twice the regions of one "
        f"wide layer when freshly initialized (here {fewer}: ratio "
        f"{numbers['fresh_depth_ratio']:.2f})",
        f"with the same neurons, fresh nets of {deepest} layers have more than twice the regions "
        f"of one wide layer (ratio {numbers['fresh_depth_ratio']:.2f})",
        f"whether fresh nets of {deepest} layers have more regions than one layer, the seeds "
        f"cannot settle (ratio {numbers['fresh_depth_ratio']:.2f})",
    )
    trained_words = base.follow(
        trained_flat,
        f"and after training the same (ratio {numbers['trained_depth_ratio']:.2f})",
        f"but after training the deep nets have more than twice as many (ratio "
        f"{numbers['trained_depth_ratio']:.2f})",
        f"and after training the seeds cannot tell (ratio {numbers['trained_depth_ratio']:.2f})",
    )
    slope, slope_se = numbers["regions_slope"], numbers["regions_slope_se"]
    by_n = {int(N): r.mean() for N, r in numbers["regions_by_neurons"].items()}
    below = all(r <= N * N / 2 for N, r in by_n.items())
    Ns = sorted(by_n)
    factors = [by_n[m] / by_n[n] for n, m in zip(Ns, Ns[1:], strict=False)]  # b.neuron_counts: x2
    power_words = base.follow(
        low_power,
        f"regions grow with the neuron count like N^{slope:.2f}, not exponentially",
        f"regions grow with the neuron count faster than N^2 (slope {slope:.2f} +- {slope_se:.2f})",
        f"whether regions grow more slowly than N^2 the seeds cannot settle: the log-log slope, "
        f"{slope:.2f} +- {slope_se:.2f}, sits at the exponent of the bound itself"
        + (
            f", while the counts stay below N^2 / 2 at every N ({by_n[max(by_n)]:.0f} against "
            f"{max(by_n) ** 2 / 2:.0f} at N = {max(by_n)}), and the factor per doubling of N "
            f"is {', '.join(f'{f:.1f}' for f in factors)} (N^2: 4; exponential growth would "
            "make it grow without bound)"
            if below
            else ""
        ),
    )
    stripes = 2**b.target_depth
    target_words = base.follow(
        deep_wins,
        "the deep net fits it better, as Telgarsky's construction suggests",
        "one wide layer fits it better: at this size a single layer has enough units for "
        f"the {stripes} stripes, and gradient descent finds its solution more easily",
        "neither is better by more than the seeds' noise",
    )
    conclusion = base.follow(
        deep_wins,
        "depth buys what the sawtooth shows, and training here finds some of it",
        "true of what the weights *can* express (the sawtooth), but gradient descent from a "
        "random start uses only a small part of it; in 2-D a wide single layer has as many "
        "regions as a deep net of the same size, and fits the striped target better",
        "true of what the weights *can* express (the sawtooth), but trained from random starts "
        "the deep and the wide net end up indistinguishable at this budget",
    )
    return (
        f"The constructed sawtooth has exactly 2^L pieces: {saw[L]['deep_pieces']} at L = {L} "
        f"from {saw[L]['deep_units']} ReLUs ({saw[L]['deep_params']} weights); one hidden layer "
        f"needs {saw[L]['shallow_units']} ReLUs ({saw[L]['shallow_params']} weights) for the same "
        "function. That is what depth can buy.\n\n"
        "| layers x width | regions, fresh | regions, trained | pieces on a line per neuron, fresh "
        "| trained test acc |\n| --- | --- | --- | --- | --- |\n"
        f"{rows}\n\n"
        f"What initialization and training give is different: {depth_words}, {trained_words}. "
        "For a 2-D input Hanin & Rolnick's bound on the regions is of order N^2 (along a line, "
        f"about N): {power_words}.\n\nTrained at equal parameter count on a sawtooth target "
        f"with {stripes} "
        f"stripes, the deep net ({target['deep_hidden']}, {target['deep_params']} weights) "
        f"reached a median test accuracy of {target['deep_median']:.3f} (best "
        f"{target['deep_best']:.3f}) against {target['shallow_median']:.3f} (best "
        f"{target['shallow_best']:.3f}) for one layer of {target['shallow_width']}: "
        f"{target_words}. So for the book's claim that four or more layers capture patterns "
        f"shallow nets cannot: {conclusion}."
    )
