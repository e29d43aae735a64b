"""Experiment `data-requirements`: learning curves, test error against training-set size.

Hestness et al. 2017, "Deep learning scaling is predictable, empirically": past a small-data
region where a model can only guess, the generalization error falls as a power law of the
training-set size n, error = a n^(-b) + c, down to an irreducible floor c; a larger model is
needed to stay on the curve as n grows. Here: the spiral (two arms, noisy points, 5% of labels
replaced at random, so the floor is not zero), a small MLP (one hidden layer of 8) and a large
one (two of 64), each trained on nested training sets of 16 points and more, doubling, for
several seeds. Each seed draws its own training set (its first n points at every size), and
the small and large model of one seed see the same points, so their differences are paired by
seed. Per size and model one engine population (seeds as members, each on its own indices).

The fit: a n^(-b) + c by least squares on log error, c profiled over a grid and (log a, b) by
linear least squares at each c. Fitting log error weighs a halving at n = 4,096 as much as one at
n = 32, as a log-log plot shows them, and keeps the few large errors of the small-data end from
dominating. With c free, a model whose error stops falling (the small one, at the capacity of
8 units) is not mistaken for a shallow power law: its floor goes into c. Exponents per seed take
their model's c from the fit of the mean curve, so their spread over seeds gives the verdict.

Not here: the verdict statistics (`experiments/base.py`), training (`pointlab.engine`), drawing
(`pointlab.plots.save`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from pointlab import engine, generators
from pointlab.config import TrainConfig
from pointlab.engine.models import Architecture
from pointlab.experiments.base import (
    Claim,
    Context,
    Report,
    at_least,
    at_most,
    follow,
    t_quantile,
)
from pointlab.experiments.base import standard_error as se
from pointlab.experiments.members import standardize

NAME = "data-requirements"
MODELS = {"small": (16,), "large": (64, 64)}
DATA = ("spiral", dict(noise=0.03, label_noise=0.05))
R2_LIMIT = 0.9


@dataclass(frozen=True)
class Budget:
    sizes: tuple[int, ...]  # training-set sizes, nested per seed
    seeds: int
    epochs: int  # full-batch Adam epochs at every size
    n_test: int
    fit_from: int  # the smallest size in the fit: below it the small-data region


QUICK = Budget(sizes=(16, 32, 64, 128, 256, 512, 1024), seeds=4, epochs=600, n_test=2000,
               fit_from=32)  # fmt: skip
FULL = Budget(sizes=(16, 32, 64, 128, 256, 512, 1024, 2048, 4096), seeds=8, epochs=1500,
              n_test=4000, fit_from=32)  # fmt: skip


def learning_curves(b: Budget, device: str) -> dict[str, dict[str, np.ndarray]]:
    """Test and training error (seeds, sizes) of each model: one population per size and model,
    member s trained on the first n points of seed s's own training set."""
    n_max = max(b.sizes)
    pools = [generators.make(DATA[0], n=n_max, **DATA[1], seed=100 + s) for s in range(b.seeds)]
    test = generators.make(DATA[0], n=b.n_test, **DATA[1], seed=1)
    X = standardize(np.concatenate([p.X for p in pools] + [test.X]))
    y = np.concatenate([p.y for p in pools] + [test.y])
    test_index = np.arange(b.seeds * n_max, len(y))
    out: dict[str, dict[str, np.ndarray]] = {}
    for model, hidden in MODELS.items():
        test_error, train_error = np.zeros((2, b.seeds, len(b.sizes)))  # (seeds, sizes) each
        for j, n in enumerate(b.sizes):
            configs = [
                TrainConfig(hidden=hidden, lr=0.01, epochs=b.epochs, seed=s, standardize=False)
                for s in range(b.seeds)
            ]
            results = engine.train_population(
                configs,
                X,
                y,
                train_index=[s * n_max + np.arange(n) for s in range(b.seeds)],
                val_index=[test_index] * b.seeds,
                device=device,
                log_every=b.epochs,
            )
            test_error[:, j] = [1 - r.last("val_acc") for r in results]
            train_error[:, j] = [1 - r.last("train_acc") for r in results]
        out[model] = {"test": test_error, "train": train_error}
    return out


def power_law_fit(n: np.ndarray, error: np.ndarray) -> dict[str, float]:
    """error ~ a n^(-b) + c by least squares on log error: c over a grid in [0, min error),
    (log a, b) by a straight line through (log n, log(error - c)) at each c. Returns a, b, c and
    r2, the share of the variance of log error the fit explains."""
    log_n, log_e = np.log(n), np.log(error)
    best: dict[str, float] = {}
    for c in np.linspace(0.0, 0.98 * float(error.min()), 197):
        slope, log_a = np.polyfit(log_n, np.log(error - c), 1)
        residual = float(np.sum((np.log(np.exp(log_a) * n**slope + c) - log_e) ** 2))
        if not best or residual < best["residual"]:
            best = dict(a=float(np.exp(log_a)), b=float(-slope), c=float(c), residual=residual)
    total = float(np.sum((log_e - log_e.mean()) ** 2))
    best["r2"] = 1 - best["residual"] / total if total > 0 else 0.0
    return best


def seed_exponents(n: np.ndarray, error: np.ndarray, c: float) -> np.ndarray:
    """(seeds,) exponent b of each seed's curve error (seeds, sizes), its floor fixed at c: the
    slope of log(error - c) against log n. A seed can end below its model's floor; error - c is
    kept above 1e-4, below the resolution of a test set of 4,000 points."""
    reducible = np.log(np.maximum(error - c, 1e-4))
    return np.array([-np.polyfit(np.log(n), row, 1)[0] for row in reducible])


def crossover(sizes: tuple[int, ...], diff: np.ndarray) -> int | None:
    """The smallest size from which the large model is better at every size on (paired
    difference large - small, (seeds, sizes), below 0 by its 95% t interval); None if none."""
    better = [at_most(float(d.mean()), 0.0, se(d), len(d) - 1) is True for d in diff.T]
    for j in range(len(sizes)):
        if all(better[j:]):
            return sizes[j]
    return None


def run(ctx: Context) -> Report:
    b = QUICK if ctx.quick else FULL
    b = replace(b, seeds=ctx.seed_count(b.seeds))  # --seeds raises the full version's seeds
    ctx.say(f"data-requirements: {len(b.sizes)} sizes x {b.seeds} seeds x 2 models")
    curves = learning_curves(b, ctx.device)
    n = np.array(b.sizes, dtype=float)
    fit = n >= b.fit_from
    fits = {m: power_law_fit(n[fit], c["test"].mean(0)[fit]) for m, c in curves.items()}
    exponents = {
        m: seed_exponents(n[fit], c["test"][:, fit], fits[m]["c"]) for m, c in curves.items()
    }
    diff = curves["large"]["test"] - curves["small"]["test"]  # (seeds, sizes), paired by seed
    steeper = exponents["large"] - exponents["small"]  # (seeds,), paired by seed
    df = b.seeds - 1
    first, last = diff[:, 0], diff[:, -1]
    claims = [_power_law_claim(m, b, fits[m], exponents[m]) for m in MODELS]
    claims += [
        Claim(
            "at the smallest size the large model does not pay (the small-data region)",
            f"n = {b.sizes[0]}: test error large - small >= -0.02 (paired by seed, 95% t interval)",
            f"{first.mean():+.3f} +- {se(first):.3f}",
            at_least(float(first.mean()), -0.02, se(first), df),
        ),
        Claim(
            "at the largest size the large model is better",
            f"n = {b.sizes[-1]}: test error large - small <= -0.02 (paired by seed, 95% t "
            "interval)",
            f"{last.mean():+.3f} +- {se(last):.3f}",
            at_most(float(last.mean()), -0.02, se(last), df),
        ),
        Claim(
            "the large model's error falls more steeply",
            f"exponent b, large - small >= 0 (each seed's curve over n >= {b.fit_from}, floor c "
            "from its model's fit; paired by seed, 95% t interval)",
            f"{steeper.mean():+.2f} +- {se(steeper):.2f}",
            at_least(float(steeper.mean()), 0.0, se(steeper), df),
        ),
    ]
    cross = crossover(b.sizes, diff)
    numbers = dict(
        sizes=list(b.sizes),
        seeds=b.seeds,
        fit_from=b.fit_from,
        **{f"{m}_test_error": c["test"] for m, c in curves.items()},
        **{f"{m}_train_error": c["train"] for m, c in curves.items()},
        **{f"{m}_fit": fits[m] for m in MODELS},
        **{f"{m}_seed_exponents": exponents[m] for m in MODELS},
        crossover=cross,
    )
    return Report(
        title="Data requirements: learning curves and where a larger model pays",
        claim=(
            "Hestness et al. 2017, *Deep learning scaling is predictable, empirically*: beyond a "
            "small-data region where models can only guess, generalization error falls as a "
            "power law of the training-set size, error = a n^(-b) + c, towards an irreducible "
            "error c; larger models are needed to stay on that curve as the data grow. The book's "
            "fundamentals: deep learning needs a lot of data."
        ),
        method=_method(b),
        claims=claims,
        figures=[_figure(ctx, b, curves, fits, diff, cross)],
        findings=_findings(b, claims, curves, fits, diff, cross),
        numbers=numbers,
    )


def _power_law_claim(model: str, b: Budget, fit: dict[str, float], exponents) -> Claim:
    mean, error = float(exponents.mean()), se(exponents)
    held = at_least(mean, 0.0, error, len(exponents) - 1) if fit["r2"] >= R2_LIMIT else False
    return Claim(
        f"{model} model: error falls as a power law in n (Hestness et al.)",
        f"a n^(-b) + c fitted to log mean test error over n >= {b.fit_from}: R^2 >= {R2_LIMIT}; "
        "and each seed's exponent b > 0 (95% t interval)",
        f"R^2 {fit['r2']:.3f}, b {fit['b']:.2f}, c {fit['c']:.3f}; seeds' b {mean:.2f} +- "
        f"{error:.2f}",
        held,
    )


def _method(b: Budget) -> str:
    data, kwargs = DATA
    arch = {m: Architecture(h, "relu").n_params for m, h in MODELS.items()}
    return (
        f"Data: `{data}` ({', '.join(f'{k} {v}' for k, v in kwargs.items())}), inputs "
        f"standardized; a fresh test set of {b.n_test} points from the same distribution. "
        f"Training sets of n = {', '.join(map(str, b.sizes))} points: seed s draws "
        f"{max(b.sizes)} points and trains on its first n, so the sets are nested and the two "
        "models of one seed see the same points. Models: "
        + ", ".join(f"{m} MLP {list(MODELS[m])} ReLU ({arch[m]} weights)" for m in MODELS)
        + f"; Adam lr 0.01, full batch, {b.epochs} epochs at every size, {b.seeds} seeds; one "
        "engine population per size and model. Fit: a n^(-b) + c on log error over "
        f"n >= {b.fit_from} (below it, the small-data region), c profiled over a grid, "
        "(log a, b) by least squares; each seed's exponent with its model's c."
    )


def _findings(b: Budget, claims, curves, fits, diff, cross) -> str:
    rows = "\n".join(
        f"| {n} | {curves['small']['test'][:, j].mean():.3f} | "
        f"{curves['large']['test'][:, j].mean():.3f} | {diff[:, j].mean():+.3f} +- "
        f"{se(diff[:, j]):.3f} | {curves['large']['train'][:, j].mean():.3f} |"
        for j, n in enumerate(b.sizes)
    )
    small, large = fits["small"], fits["large"]
    where = (
        f"The large model is better, by its 95% interval, from n = {cross} on."
        if cross is not None
        else "At no size from which on it stays better can the seeds tell the large model better."
    )
    return (
        "| n | small: test error | large: test error | large - small | large: train error |\n"
        "| --- | --- | --- | --- | --- |\n"
        f"{rows}\n\n"
        f"Fits over n >= {b.fit_from}: small {small['a']:.2f} n^-{small['b']:.2f} + "
        f"{small['c']:.3f} (R^2 {small['r2']:.3f}); large {large['a']:.2f} n^-{large['b']:.2f} + "
        f"{large['c']:.3f} (R^2 {large['r2']:.3f}). {where} "
        + follow(
            claims[2],
            "At the smallest size both models mostly guess, and the larger one buys nothing. ",
            "Even at the smallest size the larger model is already better: in 2-D, a wide "
            "network trained by Adam does not pay for its size on few points, as the classical "
            "picture of overfitting would have it. ",
            "Whether the larger model already pays at the smallest size, these seeds cannot tell. ",
        )
        + follow(
            claims[4],
            f"The small model's error falls with exponent {small['b']:.2f} against the large "
            f"one's {large['b']:.2f}: with {MODELS['small'][0]} units it has too little capacity "
            "to use more data, which is why larger models are needed to stay on the curve.",
            "The exponents do not tell the models apart: Hestness et al. found the exponent a "
            "property of the task, the model size shifting the curve.",
            "Whether the large model's error falls more steeply, these seeds cannot tell.",
        )
    )


def _figure(ctx: Context, b: Budget, curves, fits, diff, cross) -> tuple[str, str]:
    from pointlab.plots.lines import Panel, Series, plot_panels
    from pointlab.plots.palette import LINE_COLOURS

    n = np.array(b.sizes, dtype=float)
    dense = np.geomspace(b.fit_from, n.max(), 60)
    series = []
    for (model, c), colour in zip(curves.items(), LINE_COLOURS, strict=False):
        f, test = fits[model], c["test"]
        series += [
            Series(f"{model} {list(MODELS[model])}: test", n, test.mean(0), "o", colour),
            Series(
                f"fit {f['a']:.2f} n^-{f['b']:.2f} + {f['c']:.3f}",
                dense,
                f["a"] * dense ** -f["b"] + f["c"],
                "-",
                colour,
            ),
        ]
    half = np.array([t_half(d) for d in diff.T])
    marks = [(float(cross), f"large better from n = {cross}")] if cross is not None else []
    panels = [
        Panel(
            "Test error against training-set size",
            "training points n",
            "error (log)",
            series,
            logx=True,
            logy=True,
            vlines=marks,
        ),  # fmt: skip
        Panel(
            "Large minus small, paired by seed (95% t interval)",
            "training points n",
            "test error, large - small",
            [
                Series(
                    "large - small",
                    n,
                    diff.mean(0),
                    "o-",
                    LINE_COLOURS[2],
                    band=(diff.mean(0) - half, diff.mean(0) + half),
                ),  # fmt: skip
                Series("", n, np.zeros_like(n), "--", "grey"),
            ],
            logx=True,
            vlines=marks,
        ),
    ]
    title = f"Learning curves on `{DATA[0]}`: {b.seeds} seeds per size (Hestness et al. 2017)"
    plot_panels(ctx.path("data_requirements.png"), title, panels)
    return (
        "data_requirements.png",
        "Left: mean test error (dots) and the power-law fits (lines) against the training-set "
        "size, log-log. Right: the large model's test error minus the "
        "small one's, paired by seed, with its 95% t interval.",
    )


def t_half(values: np.ndarray) -> float:
    """Half the width of the 95% t interval of the mean of `values`."""
    return float(t_quantile(len(values) - 1) * se(values))
