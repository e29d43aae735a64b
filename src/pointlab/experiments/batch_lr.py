"""Experiment `batch-lr`: a batch k times larger wants a k times larger learning rate, to a point.

Claim: Goyal et al. 2017 ("Accurate, large minibatch SGD: training ImageNet in 1 hour"): with the
linear scaling rule (lr = k * lr0 for batch k * B) and a gradual warmup, the error of a fixed epoch
budget holds from k = 1 up to a large k and breaks beyond it; without warmup, scaling breaks
earlier. Without scaling, k times fewer steps per epoch simply do not get there.

Here: `moons` with 2^14 training points, base batch B, k = 1, 2, ..., 128; for each k one engine
population (members share a batch size, so no masking) of three variants x seeds: scaled +
warmup, scaled without warmup, unscaled (lr0). Momentum SGD, cosine decay, a fixed number of epochs.

Not here: the schedules and their warmup (`pointlab.engine.schedules`), the drawing
(`pointlab.plots.lines`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pointlab import engine, generators
from pointlab.config import TrainConfig
from pointlab.experiments.base import (
    Claim,
    Context,
    Report,
    at_least,
    combined_se,
    follow,
    mean_at_most,
    standard_error,
)
from pointlab.plots.lines import Panel, Series, plot_panels
from pointlab.splits import split

NAME = "batch-lr"


@dataclass(frozen=True)
class Budget:
    """Training points, base batch B, base learning rate lr0, epochs, warmup epochs, seeds."""

    n_train: int
    batch: int
    lr0: float
    epochs: int
    warmup: int
    seeds: int


FULL = Budget(n_train=2**14, batch=16, lr0=0.05, epochs=5, warmup=2, seeds=4)
# Quick: 4x fewer points; lr0 doubled so that k = 1 leaves the moons' linear plateau in budget.
QUICK = Budget(n_train=2**12, batch=16, lr0=0.1, epochs=6, warmup=2, seeds=3)
KS = (1, 2, 4, 8, 16, 32, 64, 128)
TOLERANCE = 0.02  # test error more than this above k = 1's counts as broken
VARIANTS = ("scaled + warmup", "scaled", "unscaled")


def run(ctx: Context) -> Report:
    s = QUICK if ctx.quick else FULL
    seeds = ctx.seed_count(s.seeds)
    # Train and test from one generator call; 20% held out for testing (no selection on it).
    data = generators.make("moons", n=s.n_train * 5 // 4, seed=0)
    train, test, _ = split(data, 0.2, 0.0, seed=0)
    base = TrainConfig(hidden=(32, 32), optimizer="momentum", schedule="cosine", epochs=s.epochs)
    errors: dict[str, list] = {v: [] for v in VARIANTS}  # variant -> per k: (seeds,) test errors
    diverged: dict[str, list] = {v: [] for v in VARIANTS}
    for k in KS:
        ctx.say(f"batch-lr: k = {k}")
        batch, lr = s.batch * k, s.lr0 * k
        variants = {
            "scaled + warmup": base.replace(lr=lr, warmup=s.warmup, batch_size=batch),
            "scaled": base.replace(lr=lr, batch_size=batch),
            "unscaled": base.replace(lr=s.lr0, batch_size=batch),
        }
        configs = [c.replace(seed=i) for c in variants.values() for i in range(seeds)]
        # One call per batch size: its members step together with no padding masks.
        results = engine.train(
            configs, train.X, train.y, test.X, test.y, log_every=s.epochs, device=ctx.device
        )
        for j, v in enumerate(VARIANTS):
            chunk = results[j * seeds : (j + 1) * seeds]
            # A diverged member predicts nothing useful: count it as chance (error 0.5).
            errors[v].append(
                [0.5 if r.status == "diverged" else 1 - r.last("val_acc") for r in chunk]
            )
            diverged[v].append(sum(r.status == "diverged" for r in chunk))
    mean = {v: np.array([np.mean(e) for e in errors[v]]) for v in VARIANTS}
    reference = float(mean["scaled + warmup"][0])
    limit = reference + TOLERANCE

    def first_break(v):
        broken = [k for k, e in zip(KS, mean[v], strict=True) if e > limit]
        return broken[0] if broken else None

    k_break, k_break_plain = first_break("scaled + warmup"), first_break("scaled")
    holds_to = max([k for k in KS if k_break is None or k < k_break])
    lr_stable = s.lr0 * holds_to
    i8 = KS.index(8)
    at = k_break_plain if k_break_plain is not None else KS[-1]
    ia = KS.index(at)
    gain = int(np.argmax(mean["scaled"] - mean["scaled + warmup"]))
    unscaled = np.array(errors["unscaled"][i8])  # (seeds,), against k = 1's (seeds,)
    unscaled_se = combined_se(
        (standard_error(unscaled), seeds - 1),
        (standard_error(errors["scaled + warmup"][0]), seeds - 1),
    )
    warmup_gain = np.subtract(errors["scaled + warmup"][ia], errors["scaled"][ia])  # paired

    band = {v: (np.min(errors[v], 1), np.max(errors[v], 1)) for v in VARIANTS}
    plot_panels(
        ctx.path("batch_lr.png"),
        f"Batch size k x {s.batch} on moons "
        f"({len(train.X)} points, {s.epochs} epochs, {seeds} seeds)",
        [
            Panel(
                "test error (mean; band: min-max over seeds)",
                f"k (batch = k x {s.batch})",
                "test error",
                [Series(v, KS, mean[v], "o-", band=band[v]) for v in VARIANTS],
                logx=True,
                vlines=[(holds_to, f"scaling holds to k = {holds_to}")],
            ),
            Panel(
                "peak learning rate",
                f"k (batch = k x {s.batch})",
                "learning rate",
                [
                    Series("scaled: k x lr0", KS, [s.lr0 * k for k in KS], "o-"),
                    Series("unscaled: lr0", KS, [s.lr0] * len(KS), "s--"),
                    Series(
                        f"largest stable (scaled + warmup): {lr_stable:.2g}",
                        KS,
                        [lr_stable] * len(KS),
                        ":",
                        "k",
                    ),
                ],
                logx=True,
                logy=True,
            ),
        ],
    )

    claims = [
        Claim(
            "linear scaling + warmup holds up to some k, then breaks",
            f"test error within {TOLERANCE} of k = 1's ({reference:.3f}) for k <= K with "
            "K >= 4, and above it at some k <= 128",
            f"holds to k = {holds_to}, breaks at k = {k_break}",
            k_break is not None and holds_to >= 4,
        ),
        Claim(
            "without scaling, the epoch budget fails at k = 8",
            f"unscaled test error at k = 8 > {limit:.3f} (95% t interval over seeds)",
            float(mean["unscaled"][i8]),
            at_least(float(mean["unscaled"][i8]) - reference, TOLERANCE, *unscaled_se),
        ),
        Claim(
            "warmup lowers the error where scaling without warmup first breaks",
            f"at k = {at}: error(scaled + warmup) - error(scaled) < 0 (paired by seed, 95% t "
            "interval)",
            f"{mean['scaled + warmup'][ia]:.3f} vs {mean['scaled'][ia]:.3f}",
            mean_at_most(warmup_gain, 0.0),
        ),
    ]
    rows = "\n".join(
        f"| {k} | {s.batch * k} | {s.lr0 * k:.3g} | "
        + " | ".join(f"{mean[v][i]:.3f} ({diverged[v][i]} NaN)" for v in VARIANTS)
        + " |"
        for i, k in enumerate(KS)
    )
    findings = (
        f"Mean test error over {seeds} seeds (NaN: members the engine marked diverged, counted "
        f"as error 0.5):\n\n| k | batch | scaled lr | {' | '.join(VARIANTS)} |\n"
        f"| --- | --- | --- | --- | --- | --- |\n{rows}\n\n"
        f"Linear scaling with warmup holds up to k = {holds_to} (batch {s.batch * holds_to}, "
        f"lr {lr_stable:.3g}) and {_breaks(k_break)}; without warmup it {_breaks(k_break_plain)}. "
        + (
            "Why: the scaled learning rate passes the largest one momentum SGD can take on this "
            f"network, about {lr_stable:.2g} to {2 * lr_stable:.2g}; above it the updates "
            "overshoot, ReLU units die or the loss overflows (NaN), whatever the batch. "
            if k_break is not None
            else ""
        )
        + (
            "Beyond the break, not scaling is better than scaling. "
            if k_break is not None
            and all(
                mean["unscaled"][i] < mean["scaled + warmup"][i]
                for i, k in enumerate(KS)
                if k >= k_break
            )
            else ""
        )
        + (
            f"Warmup lowered the error most at k = {KS[gain]} "
            f"({mean['scaled + warmup'][gain]:.3f} against {mean['scaled'][gain]:.3f} without "
            "warmup): it lets the net reach flatter ground before the peak, but cannot make a "
            "peak far past the stable one usable. "
            if mean["scaled"][gain] > mean["scaled + warmup"][gain]
            else "Warmup lowered the error at no k here. "
        )
        + follow(
            claims[1],
            "Without scaling, a fixed epoch budget has k times fewer steps of the same size, so "
            "the error already rises at k = 8 ",
            "Without scaling a fixed epoch budget has k times fewer steps of the same size, yet "
            "here the error at k = 8 stays within the tolerance ",
        )
        + f"({mean['unscaled'][i8]:.3f} against {reference:.3f}). Single seeds are noisy at the "
        "edge (see the band): one seed may break while others hold."
    )
    method = (
        f"Data: `moons`, {len(train.X)} training and {len(test.X)} test points (seed 0). Model: "
        f"MLP (32, 32) ReLU, momentum SGD (0.9), cosine decay over {s.epochs} epochs, "
        f"{seeds} seeds. Batch k x {s.batch} for k in {list(KS)}; variants: scaled + warmup "
        f"(lr k x {s.lr0}, {s.warmup} warmup epochs), scaled (lr k x {s.lr0}), "
        f"unscaled (lr {s.lr0}). One engine population per k. Broken: mean test error more "
        f"than {TOLERANCE} above k = 1's."
    )
    return Report(
        title="Batch size and learning rate: linear scaling with warmup",
        claim=(
            "Goyal et al. (2017), *Accurate, large minibatch SGD: training ImageNet in 1 hour*: "
            "when the minibatch is multiplied by k, multiply the learning rate by k (linear "
            "scaling) and warm it up gradually; the accuracy then holds up to a large k "
            "(8k images on ImageNet) and breaks beyond it."
        ),
        method=method,
        claims=claims,
        figures=[("batch_lr.png", "Test error against k (left) and the learning rates (right).")],
        findings=findings,
        numbers=dict(
            ks=list(KS),
            errors=errors,
            mean_error={v: mean[v] for v in VARIANTS},
            diverged=diverged,
            reference_error=reference,
            holds_to=holds_to,
            k_break=k_break,
            k_break_without_warmup=k_break_plain,
            largest_stable_lr=lr_stable,
        ),
    )


def _breaks(k: int | None) -> str:
    return f"breaks at k = {k}" if k is not None else f"does not break up to k = {KS[-1]}"
