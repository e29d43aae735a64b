"""Experiment `landscape`: why training a non-convex network works at all.

The book's overview: the loss of a network is full of local minima, plateaus and saddle points, yet
gradient descent from almost any start reaches equally good solutions. Four published views of
that, each measured in the plane:

1. Many starts (Safran & Shamir 2018; Du et al. 2019): hundreds of random initializations per width
   trained as one population on labels of a planted 4-unit teacher; the share that reaches >= 99%
   training accuracy grows with width (narrow nets get stuck, wide ones almost never).
2. Init to solution (Goodfellow, Vinyals & Saxe 2015): the loss along the straight line from a
   run's initialization to its solution falls monotonically for most runs.
3. Mode connectivity (Garipov et al. 2018; Draxler et al. 2018): two solutions from different seeds
   are separated by a loss barrier on the straight line between them, but a quadratic Bezier curve
   between them, its bend trained, has almost none.
4. Saddles (Dauphin et al. 2014): the whole Hessian of a small net on the early plateau has clearly
   negative eigenvalues; at the end of training almost none.
And a picture: a 2-D slice of the loss around a solution along filter-normalized random directions
(Li et al. 2018).

Not here: lines, Bezier curves, barriers and slices in weight space (`experiments/weight_space.py`),
the Hessian and the loss of theta (`experiments/hessian.py`), the drawing (`plots/landscape.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from pointlab import engine, generators
from pointlab.config import TrainConfig
from pointlab.engine.models import Architecture, init_theta, theta_from_states
from pointlab.experiments import hessian, weight_space
from pointlab.experiments.base import (
    Claim,
    Context,
    Report,
    at_least,
    binomial_se,
    follow,
    mean_at_least,
    mean_at_most,
    standard_error,
)
from pointlab.experiments.members import standardize
from pointlab.plots.landscape import draw_spectra, draw_surface
from pointlab.plots.regions import draw_lines
from pointlab.plots.save import new_figure, save_figure

NAME = "landscape"
HIDDEN = (16, 16)  # small enough for its whole Hessian (337 weights)
TEACHER_UNITS = 4


@dataclass(frozen=True)
class Budget:
    widths: tuple[int, ...]  # one hidden layer, for the many starts
    starts: int  # initializations per width
    starts_epochs: int
    runs: int  # runs of HIDDEN for the paths (pairs: runs // 2)
    epochs: int
    curve_steps: int  # Adam steps that train each Bezier bend
    snapshots: tuple[int, ...]  # epochs at which the whole Hessian is taken
    spectrum_seeds: int  # runs whose Hessians are taken at every snapshot
    surface: int  # grid points per side of the 2-D slice


QUICK = Budget(
    widths=(4, 16, 64),
    starts=60,
    starts_epochs=600,
    runs=8,
    epochs=600,
    curve_steps=300,
    snapshots=(0, 10, 25, 100, 600),
    spectrum_seeds=3,
    surface=21,
)
FULL = Budget(
    widths=(2, 4, 8, 16, 32, 64, 128),
    starts=200,
    starts_epochs=2000,
    runs=20,
    epochs=2000,
    curve_steps=1500,
    snapshots=(0, 5, 10, 25, 50, 100, 250, 500, 1000, 2000),
    spectrum_seeds=5,
    surface=41,
)


def teacher_data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points in the standardized square labelled by a random ReLU net of TEACHER_UNITS units,
    thresholded at its median (balanced classes): a width-4 student can fit them exactly."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.7, 1.7, (n, 2))
    W, b, v = (
        rng.normal(size=(2, TEACHER_UNITS)),
        0.5 * rng.normal(size=TEACHER_UNITS),
        rng.normal(size=TEACHER_UNITS),
    )
    out = np.maximum(X @ W + b, 0) @ v
    return X.astype(np.float32), (out > np.median(out)).astype(np.int64)


# --- 1. many starts ------------------------------------------------------------------------------
def many_starts(b: Budget, device: str) -> dict[int, np.ndarray]:
    """Best training accuracy of every start, per width (one population per width)."""
    X, y = teacher_data()
    configs = [
        TrainConfig(hidden=(w,), lr=0.01, epochs=b.starts_epochs, seed=s)
        for w in b.widths
        for s in range(b.starts)
    ]
    results = engine.train(configs, X, y, log_every=max(1, b.starts_epochs // 20), device=device)
    acc = np.array([r.best("train_acc") for r in results]).reshape(len(b.widths), b.starts)
    return dict(zip(b.widths, acc, strict=True))


# --- 2, 3. paths (their geometry: weight_space.py) -----------------------------------------------
def paths(b: Budget, device: str) -> dict:
    train = generators.make("curve", n=200, noise=0.0, seed=0)
    X, y = standardize(train.X), train.y
    arch = Architecture(HIDDEN, "relu")
    configs = [TrainConfig(hidden=HIDDEN, lr=0.01, epochs=b.epochs, seed=s) for s in range(b.runs)]
    results = engine.train(configs, X, y, log_every=b.epochs, device=device)
    start = init_theta(arch, list(range(b.runs))).double()  # the engine's own initialization
    end = theta_from_states(arch, [r.final_state for r in results]).double()
    ts = np.linspace(0, 1, 51)

    def loss(thetas: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return hessian.member_loss(arch, thetas, X, y).numpy()

    to_solution = np.array(
        [loss(weight_space.interpolate(start[m], end[m], ts)) for m in range(b.runs)]
    )
    steps = np.diff(to_solution, axis=1)  # (runs, T - 1)
    rises = steps.max(1)  # (runs,) largest rise along each line
    rise_at = ts[1:][steps.argmax(1)]  # (runs,) where along the line it ends
    pairs = [(2 * i, 2 * i + 1) for i in range(b.runs // 2)]
    line, curve = [], []
    for i, (p, q) in enumerate(pairs):
        line.append(loss(weight_space.interpolate(end[p], end[q], ts)))
        bend = weight_space.train_bend(arch, end[p], end[q], X, y, b.curve_steps, seed=i)
        curve.append(loss(weight_space.bezier(end[p], bend, end[q], ts)))
    return dict(
        ts=ts,
        to_solution=to_solution,
        rises=rises,
        rise_at=rise_at,
        line=np.array(line),
        curve=np.array(curve),
        final_loss=end_loss(results),
        final_acc=np.array([r.last("train_acc") for r in results]),
        solution=end[0],
        arch=arch,
        X=X,
        y=y,
    )


def end_loss(results) -> np.ndarray:
    return np.array([r.last("train_loss") for r in results])


# --- 4. saddles ----------------------------------------------------------------------------------
def spectra(b: Budget, device: str) -> dict:
    """The whole Hessian's eigenvalues at each snapshot of `spectrum_seeds` runs: members with the
    same seed and different epoch counts in one population are that run's snapshots. Returns seed
    0's eigenvalues (snapshots, P) and loss (snapshots,) for the picture, and every seed's
    negative share (seeds, snapshots) for the verdicts."""
    train = generators.make("curve", n=200, noise=0.0, seed=0)
    X, y = standardize(train.X), train.y
    arch = Architecture(HIDDEN, "relu")
    seeds, snaps = range(b.spectrum_seeds), b.snapshots
    configs = [TrainConfig(hidden=HIDDEN, lr=0.01, epochs=e, seed=s) for s in seeds for e in snaps]
    results = engine.train(configs, X, y, log_every=max(snaps), device=device)
    theta = theta_from_states(arch, [r.final_state for r in results])  # (seeds * snapshots, P)
    eig = np.array([hessian.spectrum(arch, row, X, y) for row in theta])
    with torch.no_grad():
        loss = hessian.member_loss(arch, theta[: len(snaps)].double(), X, y).numpy()
    # Share of the spectrum's absolute mass that is negative: 0 at a minimum, about 1/2 where
    # curvature points every way.
    negative = np.array([np.abs(e[e < 0]).sum() / np.abs(e).sum() for e in eig])
    return dict(
        epochs=list(snaps),
        eigenvalues=eig[: len(snaps)],
        loss=loss,
        negative_mass=negative[: len(snaps)],
        negative_by_seed=negative.reshape(len(seeds), len(snaps)),
    )


def run(ctx: Context) -> Report:
    b = QUICK if ctx.quick else FULL
    # --seeds raises the full version's runs (paths: pairs of them) and Hessian runs
    b = replace(b, runs=ctx.seed_count(b.runs), spectrum_seeds=ctx.seed_count(b.spectrum_seeds))
    ctx.say(f"landscape: {b.starts} starts per width, widths {list(b.widths)}")
    starts = many_starts(b, ctx.device)
    ctx.say("landscape: straight lines and trained Bezier curves")
    p = paths(b, ctx.device)
    ctx.say("landscape: Hessian spectra over training")
    s = spectra(b, ctx.device)
    alphas, slice_loss = weight_space.surface(p["arch"], p["solution"], p["X"], p["y"], b.surface)

    share = {w: float(np.mean(a >= 0.99)) for w, a in starts.items()}
    narrow, wide = min(b.widths), max(b.widths)
    at_teacher = share.get(TEACHER_UNITS, share[narrow])
    stuck_se = float(
        np.hypot(binomial_se(at_teacher, b.starts), binomial_se(share[wide], b.starts))
    )
    # "Monotone": no rise along the line larger than 1e-4 (float noise on a flat stretch)
    monotone = float(np.mean(p["rises"] <= 1e-4))
    line_barriers = np.array([weight_space.barrier(path, p["ts"]) for path in p["line"]])
    curve_barriers = np.array([weight_space.barrier(c, p["ts"]) for c in p["curve"]])
    early = 1  # the first snapshot after the start: on the plateau (loss still near log 2)
    early_neg, end_neg = s["negative_by_seed"][:, early], s["negative_by_seed"][:, -1]  # (seeds,)
    claims = [
        Claim(
            "wide nets almost never get stuck",
            f"share of {b.starts} starts reaching >= 99% train acc at width {wide} >= 0.9 "
            "(95% normal interval, binomial standard error)",
            f"{share[wide]:.3f} +- {binomial_se(share[wide], b.starts):.3f}",
            at_least(share[wide], 0.9, binomial_se(share[wide], b.starts), math.inf),
        ),
        Claim(
            "narrow nets often do, even where they can fit",
            f"share at width {wide} - share at width {TEACHER_UNITS} (the teacher's) >= 0.5 "
            "(95% normal interval, binomial standard error)",
            f"{share[wide] - at_teacher:.2f} +- {stuck_se:.2f} ({at_teacher:.2f} vs "
            f"{share[wide]:.2f})",
            at_least(share[wide] - at_teacher, 0.5, stuck_se, math.inf),
        ),
        Claim(
            "the loss falls monotonically from init to solution for most runs (Goodfellow et al.)",
            f"share of {b.runs} runs whose loss never rises by > 1e-4 along the line >= 0.75 "
            "(95% normal interval, binomial standard error)",
            f"{monotone:.3f} +- {binomial_se(monotone, b.runs):.3f}",
            at_least(monotone, 0.75, binomial_se(monotone, b.runs), math.inf),
        ),
        Claim(
            "the straight line between two solutions has a barrier",
            "every pair: barrier of the line > 0.1 (loss above the ends' interpolation)",
            f"min {line_barriers.min():.3f}",
            bool(line_barriers.min() > 0.1),
        ),
        Claim(
            "a trained Bezier curve between them has almost none (Garipov et al.)",
            "every pair: curve barrier < 0.1 x line barrier",
            f"max ratio {np.max(curve_barriers / line_barriers):.3f}",
            bool(np.all(curve_barriers < 0.1 * line_barriers)),
        ),
        Claim(
            "on the early plateau the Hessian has clearly negative eigenvalues (Dauphin et al.)",
            f"epoch {b.snapshots[early]}: negative share of |eigenvalue| mass >= 0.1 (mean of "
            f"{b.spectrum_seeds} runs, 95% t interval)",
            f"{early_neg.mean():.3f} +- {standard_error(early_neg):.3f}",
            mean_at_least(early_neg, 0.1),
        ),
        Claim(
            "at the end almost none",
            f"epoch {b.snapshots[-1]}: negative share <= 0.01 (mean of {b.spectrum_seeds} runs "
            "95% t interval)",
            f"{end_neg.mean():.4f} +- {standard_error(end_neg):.4f}",
            mean_at_most(end_neg, 0.01),
        ),
    ]
    name = _figure(ctx, b, share, starts, p, s, alphas, slice_loss)
    return Report(
        title="The loss landscape: why training a non-convex network works",
        claim=(
            "Safran & Shamir 2018 (*Spurious local minima are common in two-layer ReLU neural "
            "networks*) and Du et al. 2019 (*Gradient descent provably optimizes "
            "over-parameterized neural networks*): narrow nets get stuck, wide ones almost never. "
            "Goodfellow, Vinyals & Saxe 2015 (*Qualitatively characterizing neural network "
            "optimization problems*): the loss falls monotonically on the line from the "
            "initialization to the solution. Garipov et al. 2018 (*Loss surfaces, mode "
            "connectivity, and fast ensembling of DNNs*) and Draxler et al. 2018 (*Essentially no "
            "barriers in neural network energy landscape*): solutions are joined by simple curves "
            "of low loss. Dauphin et al. 2014 (*Identifying and attacking the saddle point "
            "problem*): plateaus are saddles, with negative curvature. Li et al. 2018 "
            "(*Visualizing the loss landscape of neural nets*): filter-normalized slices."
        ),
        method=_method(b),
        claims=claims,
        figures=[
            (name, "success against width, paths between solutions, Hessian spectra, a 2-D slice")
        ],
        findings=_findings(b, claims, share, monotone, p, line_barriers, curve_barriers, s),
        numbers=dict(
            success_share=share,
            best_train_acc={str(w): a for w, a in starts.items()},
            monotone_share=monotone,
            largest_rise=p["rises"],
            largest_rise_at=p["rise_at"],
            line_barriers=line_barriers,
            curve_barriers=curve_barriers,
            final_train_acc=p["final_acc"],
            snapshots=list(b.snapshots),
            snapshot_loss=s["loss"],
            negative_mass=s["negative_mass"],
            negative_mass_by_seed=s["negative_by_seed"],
            min_eigenvalue=s["eigenvalues"][:, 0],
            max_eigenvalue=s["eigenvalues"][:, -1],
            budget=b.__dict__,
        ),
    )


def _figure(ctx, b, share, starts, p, s, alphas, slice_loss) -> str:
    figure = new_figure(13, 10, dpi=90, h_pad=0.12)
    (ax_surface, ax_paths), (ax_width, ax_eig) = figure.subplots(2, 2)
    draw_surface(ax_surface, alphas, slice_loss, "loss around a solution (filter-normalized slice)")
    ts = p["ts"]
    series = {
        "init -> solution (mean)": p["to_solution"].mean(0),
        "solution A -> B, straight (mean)": p["line"].mean(0),
        "solution A -> B, Bezier curve (mean)": p["curve"].mean(0),
    }
    draw_lines(
        ax_paths,
        ts,
        series,
        title="training loss along paths (log scale)",
        xlabel="position t along the path",
        ylabel="training loss",
        logy=True,
        styles=dict.fromkeys(series, "-"),
        bands={
            "init -> solution (mean)": (p["to_solution"].min(0), p["to_solution"].max(0)),
            "solution A -> B, straight (mean)": (p["line"].min(0), p["line"].max(0)),
        },
    )
    widths = list(b.widths)
    draw_lines(
        ax_width,
        widths,
        {
            f"share of {b.starts} starts >= 99% train acc": [share[w] for w in widths],
            "median best train acc": [float(np.median(starts[w])) for w in widths],
        },
        title=f"many starts: a planted {TEACHER_UNITS}-unit teacher",
        xlabel="hidden width",
        ylabel="share / accuracy",
        logx=True,
    )
    ax_width.axvline(TEACHER_UNITS, color="grey", ls=":", lw=1)
    draw_spectra(ax_eig, s["epochs"], s["eigenvalues"], s["negative_mass"])
    figure.suptitle("the loss landscape of small ReLU nets in 2-D")
    return save_figure(figure, ctx.path("landscape.png")).name


def _method(b: Budget) -> str:
    return (
        f"Many starts: 200 points uniform in [-1.7, 1.7]^2 labelled by a random ReLU teacher with "
        f"{TEACHER_UNITS} hidden units (thresholded at its median); students with one hidden "
        f"layer of {list(b.widths)} units, {b.starts} seeds each, Adam lr 0.01, full batch, "
        f"{b.starts_epochs} epochs; success: best training accuracy >= 99%. Paths, curves, "
        f"spectra and slice: the book's curve without label flips, 200 points, inputs "
        f"standardized; MLP {HIDDEN} ReLU ({Architecture(HIDDEN, 'relu').n_params} weights), Adam "
        f"lr 0.01, full batch, {b.epochs} epochs, {b.runs} seeds; the loss is the training "
        "cross-entropy, in float64, evaluated at 51 points per path. Bezier bends: the "
        f"midpoint of the line, then {b.curve_steps} Adam steps (lr 0.01) on the loss averaged "
        "over 8 random t per step (Garipov et al.'s method); barriers: the largest height of a "
        "path's loss above the straight interpolation of its end losses. Spectra: the whole "
        f"Hessian (torch.func.hessian) of seeds 0 to {b.spectrum_seeds - 1} at epochs "
        f"{list(b.snapshots)} (table and picture: seed 0; verdicts: all seeds). Slice: two "
        "Gaussian directions, each unit's incoming weights scaled to that unit's norm in the "
        f"solution, biases zero; {b.surface} x {b.surface} points in [-1, 1]^2."
    )


def _rises(p: dict) -> str:
    """Where and how much the loss rises on the lines from initialization to solution."""
    rising = p["rises"] > 1e-4
    if not rising.any():
        return ""
    start, end = p["to_solution"][:, 0].mean(), p["to_solution"][:, -1].mean()
    return (
        f"Where it rises, the rise is small against the fall from {start:.3f} to {end:.4f} (median "
        f"{np.median(p['rises'][rising]):.3g}, largest {p['rises'].max():.3g}) and ends at "
        f"t = {np.median(p['rise_at'][rising]):.2f} along the line (median)."
    )


def _findings(b, claims, share, monotone, p, line_barriers, curve_barriers, s) -> str:
    wide_ok, narrow_stuck, falls, barrier_line, low_curve, saddle, minimum = claims
    rows = "\n".join(f"| {w} | {share[w]:.2f} |" for w in b.widths)
    spec = "\n".join(
        f"| {e} | {loss:.4f} | {eig[0]:.3g} | {eig[-1]:.3g} | {neg:.4f} |"
        for e, loss, eig, neg in zip(
            s["epochs"], s["loss"], s["eigenvalues"], s["negative_mass"], strict=True
        )
    )
    starts = follow(
        narrow_stuck,
        f"A width-{TEACHER_UNITS} student can fit the teacher's labels exactly, yet gradient "
        "descent from a random start often misses that fit",
        f"A width-{TEACHER_UNITS} student, which can fit the teacher's labels exactly, is not "
        "stuck much more often than the widest net here",
        f"Whether width-{TEACHER_UNITS} students get stuck much more often than wide ones, "
        f"{b.starts} starts cannot settle",
    ) + follow(
        wide_ok,
        "; with many more units than needed almost every start succeeds, as the "
        "over-parameterization results predict.",
        "; but even the widest net fails from many starts, against the over-parameterization "
        "results.",
        "; whether almost every start of the widest net succeeds, these starts cannot settle.",
    )
    monotone_words = follow(
        falls,
        "most runs fall monotonically, as Goodfellow et al. saw",
        "fewer than three in four runs fall monotonically, unlike Goodfellow et al.'s nets",
        "the runs cannot settle whether most fall monotonically",
    )
    paths = follow(
        low_curve,
        "the solutions are connected by a valley, not isolated minima",
        "a trained curve does not remove the barrier here: these solutions are not joined by a "
        "valley this budget finds",
    )
    if not barrier_line.passed:
        paths += " (but not every straight line has a barrier to remove)"
    curvature = follow(
        saddle,
        "On the plateau at the start the curvature points both ways (a saddle region)",
        "On the early plateau the negative part of the spectrum is small, not the saddle "
        "Dauphin et al. describe",
    ) + follow(
        minimum,
        "; as the loss falls, the negative part of the spectrum vanishes while the top "
        "eigenvalue grows.",
        "; and negative curvature remains at the end of training: the runs stop short of a "
        "minimum.",
    )
    return (
        f"| width | share reaching 99% |\n| --- | --- |\n{rows}\n\n{starts}\n\n"
        f"Init to solution: {monotone:.0%} of {b.runs} runs fall monotonically along the straight "
        f"line: {monotone_words}. {_rises(p)} Between two solutions the "
        f"straight line rises by {line_barriers.mean():.3f} on average above its ends; the "
        f"trained Bezier curve by {curve_barriers.mean():.4f}: {paths}. (Training reached train "
        f"acc {p['final_acc'].min():.3f} or better.)\n\n"
        "| epoch | training loss | smallest eigenvalue | largest | negative share |\n"
        f"| --- | --- | --- | --- | --- |\n{spec}\n\n"
        f"(Seed 0; the verdicts average {b.spectrum_seeds} runs.) {curvature} In 2-D with 337 "
        "weights this is seen with the whole Hessian, not estimates."
    )
