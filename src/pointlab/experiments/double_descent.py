"""Experiment `double-descent`: test error against model size peaks where the model can just
interpolate the training set, then falls again.

Claims: Belkin et al. 2019 ("Reconciling modern machine-learning practice and the classical
bias-variance trade-off", PNAS) with random Fourier features and a minimum-norm fit: the test error
peaks at N = n features (n training points) and falls far beyond; Nakkiran et al. 2019 ("Deep
double descent") for trained networks (model-wise, with label noise making the peak taller).

Here: (1) random Fourier features cos(x W + b) on 2-D `moons`, fitted by minimum-norm least squares
in float64 (`numpy.linalg.lstsq`), clean and noisy labels, averaged over feature draws; (2) an MLP
width sweep with one hidden layer trained on the engine (one `train` call, a population per width).

Not here: training the MLPs (`pointlab.engine`), the drawing (`pointlab.plots.lines`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pointlab import engine, generators
from pointlab.config import TrainConfig
from pointlab.experiments.base import Claim, Context, Report, follow
from pointlab.plots.lines import Panel, Series, plot_panels

NAME = "double-descent"


@dataclass(frozen=True)
class Budget:
    """Random features: n training points, feature draws, label noise. The MLP width sweep:
    widths, epochs, seeds; no widths means no sweep (quick mode: a handful of epochs and widths
    gave three points that showed nothing, and a sweep that shows something takes a minute)."""

    n: int
    draws: int
    noise: float
    widths: tuple[int, ...]
    epochs: int
    seeds: int


FULL = Budget(
    n=100,
    draws=15,
    noise=0.2,
    widths=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
    epochs=2000,
    seeds=2,
)
QUICK = Budget(n=40, draws=5, noise=0.2, widths=(), epochs=0, seeds=1)
# Frequency spread of the features: a Gaussian kernel of width 1/20, below the spacing of 100
# points; wider kernels (e.g. 1/6) make the 2-D kernel matrix so ill-conditioned that even
# N = 30 n interpolates wildly (test MSE 1e7).
SCALE = 20.0


def feature_grid(n: int) -> np.ndarray:
    """Feature counts: geometric from n/10 to 30 n, dense around N = n."""
    far = np.geomspace(max(2, n // 10), 30 * n, 25)
    near = n * np.linspace(0.8, 1.2, 9)
    return np.unique(np.round(np.concatenate([far, near])).astype(int))


def rff_errors(X, y, X_test, y_test, counts, draws: int, seed: int):
    """(len(counts),) median test MSE and mean 0-1 error of minimum-norm random-feature fits.

    The median: at N = n a single draw's matrix can be singular to 1e-8 and dominate a mean."""
    rng = np.random.default_rng(seed)
    t, t_test = 2.0 * y - 1, 2.0 * y_test - 1  # labels as -1 / +1 regression targets
    mse, err = np.zeros((draws, len(counts))), np.zeros(len(counts))
    for d in range(draws):
        W = rng.normal(0.0, SCALE, (2, counts.max()))  # one draw, nested subsets for every N
        b = rng.uniform(0.0, 2 * np.pi, counts.max())
        phi, phi_test = np.cos(X @ W + b), np.cos(X_test @ W + b)  # (n, Nmax), (m, Nmax)
        for i, N in enumerate(counts):
            # lstsq returns the minimum-norm solution when N > n: the interpolator of least norm.
            w = np.linalg.lstsq(phi[:, :N], t, rcond=None)[0]
            pred = phi_test[:, :N] @ w
            mse[d, i] = np.mean((pred - t_test) ** 2)
            err[i] += np.mean((pred > 0) != (y_test == 1)) / draws
    return np.median(mse, axis=0), err


def run(ctx: Context) -> Report:
    s = QUICK if ctx.quick else FULL
    n = s.n
    test = generators.make("moons", n=2000, noise=0.1, seed=1)  # clean labels, fresh points
    X_test = test.X.astype(np.float64)
    counts = feature_grid(n)
    curves = {}
    for noise in (0.0, s.noise):
        ctx.say(f"double-descent: random features, label noise {noise}")
        train = generators.make("moons", n=n, noise=0.1, label_noise=noise, seed=0)
        curves[noise] = rff_errors(
            train.X.astype(np.float64), train.y, X_test, test.y, counts, s.draws, seed=2
        )
    clean, noisy = curves[0.0][0], curves[s.noise][0]
    peak_at = {k: int(counts[np.argmax(v[0])]) for k, v in curves.items()}
    far = counts >= 10 * n
    fall = float(noisy[far].min() / noisy.max())
    mlp = _mlp_sweep(ctx, s, test) if s.widths else None

    panels = [
        Panel(
            f"random Fourier features, min-norm fit (median of {s.draws} draws)",
            "features N",
            "test MSE (labels -1/+1)",
            [
                Series("clean labels", counts, clean, ".-"),
                Series(f"label noise {s.noise}", counts, noisy, ".-"),
            ],
            logx=True,
            logy=True,
            vlines=[(n, "N = n")],
        ),
        Panel(
            "same fits: classification error",
            "features N",
            "test error",
            [
                Series("clean labels", counts, curves[0.0][1], ".-"),
                Series(f"label noise {s.noise}", counts, curves[s.noise][1], ".-"),
            ],
            logx=True,
            vlines=[(n, "N = n")],
        ),
    ]
    if mlp is not None:
        panels.append(
            Panel(
                f"MLP, one hidden layer, Adam, {s.epochs} epochs, noise {s.noise}",
                "hidden width",
                "error",
                [
                    Series("test", s.widths, mlp["test"], "o-"),
                    Series("train", s.widths, mlp["train"], "s--"),
                ],
                logx=True,
            )
        )
    plot_panels(
        ctx.path("double_descent.png"),
        f"Double descent on moons, n = {n} training points"
        + ("" if mlp else " (quick: random features only; the MLP sweep runs in the full version)"),
        panels,
    )

    claims = [
        Claim(
            "random features: the test error peaks at N = n",
            f"argmax of test MSE (noisy labels) within 10% of n = {n}",
            peak_at[s.noise],
            abs(peak_at[s.noise] - n) <= 0.1 * n,
        ),
        Claim(
            "and falls again far beyond", "min test MSE at N >= 10 n < 0.5 x peak", fall, fall < 0.5
        ),
        Claim(
            "label noise makes the peak taller",
            "peak MSE noisy > 1.2 x peak MSE clean",
            f"{noisy.max():.3g} vs {clean.max():.3g}",
            bool(noisy.max() > 1.2 * clean.max()),
        ),
    ]
    if mlp is not None:
        claims.append(
            Claim(
                "MLP width sweep: a model-wise peak",
                "an interior width's test error exceeds the best widths on both sides by > 0.02",
                f"bump {mlp['bump']:.3f} at width {mlp['peak_width']}",
                mlp["bump"] > 0.02,
            )
        )
    below = "does" if noisy[far].min() < noisy[counts < n].min() else "does not"
    findings = (
        f"Random features (median over {s.draws} draws): the test MSE peaks at N = "
        f"{peak_at[0.0]} with clean labels ({clean.max():.3g}) and at N = {peak_at[s.noise]} "
        f"with label noise {s.noise} ({noisy.max():.3g}); at N >= {10 * n} it falls to "
        f"{noisy[far].min():.3g} (noisy). "
        + follow(
            claims[0] if claims[1].passed else claims[1],  # holds only if both hold
            "At N = n the feature matrix is square and nearly singular, so the interpolating "
            "weights are huge and every label error is amplified; beyond, the minimum-norm "
            "solution spreads the fit over many features and smooths it. ",
            "So this run does not show the peak at N = n and the fall beyond it that the claim "
            "describes. ",
        )
        + f"Here the second descent {below} go below the first minimum within N <= 30 n: "
        f"best test MSE below n {noisy[counts < n].min():.3g}, at N >= 10 n {noisy[far].min():.3g} "
        "(noisy labels).\n\n"
        + (_mlp_findings(s, mlp, claims[3], n) if mlp is not None else _NO_MLP)
    )
    method = (
        f"Data: `moons` (noise 0.1), n = {n} training points with label noise 0 or "
        f"{s.noise} (a label replaced by a random class with that probability), 2000 clean "
        f"test points. Random Fourier features cos(x W + b), W ~ N(0, {SCALE}^2), b ~ U(0, 2 pi), "
        f"N in {counts.min()}..{counts.max()} ({len(counts)} values, dense near n), minimum-norm "
        f"least squares in float64 on -1/+1 targets, {s.draws} feature draws. "
        + (
            f"MLP: one hidden ReLU layer of width {list(s.widths)}, Adam lr 0.01, full batch, "
            f"{s.epochs} epochs, {mlp['seeds']} seeds, all in one `engine.train` call (one "
            "population per width)."
            if mlp is not None
            else "No MLP width sweep in quick mode (see the findings)."
        )
    )
    numbers = dict(
        features=counts,
        rff_mse_clean=clean,
        rff_mse_noisy=noisy,
        rff_err_clean=curves[0.0][1],
        rff_err_noisy=curves[s.noise][1],
        peak_at=peak_at,
        fall_ratio=fall,
    )
    if mlp is not None:
        numbers.update(
            widths=list(s.widths),
            mlp_params=mlp["params"],
            mlp_test_error=mlp["test"],
            mlp_train_error=mlp["train"],
            mlp_bump=mlp["bump"],
        )
    return Report(
        title="Double descent",
        claim=(
            "Belkin et al. (2019, PNAS), *Reconciling modern machine-learning practice and the "
            "classical bias-variance trade-off*: the test error of minimum-norm random-feature "
            "models peaks at the interpolation threshold N = n and falls again as N grows. "
            "Nakkiran et al. (2019), *Deep double descent*: trained networks show the same "
            "model-wise curve, more so with label noise."
        ),
        method=method,
        claims=claims,
        figures=[
            (
                "double_descent.png",
                "Test error against model size: random features (left, middle)"
                + (" and trained MLPs (right)." if mlp is not None else "."),
            )
        ],
        findings=findings,
        numbers=numbers,
    )


_NO_MLP = (
    "The MLP width sweep (Nakkiran et al.'s model-wise curve) is left out of the quick version: "
    "with the few widths and epochs a quick budget allows, the trained nets do not reach zero "
    "training error and the curve has nothing to show. Run without `--quick` for it (about a "
    "minute on two CPU cores)."
)


def _mlp_sweep(ctx: Context, s: Budget, test) -> dict:
    """Test and training error of one-hidden-layer MLPs per width (mean over seeds), trained on
    the noisy training set: all widths in one engine call (grouped by width)."""
    ctx.say("double-descent: MLP width sweep")
    train = generators.make("moons", n=s.n, noise=0.1, label_noise=s.noise, seed=0)
    seeds = ctx.seed_count(s.seeds)
    configs = [
        TrainConfig(hidden=(w,), lr=0.01, epochs=s.epochs, seed=k)
        for w in s.widths
        for k in range(seeds)
    ]
    results = engine.train(
        configs, train.X, train.y, test.X, test.y, log_every=s.epochs, device=ctx.device
    )
    chunks = [results[i * seeds : (i + 1) * seeds] for i in range(len(s.widths))]
    test_error = np.array([np.mean([1 - r.last("val_acc") for r in c]) for c in chunks])
    train_error = np.array([np.mean([1 - r.last("train_acc") for r in c]) for c in chunks])
    ipeak = int(np.argmax(test_error[1:-1])) + 1  # the highest interior width
    left_min = float(test_error[:ipeak].min())
    right_min = float(test_error[ipeak + 1 :].min())
    return dict(
        test=test_error,
        train=train_error,
        params=np.array([4 * w + 1 for w in s.widths]),  # 2w + w weights and biases + 1
        bump=float(test_error[ipeak] - max(left_min, right_min)),
        peak_width=s.widths[ipeak],
        seeds=seeds,
    )


def _mlp_findings(s: Budget, mlp: dict, claim: Claim, n: int) -> str:
    return (
        "MLP width sweep (test error, mean over seeds): "
        + ", ".join(f"{w}: {e:.3f}" for w, e in zip(s.widths, mlp["test"], strict=True))
        + f". Training error: {', '.join(f'{e:.2f}' for e in mlp['train'])}. The largest interior "
        f"bump is {mlp['bump']:.3f} at width {mlp['peak_width']}. "
        + follow(
            claim,
            "That is a model-wise peak, as Nakkiran et al. describe, though small: in 2-D with "
            f"n = {n} points a trained network has no sharp interpolation threshold.",
            f"With n = {n} 2-D points a trained network has no sharp interpolation threshold "
            "(Adam, no early stopping): the model-wise curve in 2-D is weak, and no peak clears "
            "the criterion within these widths; the random-feature curve is where the effect "
            "shows.",
        )
    )
