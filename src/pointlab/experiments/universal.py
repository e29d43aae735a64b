"""Experiment `universal`: one hidden layer approximates a fixed 2-D target ever better as it
widens, but a fixed training budget stops keeping up.

Claim: Cybenko 1989 ("Approximation by superpositions of a sigmoidal function"): a single hidden
layer of enough units approximates any continuous function on a compact set. The theorem is about
existence; it says nothing about finding the weights. Here, on the book's curve boundary
(`curve`, no label noise): (1) random hidden ReLU features of width N with only the output layer
fitted by least squares (float64), the existence side; (2) the same widths trained end to end on
the engine with plain SGD at one fixed learning rate and epoch budget (one `train` call).

Not here: training (`pointlab.engine`), the drawing (`pointlab.plots.lines`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pointlab import engine, generators
from pointlab.config import TrainConfig
from pointlab.experiments.base import Claim, Context, Report, follow
from pointlab.plots.lines import Panel, Series, plot_panels

NAME = "universal"


@dataclass(frozen=True)
class Budget:
    """Training points, hidden widths, epochs and learning rate of the trained nets, seeds."""

    n: int
    widths: tuple[int, ...]
    epochs: int
    lr: float
    seeds: int


FULL = Budget(
    n=1000, widths=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024), epochs=1000, lr=0.5, seeds=2
)
QUICK = Budget(n=600, widths=(2, 16, 256), epochs=300, lr=0.5, seeds=1)


def random_feature_error(X, y, X_test, y_test, width: int, seed: int) -> float:
    """Test error of a least-squares output layer over fixed random ReLU hidden units
    (initialized as torch.nn.Linear: uniform in +-1/sqrt(2))."""
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(2)
    W, b = rng.uniform(-bound, bound, (2, width)), rng.uniform(-bound, bound, width)

    def hidden(points):  # (n, width + 1): ReLU units and a constant for the output bias
        return np.column_stack([np.maximum(points @ W + b, 0), np.ones(len(points))])

    w = np.linalg.lstsq(hidden(X), 2.0 * y - 1, rcond=None)[0]
    return float(np.mean((hidden(X_test) @ w > 0) != (y_test == 1)))


def run(ctx: Context) -> Report:
    s = QUICK if ctx.quick else FULL
    train = generators.make("curve", n=s.n, noise=0.0, seed=0)
    test = generators.make("curve", n=4000, noise=0.0, seed=1)
    X, X_test = train.X.astype(np.float64), test.X.astype(np.float64)
    widths = list(s.widths)
    ctx.say("universal: least-squares output layers")
    rf = np.array(
        [
            np.mean(
                [random_feature_error(X, train.y, X_test, test.y, w, seed) for seed in range(3)]
            )
            for w in widths
        ]
    )
    ctx.say("universal: training every width")
    seeds = ctx.seed_count(s.seeds)
    configs = [
        TrainConfig(hidden=(w,), optimizer="sgd", lr=s.lr, epochs=s.epochs, seed=k)
        for w in widths
        for k in range(seeds)
    ]
    results = engine.train(
        configs, train.X, train.y, test.X, test.y, log_every=s.epochs, device=ctx.device
    )
    chunks = [results[i * seeds : (i + 1) * seeds] for i in range(len(widths))]
    trained = np.array(
        [
            np.mean([0.5 if r.status == "diverged" else 1 - r.last("val_acc") for r in c])
            for c in chunks
        ]
    )
    diverged = [sum(r.status == "diverged" for r in c) for c in chunks]
    best = int(np.argmin(trained))

    plot_panels(
        ctx.path("universal.png"),
        f"One hidden layer on the book's curve ({s.n} points)",
        [
            Panel(
                "test error against width",
                "hidden units",
                "test error",
                [
                    Series("least-squares output over random ReLU units", widths, rf, "o-"),
                    Series(
                        f"trained: SGD lr {s.lr}, {s.epochs} epochs (diverged = 0.5)",
                        widths,
                        trained,
                        "s-",
                    ),
                ],
                logx=True,
            ),
        ],
        width=7.0,
    )

    claims = [
        Claim(
            "error falls as one hidden layer widens",
            "least-squares random-feature error at the widest < 1/3 of width 2's (existence side)",
            f"{rf[-1]:.3f} vs {rf[widths.index(2)]:.3f}",
            bool(rf[-1] < rf[widths.index(2)] / 3),
        ),
        Claim(
            "training also improves with width at first",
            "best trained error < trained error at width 2 - 0.05",
            f"{trained[best]:.3f} (width {widths[best]}) vs {trained[widths.index(2)]:.3f}",
            bool(trained[best] < trained[widths.index(2)] - 0.05),
        ),
        Claim(
            "beyond some width the fixed budget no longer keeps up",
            "at the widest, trained error > least-squares error + 0.05 (training stalls "
            "where a better fit exists)",
            f"trained {trained[-1]:.3f} (best {trained[best]:.3f}); least squares {rf[-1]:.3f}",
            bool(trained[-1] > rf[-1] + 0.05),
        ),
    ]
    rows = "\n".join(
        f"| {w} | {a:.3f} | {b:.3f} | {d} |"
        for w, a, b, d in zip(widths, rf, trained, diverged, strict=True)
    )
    findings = (
        "| width | least squares (random units) | trained | diverged |\n| --- | --- | --- | --- |\n"
        f"{rows}\n\n"
        + follow(
            claims[0],
            "The least-squares fit over random units keeps improving with width: a good "
            "approximation exists. ",
            "The least-squares fit over random units did not improve enough with width here. ",
        )
        + f"Trained with one learning rate and budget, the error is lowest at width "
        f"{widths[best]} ({trained[best]:.3f}) and ends at {trained[-1]:.3f} for the widest, "
        f"against {rf[-1]:.3f} for least squares over random units of that width"
        + follow(
            claims[2],
            ": the fixed budget does not find the approximation that exists. Existence is not "
            "trainability. ",
            ": here training kept up with the approximation that exists. ",
        )
        + (
            "(Plain SGD at this rate did not diverge on the widest nets here; the gap is "
            "underfitting within the budget, not blow-up.)"
            if diverged[-1] == 0
            else f"({diverged[-1]} of the widest nets diverged, counted as error 0.5.)"
        )
    )
    method = (
        f"Target: the book's `curve` boundary, no label noise, {s.n} training and 4000 test "
        f"points. Widths {widths}. Existence: ReLU hidden units drawn as torch.nn.Linear "
        "initializes them, output layer by least squares in float64 on -1/+1 targets, 3 draws. "
        f"Trained: MLP ({'{w}'},) ReLU, plain SGD lr {s.lr}, full batch, {s.epochs} "
        f"epochs, {seeds} seeds, all widths in one `engine.train` call."
    )
    return Report(
        title="Universal approximation: existence is not trainability",
        claim=(
            "Cybenko (1989), *Approximation by superpositions of a sigmoidal function*: one hidden "
            "layer with enough units approximates any continuous function on a compact set. "
            "The theorem promises that weights exist, not that training finds them."
        ),
        method=method,
        claims=claims,
        figures=[("universal.png", "Test error against hidden width.")],
        findings=findings,
        numbers=dict(
            widths=widths, least_squares_error=rf, trained_error=trained, diverged=diverged
        ),
    )
