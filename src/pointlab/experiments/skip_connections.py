"""Experiment `skip-connections`: residual networks train where plain deep ones stall.

He, Zhang, Ren & Sun (2016), "Deep residual learning for image recognition": past some depth a
plain network trains *worse* than a shallower one (the degradation problem: its training error,
not only its test error, is higher), while the same network with identity shortcuts around its
layers keeps improving with depth. Without normalization the usual account is the vanishing
gradient: each plain layer scales the backward signal, so the first layers of a deep stack get
almost none of it, and a shortcut carries it past them unchanged.

Here: MLPs of 2 to 32 hidden layers of 32 ReLUs on the two-class spiral, each depth plain and
residual (`TrainConfig.residual`: h_l = h_{l-1} + relu(a_l)), over seeds, every depth one
population (plain and residual members train together); the training loss each reaches in a fixed
budget; and the gradient norm of every layer's weights at initialization and early in training,
taken from the members' own weights with autograd on the engine's forward pass.

Not here: the figure (`experiments/skip_figures.py`), the residual forward and backward
(`pointlab.engine.models`, `engine.backprop`), verdict statistics (`experiments/base.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from pointlab.config import TrainConfig
from pointlab.engine.models import Architecture, forward, layer_views, theta_from_states
from pointlab.engine.training import Training
from pointlab.experiments import base, skip_figures
from pointlab.experiments.base import Claim, Context, Report
from pointlab.experiments.members import spiral_points

NAME = "skip-connections"
WIDTH = 32
LR = 0.001


@dataclass(frozen=True)
class Budget:
    depths: tuple[int, ...]  # hidden layers of WIDTH units
    seeds: int
    epochs: int
    early: int  # the epoch "during training" at which gradients are measured again
    n_train: int
    n_test: int


QUICK = Budget(depths=(2, 8, 32), seeds=3, epochs=600, early=60, n_train=400, n_test=1000)
FULL = Budget(depths=(2, 4, 8, 16, 32), seeds=4, epochs=2000, early=100, n_train=400, n_test=2000)


@dataclass(frozen=True)
class DepthResult:
    """One depth's members, plain (index 0) and residual (index 1), each (seeds,) or
    (seeds, layers)."""

    train_loss: tuple[np.ndarray, np.ndarray]
    train_acc: tuple[np.ndarray, np.ndarray]
    test_acc: tuple[np.ndarray, np.ndarray]
    grad_init: tuple[np.ndarray, np.ndarray]  # (seeds, depth + 1) per layer, input first
    grad_early: tuple[np.ndarray, np.ndarray]


def run(ctx: Context) -> Report:
    b = QUICK if ctx.quick else FULL
    b = replace(b, seeds=ctx.seed_count(b.seeds))
    X, y = spiral_points(b.n_train, b.n_test)
    by_depth = {}
    for depth in b.depths:
        ctx.say(f"skip-connections: {depth} layers, plain and residual, {b.seeds} seeds each")
        by_depth[depth] = _train_depth(depth, b, X, y, ctx.device)
    claims, numbers = _claims(b, by_depth)
    numbers["budget"] = b.__dict__
    figures = [skip_figures.figure(ctx, b, by_depth)]
    return Report(
        title="Skip connections: residual MLPs train where plain deep ones stall",
        claim=(
            "He et al. 2016, *Deep residual learning for image recognition*: a deeper plain "
            "network reaches a *higher training error* than a shallower one (degradation), while "
            "identity shortcuts let very deep networks train; without normalization, gradients "
            "vanish on their way back through a plain stack and the shortcut carries them past it."
        ),
        method=_method(b),
        claims=claims,
        figures=figures,
        findings=_findings(b, claims, numbers),
        numbers=numbers,
    )


def _train_depth(depth: int, b: Budget, X: np.ndarray, y: np.ndarray, device: str) -> DepthResult:
    """Plain and residual members of one depth as one population, their gradients per layer at
    epoch 0 and at `b.early`, and what each reached after `b.epochs`."""
    configs = [
        TrainConfig(hidden=(WIDTH,) * depth, residual=residual, lr=LR, epochs=b.epochs, seed=s)
        for residual in (False, True)
        for s in range(b.seeds)
    ]
    train_index = np.arange(b.n_train)
    test_index = np.arange(b.n_train, len(X))
    M = len(configs)
    training = Training(
        configs, X, y, [train_index] * M, [test_index] * M, device=device, log_every=b.epochs
    )
    archs = [Architecture((WIDTH,) * depth, "relu", residual=r) for r in (False, True)]

    def gradients() -> tuple[np.ndarray, np.ndarray]:
        states = [training.state(m) for m in range(M)]
        halves = (states[: b.seeds], states[b.seeds :])
        return tuple(  # type: ignore[return-value]
            layer_gradient_norms(arch, theta_from_states(arch, s), X[train_index], y[train_index])
            for arch, s in zip(archs, halves, strict=True)
        )

    grad_init = gradients()
    while training.epoch < b.early and training.step_epoch():
        pass
    grad_early = gradients()
    while training.step_epoch():
        pass
    results = training.results()

    def split(key: str) -> tuple[np.ndarray, np.ndarray]:
        values = np.array([r.last(key) for r in results])
        return values[: b.seeds], values[b.seeds :]

    return DepthResult(
        split("train_loss"), split("train_acc"), split("val_acc"), grad_init, grad_early
    )


def layer_gradient_norms(
    arch: Architecture, theta: torch.Tensor, X: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """(M, layers): the norm of the mean cross-entropy's gradient with respect to each layer's
    weight matrix (input layer first, output layer last), for every member of theta (M, P)."""
    theta = theta.detach().clone().requires_grad_(True)
    x = torch.as_tensor(X, dtype=theta.dtype)
    target = torch.as_tensor(y, dtype=theta.dtype).expand(theta.shape[0], -1)
    views = layer_views(arch, theta)
    logits = forward(arch, views, x)[..., 0]
    losses = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, target, reduction="none"
    ).mean(1)
    weights = [w for w, _ in views]
    grads = torch.autograd.grad(losses.sum(), weights)
    return torch.stack([g.flatten(1).norm(dim=1) for g in grads], 1).detach().numpy()


def log_ratio(grads: np.ndarray) -> np.ndarray:
    """(seeds,) log10 of the first layer's gradient norm over the output layer's."""
    return np.log10(grads[:, 0] / grads[:, -1])


def _claims(b: Budget, by_depth: dict[int, DepthResult]) -> tuple[list[Claim], dict]:
    deepest, shallowest = max(b.depths), min(b.depths)
    deep = by_depth[deepest]
    df = b.seeds - 1

    def mean_se(values: np.ndarray) -> tuple[float, float]:
        return float(np.mean(values)), base.standard_error(values)

    plain_init, plain_init_se = mean_se(log_ratio(deep.grad_init[0]))
    res_init, res_init_se = mean_se(log_ratio(deep.grad_init[1]))
    plain_early, plain_early_se = mean_se(log_ratio(deep.grad_early[0]))
    carry = res_init - plain_init
    carry_se, carry_df = base.combined_se((res_init_se, df), (plain_init_se, df))
    # Degradation: the deepest plain net against the plain depth that trained best.
    plain_loss = {D: r.train_loss[0] for D, r in by_depth.items()}
    best_plain = min((D for D in b.depths if D != deepest), key=lambda D: plain_loss[D].mean())
    gap = float(plain_loss[deepest].mean() - plain_loss[best_plain].mean())
    gap_se, gap_df = base.difference_se(plain_loss[deepest], plain_loss[best_plain])
    # Shortcuts at the same depth.
    gain = float(deep.train_loss[0].mean() - deep.train_loss[1].mean())
    gain_se, gain_df = base.difference_se(deep.train_loss[0], deep.train_loss[1])
    res_acc, res_acc_se = mean_se(deep.train_acc[1])
    # Depth does not hurt a residual net: deepest against shallowest.
    res_gap = float(deep.train_loss[1].mean() - by_depth[shallowest].train_loss[1].mean())
    res_gap_se, res_gap_df = base.difference_se(
        deep.train_loss[1], by_depth[shallowest].train_loss[1]
    )
    claims = [
        Claim(
            f"plain nets: the gradient vanishes on its way back through {deepest} layers",
            f"at initialization, {deepest} plain layers: mean log10(|grad W_1| / |grad W_out|) "
            "<= -3 (95% Student's t interval over seeds)",
            f"{plain_init:.2f} +- {plain_init_se:.2f}",
            base.at_most(plain_init, -3.0, plain_init_se, df),
        ),
        Claim(
            "shortcuts carry it to the first layer",
            f"at initialization, {deepest} layers: residual minus plain mean log10 ratio >= 3 "
            "(the first layer's share of the gradient 1000 times the plain one's)",
            f"{carry:+.2f} +- {carry_se:.2f} (residual {res_init:.2f}, plain {plain_init:.2f})",
            base.at_least(carry, 3.0, carry_se, carry_df),
        ),
        Claim(
            "the plain deep net's gradient stays vanished as it trains",
            f"after {b.early} epochs, {deepest} plain layers: mean log10 ratio <= -3",
            f"{plain_early:.2f} +- {plain_early_se:.2f}",
            base.at_most(plain_early, -3.0, plain_early_se, df),
        ),
        Claim(
            "degradation: the deepest plain net trains worse than a shallower one",
            f"training loss after {b.epochs} epochs, {deepest} plain layers minus the best "
            f"shallower plain depth ({best_plain}) >= 0.1",
            f"{gap:+.3f} +- {gap_se:.3f}",
            base.at_least(gap, 0.1, gap_se, gap_df),
        ),
        Claim(
            "the same depth with shortcuts trains",
            f"{deepest} layers: plain minus residual training loss >= 0.1, and residual "
            "training accuracy >= 0.9",
            f"{gain:+.3f} +- {gain_se:.3f}; accuracy {res_acc:.3f} +- {res_acc_se:.3f}",
            base.all_of(
                [
                    base.at_least(gain, 0.1, gain_se, gain_df),
                    base.mean_at_least(deep.train_acc[1], 0.9),
                ]
            ),
        ),
        Claim(
            "with shortcuts, depth does not hurt training",
            f"residual training loss at {deepest} layers <= at {shallowest} layers",
            f"{res_gap:+.3f} +- {res_gap_se:.3f}",
            base.at_most(res_gap, 0.0, res_gap_se, res_gap_df),
        ),
    ]
    numbers = {
        "train_loss": {
            str(D): {"plain": r.train_loss[0], "residual": r.train_loss[1]}
            for D, r in by_depth.items()
        },
        "train_acc": {
            str(D): {"plain": r.train_acc[0], "residual": r.train_acc[1]}
            for D, r in by_depth.items()
        },
        "test_acc": {
            str(D): {"plain": r.test_acc[0], "residual": r.test_acc[1]} for D, r in by_depth.items()
        },
        "log10_grad_ratio_init": {
            str(D): {"plain": log_ratio(r.grad_init[0]), "residual": log_ratio(r.grad_init[1])}
            for D, r in by_depth.items()
        },
        "log10_grad_ratio_early": {
            str(D): {"plain": log_ratio(r.grad_early[0]), "residual": log_ratio(r.grad_early[1])}
            for D, r in by_depth.items()
        },
        "best_plain_depth": best_plain,
    }
    return claims, numbers


def _trained(acc: np.ndarray) -> str:
    """How many seeds fit the training points: "3 / 4"."""
    return f"{int((np.asarray(acc) >= 0.99).sum())} / {len(acc)}"


def _method(b: Budget) -> str:
    return (
        f"Data: the two-class spiral, {b.n_train} training and {b.n_test} test points (seeds 0 "
        "and 1), standardized as `pointlab train` does. Models: "
        f"{', '.join(str(D) for D in b.depths)} hidden layers of {WIDTH} ReLUs, plain and with "
        "an identity shortcut around every hidden layer but the first (`--residual`); torch's "
        f"default initialization; Adam, lr {LR}, full batch, {b.epochs} epochs, {b.seeds} seeds "
        "each; every depth one population of its plain and residual members. Gradients: the norm "
        "of the mean cross-entropy's gradient with respect to each layer's weight matrix, on the "
        f"training points, at initialization and after {b.early} epochs (autograd on the "
        "engine's forward pass, from the members' own weights). Verdicts: 95% Student's t "
        "intervals over seeds (Welch's degrees of freedom for differences)."
    )


def _findings(b: Budget, claims: list[Claim], numbers: dict) -> str:
    rows = []
    for D in b.depths:
        loss, acc = numbers["train_loss"][str(D)], numbers["train_acc"][str(D)]
        test = numbers["test_acc"][str(D)]
        ratio = numbers["log10_grad_ratio_init"][str(D)]
        rows.append(
            f"| {D} | {loss['plain'].mean():.3f} | {loss['residual'].mean():.3f} | "
            f"{acc['plain'].mean():.3f} | {acc['residual'].mean():.3f} | "
            f"{test['plain'].mean():.3f} | {test['residual'].mean():.3f} | "
            f"{ratio['plain'].mean():.1f} | {ratio['residual'].mean():.1f} | "
            f"{_trained(acc['plain'])} | {_trained(acc['residual'])} |"
        )
    vanish, _, _, degrade, trains, no_harm = claims
    deepest = max(b.depths)
    story = base.follow(
        trains,
        f"With shortcuts the same {deepest} layers train",
        f"Shortcuts alone did not make {deepest} layers train here",
        f"Whether shortcuts make {deepest} layers train, the seeds cannot settle",
    )
    ratio = numbers["log10_grad_ratio_init"][str(deepest)]["plain"].mean()
    why = base.follow(
        vanish,
        f"the plain {deepest}-layer stack's first layer gets a gradient 10^{ratio:.0f} times "
        "its output layer's",
        "the plain stack's gradient does not vanish by three orders of magnitude",
    )
    depth_words = base.follow(
        no_harm,
        "and the deepest residual nets reach a training loss no higher than the shallowest",
        "though the deepest residual nets still train worse than the shallowest at this budget",
        "and whether depth costs a residual net anything, the seeds cannot tell",
    )
    worse = base.follow(
        degrade,
        "the deepest plain nets train worse than shallower plain ones (degradation)",
        "the deepest plain nets do not train clearly worse than shallower ones",
        "whether the deepest plain nets train worse than shallower ones, the seeds cannot tell",
    )
    return (
        "| layers | train loss, plain | residual | train acc, plain | residual | test acc, "
        "plain | residual | log10 grad ratio at init, plain | residual | seeds that fit "
        "(train acc >= 0.99), plain | residual |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        + "\n".join(rows)
        + f"\n\nIn a fixed budget {worse}: at initialization {why}. {story}, {depth_words}. "
        "This is the 2-D picture of He et al.'s degradation problem at MLP scale; their networks "
        "also had batch normalization (see the `normalization` experiment)."
    )
