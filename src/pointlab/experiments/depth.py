"""Experiment `depth`: what depth buys, seen exactly in the plane.

Telgarsky (2016), "Benefits of depth in neural networks": a ReLU network of depth L with 2 units a
layer computes the sawtooth t^L with 2^L linear pieces; one hidden layer needs on the order of 2^L
units for it (along any line it has at most width + 1 pieces). Hanin & Rolnick (2019), "Deep ReLU
networks have surprisingly few activation patterns": networks as initialized and as trained have
far fewer regions than that maximum, about as many as their neuron count allows (in a 2-D input,
on the order of N^2 for N neurons; along a line on the order of N), whatever the depth.

Here: the sawtooth built exactly (`regions.sawtooth_theta`) and its one-layer twin; regions counted
from activation patterns on a grid over the plane; fresh and trained nets of 1 to 8 layers with the
same neuron count; deep against shallow at equal parameter count trained on a sawtooth target.

Not here: the counting (`experiments/regions.py`), the drawing (`plots/regions.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from pointlab import engine, generators
from pointlab.config import TrainConfig
from pointlab.engine.models import Architecture, init_theta, theta_from_states
from pointlab.experiments import regions
from pointlab.experiments.base import Claim, Context, Report, at_least
from pointlab.plots.regions import draw_lines, draw_regions
from pointlab.plots.save import new_figure, save_figure

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


def standardize(X: np.ndarray) -> np.ndarray:
    return ((np.asarray(X, dtype=np.float64) - 0.5) * np.sqrt(12.0)).astype(np.float32)


def sawtooth_pieces(budget: Budget) -> dict[int, dict[str, float]]:
    """Per L: pieces along x of the deep sawtooth and its shallow twin, their errors, and regions
    of the deep one over the unit square."""
    xs = (np.arange(budget.line_points) + 0.5) / budget.line_points  # (n,) not on a kink
    line = np.column_stack([xs, np.full_like(xs, 0.3)])
    square = regions.grid((0.0, 1.0, 0.0, 1.0), budget.cells)
    out = {}
    for L in budget.saw_depths:
        row = {}
        for kind, (arch, theta) in (
            ("deep", regions.sawtooth_theta(L)),
            ("shallow", regions.shallow_sawtooth_theta(L)),
        ):
            row[f"{kind}_pieces"] = int(
                regions.count_pieces(regions.patterns(arch, theta, line))[0]
            )
            row[f"{kind}_error"] = float(
                np.abs(_logit(arch, theta, line) - regions.sawtooth(xs, L)).max()
            )
            row[f"{kind}_params"] = arch.n_params
            row[f"{kind}_units"] = sum(arch.hidden)
        row["deep_regions"] = int(
            regions.count_regions(regions.patterns(*regions.sawtooth_theta(L), square))[0]
        )
        out[L] = row
    return out


def _logit(arch: Architecture, theta: torch.Tensor, points: np.ndarray) -> np.ndarray:
    from pointlab.engine.models import forward, layer_views

    with torch.no_grad():
        x = torch.as_tensor(points, dtype=theta.dtype)
        return forward(arch, layer_views(arch, theta), x)[0, :, 0].numpy()


def region_counts(
    arch: Architecture, theta: torch.Tensor, budget: Budget
) -> tuple[np.ndarray, np.ndarray]:
    """(regions over EXTENT (M,), pieces along the line y = 0.5 across EXTENT (M,))."""
    square = regions.grid(EXTENT, budget.cells)
    xs = (
        EXTENT[0]
        + (np.arange(budget.line_points) + 0.5) * (EXTENT[1] - EXTENT[0]) / budget.line_points
    )
    line = np.column_stack([xs, np.full_like(xs, 0.5)])
    return (
        regions.count_regions(regions.patterns(arch, theta, square)),
        regions.count_pieces(regions.patterns(arch, theta, line)),
    )


def run(ctx: Context) -> Report:
    b = QUICK if ctx.quick else FULL
    ctx.say("depth: the constructed sawtooth")
    saw = sawtooth_pieces(b)

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
    target = _equal_parameters(b, ctx)

    # --- claims --------------------------------------------------------------------------------
    exact = all(row["deep_pieces"] == 2**L and row["deep_error"] < 1e-9 for L, row in saw.items())
    shallow_exact = all(
        row["shallow_pieces"] == 2**L and row["shallow_error"] < 1e-6 for L, row in saw.items()
    )
    L_max = max(saw)
    mean_fresh = {D: float(fresh[D][0].mean()) for D in b.depths}
    mean_trained = {D: float(trained[D][0].mean()) for D in b.depths}
    deepest, shallowest = max(b.depths), min(b.depths)
    # Not exponential in depth: the same neurons in 8 layers could cut the plane into far more
    # pieces (the sawtooth shows 2^L from 2 units a layer), yet they make no more than in one.
    fresh_ratio = mean_fresh[deepest] / mean_fresh[shallowest]
    trained_ratio = mean_trained[deepest] / mean_trained[shallowest]
    Ns = np.array(b.neuron_counts, dtype=float)
    counts = np.array([scaling[N].mean() for N in b.neuron_counts])
    slope = float(np.polyfit(np.log(Ns), np.log(counts), 1)[0])
    line_per_neuron = {D: float(fresh[D][1].mean()) / b.neurons for D in b.depths}
    gap, gap_se = target["gap"], target["gap_se"]
    claims = [
        Claim(
            "depth L with 2 units a layer makes 2^L linear pieces (Telgarsky)",
            f"constructed sawtooth, L = {min(saw)}..{L_max}: pieces along x == 2^L, error < 1e-9",
            f"{saw[L_max]['deep_pieces']} pieces at L = {L_max}, {saw[L_max]['deep_units']} units",
            exact,
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
            f"sawtooth L = {b.target_depth} target: median test acc deep - shallow >= 0 (+- 2 "
            "standard errors; straddling 0 is inconclusive)",
            f"{gap:+.3f} +- {gap_se:.3f} (deep {target['deep_median']:.3f}, shallow "
            f"{target['shallow_median']:.3f})",
            at_least(gap, 0.0, gap_se),
        ),
        Claim(
            "fresh networks: regions do not grow exponentially with depth (Hanin & Rolnick)",
            f"{b.neurons} neurons: mean regions at {deepest} layers <= 2 x at {shallowest} layer",
            f"{mean_fresh[deepest]:.0f} vs {mean_fresh[shallowest]:.0f} (ratio {fresh_ratio:.2f})",
            fresh_ratio <= 2,
        ),
        Claim(
            "trained networks: still no exponential growth with depth",
            f"after training: mean regions at {deepest} layers <= 2 x at {shallowest} layer",
            f"{mean_trained[deepest]:.0f} vs {mean_trained[shallowest]:.0f} "
            f"(ratio {trained_ratio:.2f})",
            trained_ratio <= 2,
        ),
        Claim(
            "regions grow like a low power of the neuron count, not exponentially",
            "fresh 2-layer nets: log-log slope of regions against N <= 2 (N^2 for a 2-D input)",
            slope,
            slope <= 2,
        ),
    ]
    names = [
        _regions_figure(ctx, b, fresh, trained_ids, archs),
        _counts_figure(ctx, b, saw, mean_fresh, mean_trained, fresh, trained, scaling, target),
    ]
    numbers = dict(
        sawtooth={str(L): row for L, row in saw.items()},
        fresh_regions={str(D): fresh[D][0] for D in b.depths},
        fresh_line_pieces={str(D): fresh[D][1] for D in b.depths},
        trained_regions={str(D): trained[D][0] for D in b.depths},
        trained_line_pieces={str(D): trained[D][1] for D in b.depths},
        trained_test_acc=trained_acc,
        regions_by_neurons={str(N): scaling[N] for N in b.neuron_counts},
        regions_slope=slope,
        line_pieces_per_neuron=line_per_neuron,
        equal_parameters=target,
        budget=b.__dict__,
    )
    return Report(
        title="Depth: 2^L pieces exist, but trained nets use about as many regions as neurons",
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
        findings=_findings(
            b, saw, mean_fresh, mean_trained, trained_acc, slope, line_per_neuron, target
        ),
        numbers=numbers,
    )


def _equal_parameters(b: Budget, ctx: Context) -> dict:
    """Deep (deep_width x target_depth) and one hidden layer with no fewer parameters, trained on
    points labelled by the sawtooth t^L(x) > 1/2 (2^L stripes across x)."""
    L = b.target_depth
    rng = np.random.default_rng(0)
    X, X_test = rng.random((1000, 2)), rng.random((4000, 2))
    y = (regions.sawtooth(X[:, 0], L) > 0.5).astype(np.int64)
    y_test = (regions.sawtooth(X_test[:, 0], L) > 0.5).astype(np.int64)
    deep = Architecture((b.deep_width,) * L, "relu")
    width = -(-(deep.n_params - 1) // 4)  # one hidden layer: 4 w + 1 parameters
    shallow = Architecture((width,), "relu")
    configs = [
        TrainConfig(hidden=a.hidden, lr=0.01, epochs=b.target_epochs, seed=s)
        for a in (deep, shallow)
        for s in range(b.target_seeds)
    ]
    results = engine.train(
        configs,
        standardize(X),
        y,
        standardize(X_test),
        y_test,
        log_every=b.target_epochs,
        device=ctx.device,
    )
    acc = np.array([r.last("val_acc") for r in results]).reshape(2, b.target_seeds)
    # Standard error of a difference of medians, by the bootstrap over seeds (fixed seed: stable).
    boot = np.random.default_rng(1)
    draws = [
        np.median(boot.choice(acc[0], b.target_seeds))
        - np.median(boot.choice(acc[1], b.target_seeds))
        for _ in range(500)
    ]
    return dict(
        deep_hidden=list(deep.hidden),
        deep_params=deep.n_params,
        shallow_width=width,
        shallow_params=shallow.n_params,
        deep_acc=acc[0],
        shallow_acc=acc[1],
        deep_median=float(np.median(acc[0])),
        shallow_median=float(np.median(acc[1])),
        deep_best=float(acc[0].max()),
        shallow_best=float(acc[1].max()),
        gap=float(np.median(acc[0]) - np.median(acc[1])),
        gap_se=float(np.std(draws)),
    )


def _regions_figure(ctx, b, fresh, trained_ids, archs) -> tuple[str, str]:
    figure = new_figure(13, 4.6, dpi=90)
    axes = figure.subplots(1, 3)
    arch, theta = regions.sawtooth_theta(4)
    saw_ids = regions.patterns(arch, theta, regions.grid(EXTENT, b.cells))[0]
    draw_regions(axes[0], saw_ids.reshape(b.cells, b.cells), EXTENT, "sawtooth, 4 layers x 2 units")
    shallow, deep = min(archs), max(archs)
    for ax, D in zip(axes[1:], (shallow, deep), strict=True):
        ids = trained_ids[D].reshape(b.cells, b.cells)
        layers = f"{D} layer{'s' if D > 1 else ''} of {archs[D].hidden[0]}"
        draw_regions(ax, ids, EXTENT, f"trained, {layers}: {len(np.unique(ids))} regions")
    for ax in axes:
        ax.add_patch(_unit_square())
    figure.suptitle("linear regions over the plane (dashed: the data's unit square)")
    name = save_figure(figure, ctx.path("depth_regions.png")).name
    return (
        name,
        "regions: the constructed sawtooth; trained nets of 1 and 8 layers, equal neurons",
    )


def _unit_square():
    from matplotlib.patches import Rectangle

    return Rectangle((0, 0), 1, 1, fill=False, ls="--", lw=1.2, color="black")


def _counts_figure(ctx, b, saw, mean_fresh, mean_trained, fresh, trained, scaling, target):
    figure = new_figure(17, 4.4, dpi=90)
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
        {"fresh": [mean_fresh[D] for D in depths], "trained": [mean_trained[D] for D in depths]},
        title=f"regions with {b.neurons} neurons in D layers",
        xlabel="hidden layers D",
        ylabel="regions over the plane (mean)",
        logx=True,
        bands={
            "fresh": ([fresh[D][0].min() for D in depths], [fresh[D][0].max() for D in depths]),
            "trained": (
                [trained[D][0].min() for D in depths],
                [trained[D][0].max() for D in depths],
            ),
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
    seeds = np.arange(b.target_seeds)
    draw_lines(
        ax_target,
        seeds,
        {
            f"deep {target['deep_hidden']} ({target['deep_params']} weights)": np.sort(
                target["deep_acc"]
            ),
            f"one layer of {target['shallow_width']} ({target['shallow_params']} weights)": np.sort(
                target["shallow_acc"]
            ),
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


def _findings(b, saw, mean_fresh, mean_trained, trained_acc, slope, line_per_neuron, target) -> str:
    L = max(saw)
    rows = "\n".join(
        f"| {D} x {b.neurons // D} | {mean_fresh[D]:.0f} | {mean_trained[D]:.0f} | "
        f"{line_per_neuron[D]:.2f} | {trained_acc[D]:.3f} |"
        for D in b.depths
    )
    return (
        f"The constructed sawtooth has exactly 2^L pieces: {saw[L]['deep_pieces']} at L = {L} "
        f"from {saw[L]['deep_units']} ReLUs ({saw[L]['deep_params']} weights); one hidden layer "
        f"needs {saw[L]['shallow_units']} ReLUs ({saw[L]['shallow_params']} weights) for the same "
        "function. That is what depth can buy.\n\n"
        "| layers x width | regions, fresh | regions, trained | pieces on a line per neuron, fresh "
        "| trained test acc |\n| --- | --- | --- | --- | --- |\n"
        f"{rows}\n\n"
        "What initialization and training give is different: with the same neurons, deeper nets "
        "have no more regions than one wide layer (here fewer: the default initialization shrinks "
        f"signals layer by layer), and regions grow with the neuron count like N^{slope:.2f}, not "
        "exponentially (for a 2-D input Hanin & Rolnick's bound is of order N^2; along a line, "
        "about N). Trained at equal parameter count on a sawtooth target with "
        f"{2**b.target_depth} stripes, the deep net ({target['deep_hidden']}, "
        f"{target['deep_params']} weights) reached a median test accuracy of "
        f"{target['deep_median']:.3f} (best {target['deep_best']:.3f}) against "
        f"{target['shallow_median']:.3f} (best {target['shallow_best']:.3f}) for one layer of "
        f"{target['shallow_width']}. So for the book's claim that four or more layers capture "
        "patterns shallow nets cannot: true of what the weights *can* express (the sawtooth), "
        "but gradient descent from a random start uses only a small part of it; in 2-D a wide "
        "single layer has as many regions as a deep net of the same size."
    )
