"""Experiment `capacity`: the book's `simple` model cannot learn a curved boundary, `complex` can.

The book's complex-model chapter (point_classifier_2d): `simple` (no hidden layer, 3 weights) is
logistic regression, so on the curve data it can do no better than the logistic-regression optimum,
whatever the training; `complex` (two hidden layers of 128, 17,025 weights) fits the curve. The
optimum is computed independently by Newton's method in float64, so "stalls at the optimum" is a
measured distance, not a look at a plot.

Not here: training (`pointlab.engine`), the decision-boundary picture (`pointlab.plots.boundary`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pointlab import engine, generators
from pointlab.checkpoint import TrainedModel
from pointlab.config import TrainConfig, preset
from pointlab.engine.models import Architecture
from pointlab.experiments.base import (
    Claim,
    Context,
    Report,
    at_least,
    at_most,
    combined_se,
    standard_error,
)
from pointlab.plots.boundary import compute_boundary, draw_boundary
from pointlab.plots.save import new_figure, save_figure

NAME = "capacity"


@dataclass(frozen=True)
class Budget:
    """Epochs per model; `simple` reaches its optimum long before either budget ends."""

    simple_epochs: int = 3000
    complex_epochs: int = 2000


FULL = Budget()
QUICK = Budget(complex_epochs=600)


def logistic_optimum(X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of the best logistic regression, by Newton in float64."""
    A = np.c_[X.astype(np.float64), np.ones(len(X))]  # (N, 3)
    w = np.zeros(3)
    for _ in range(50):  # the curve data are not separable, so the optimum is finite
        p = 1 / (1 + np.exp(-A @ w))
        hessian = (A * (p * (1 - p))[:, None]).T @ A / len(A)
        w -= np.linalg.solve(hessian, A.T @ (p - y) / len(A))
    p = np.clip(1 / (1 + np.exp(-A @ w)), 1e-15, 1 - 1e-15)
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    return float(loss), float(np.mean((p > 0.5) == y))


def run(ctx: Context) -> Report:
    # The book's curve.csv is make("curve", n=200, seed=4); the test set is fresh points.
    train = generators.make("curve", n=200, seed=4)
    test = generators.make("curve", n=2000, seed=1004)
    budget = QUICK if ctx.quick else FULL
    epochs = {"simple": budget.simple_epochs, "complex": budget.complex_epochs}
    seeds = range(ctx.seeds)
    # The book's training: Adam, lr 0.003, full batch. Each model's seeds are one population.
    configs = [
        TrainConfig(hidden=preset(m), epochs=epochs[m], seed=s)
        for m in ("simple", "complex")
        for s in seeds
    ]
    ctx.say(f"training {len(configs)} models (simple and complex, {ctx.seeds} seeds each)")
    results = engine.train(
        configs, train.X, train.y, test.X, test.y, device=ctx.device, log_every=20
    )
    simple, complex_ = results[: ctx.seeds], results[ctx.seeds :]
    opt_loss, opt_acc = logistic_optimum(train.X, train.y)

    def mean(rs, metric):
        return float(np.mean([r.last(metric) for r in rs]))

    n_params = {m: Architecture(preset(m), "relu").n_params for m in ("simple", "complex")}
    s_loss, c_loss = mean(simple, "train_loss"), mean(complex_, "train_loss")
    s_acc, c_acc = mean(simple, "train_acc"), mean(complex_, "train_acc")
    s_test, c_test = mean(simple, "val_acc"), mean(complex_, "val_acc")
    gap = max(abs(r.last("train_loss") - opt_loss) for r in simple)

    def spread(rs, metric) -> tuple[float, float]:  # standard error over seeds and its df
        return standard_error([r.last(metric) for r in rs]), len(rs) - 1

    test_gap = combined_se(spread(complex_, "val_acc"), spread(simple, "val_acc"))
    claims = [
        Claim(
            "simple has 3 weights, complex 17,025",
            "counts == (3, 17025)",
            f"{n_params['simple']}, {n_params['complex']}",
            (n_params["simple"], n_params["complex"]) == (3, 17025),
        ),
        Claim(
            "simple stalls at the logistic-regression optimum",
            "|simple's train loss - Newton optimum| <= 0.01 (every seed)",
            gap,
            gap <= 0.01,
        ),
        Claim(
            "simple cannot fit the curve",
            "simple's train accuracy <= 0.85 (mean, 95% t interval over seeds)",
            s_acc,
            at_most(s_acc, 0.85, *spread(simple, "train_acc")),
        ),
        Claim(
            "complex fits the curve",
            "complex's train accuracy >= 0.95 (mean, 95% t interval over seeds)",
            c_acc,
            at_least(c_acc, 0.95, *spread(complex_, "train_acc")),
        ),
        Claim(
            "complex's loss is far below the linear optimum",
            "complex's train loss <= optimum / 3 (mean, 95% t interval over seeds)",
            c_loss,
            at_most(c_loss, opt_loss / 3, *spread(complex_, "train_loss")),
        ),
        Claim(
            "complex also predicts new points better",
            "test accuracy complex - simple >= 0.08 (means, 95% t interval over seeds)",
            c_test - s_test,
            at_least(c_test - s_test, 0.08, *test_gap),
        ),
    ]

    figure = new_figure(13, 5.2, dpi=90)
    axes = figure.subplots(1, 3)
    for ax, (rs, title) in zip(
        axes,
        ((simple, "simple (3 weights)"), (complex_, "complex (17,025 weights)")),
        strict=False,
    ):
        model = TrainedModel(rs[0].config, rs[0].arch.n_classes, rs[0].final_state)
        picture = compute_boundary(model.predict_proba, train, steps=200)
        draw_boundary(ax, picture, title=f"{title}, seed 0", colourbar=False, point_size=10)
    for rs, label, colour in ((simple, "simple", "tab:red"), (complex_, "complex", "tab:blue")):
        for i, r in enumerate(rs):
            axes[2].plot(
                r.history["epoch"],
                r.history["train_loss"],
                color=colour,
                alpha=0.7,
                label=label if i == 0 else None,
            )
    axes[2].axhline(opt_loss, color="black", ls="--", lw=1, label="logistic-regression optimum")
    axes[2].set(
        yscale="log",
        xlabel="epoch",
        ylabel="training loss (cross-entropy)",
        title="training loss (Adam, lr 0.003, full batch)",
    )
    axes[2].legend(fontsize=8)
    figure.suptitle("capacity: the book's simple and complex models on curve.csv")
    name = save_figure(figure, ctx.path("capacity.png")).name

    findings = (
        f"The logistic-regression optimum on these 200 points has loss {opt_loss:.4f} and "
        f"accuracy {opt_acc:.3f}. `simple` ends at loss {s_loss:.4f} (largest distance to the "
        f"optimum over seeds {gap:.2g}) and training accuracy {s_acc:.3f}: more epochs cannot "
        "help, "
        f"a straight line is all it can draw. `complex` ends at loss {c_loss:.4f}, training "
        f"accuracy {c_acc:.3f}. On {len(test.X)} fresh points of the same curve, test accuracy is "
        f"{s_test:.3f} for simple and {c_test:.3f} for complex (the book's curve data flip labels "
        "within 0.1 of the boundary with probability 0.3, so no model reaches 1.0 on new points)."
    )
    return Report(
        title="Capacity: a linear model cannot learn a curved boundary",
        claim=(
            "The book (point_classifier_2d, the complex-model chapter): the `simple` model (one "
            "linear layer, 3 weights) cannot separate the curve data, while `complex` (two hidden "
            "ReLU layers of 128, 17,025 weights) can. `simple` is logistic regression, so it "
            "should stall exactly at the logistic-regression optimum."
        ),
        method=(
            f"Data: the book's curve set (`make('curve', n=200, seed=4)`, the same points as "
            f"`data/curve.csv`); test: 2,000 fresh points (seed 1004). Both models trained the "
            f"book's way (Adam, lr 0.003, full batch, cross-entropy from logits) for "
            f"{epochs['simple']} (simple) and {epochs['complex']} (complex) epochs, {ctx.seeds} "
            "initialization seeds each, each model's seeds as one population. The optimum: "
            "Newton's method on the mean cross-entropy in float64."
        ),
        claims=claims,
        figures=[(name, "decision boundaries (seed 0) and training loss of every seed")],
        findings=findings,
        numbers={
            "optimum_loss": opt_loss,
            "optimum_acc": opt_acc,
            "n_params": n_params,
            "simple": {"train_loss": s_loss, "train_acc": s_acc, "test_acc": s_test},
            "complex": {"train_loss": c_loss, "train_acc": c_acc, "test_acc": c_test},
            "epochs": epochs,
            "seeds": ctx.seeds,
        },
    )
