"""Telgarsky's (2016) sawtooth, built exactly: depth L with 2 ReLUs a layer, and its one-layer twin.

The tent map t(z) = 2 relu(z) - 4 relu(z - 1/2) folds [0, 1] onto itself; composed L times it is a
sawtooth with 2^L linear pieces. `sawtooth_theta(L)` writes it as an engine network (2 units a
layer, L layers); `shallow_sawtooth_theta(L)` as one hidden layer, which needs a unit per kink:
2^L units. `measure` counts both networks' pieces along a line and the deep one's regions over the
unit square, and checks them against the closed form `sawtooth`; `deep_against_shallow` trains a
deep and a one-layer net of equal size on the sawtooth's stripes, to see what training finds.

Not here: counting regions and pieces (`experiments/regions.py`), the experiment that uses these
(`experiments/depth.py`).
"""

from __future__ import annotations

import numpy as np
import torch

from pointlab import engine
from pointlab.config import TrainConfig
from pointlab.engine.models import Architecture, layer_views
from pointlab.experiments import regions
from pointlab.experiments.members import logits, standardize


def sawtooth_theta(depth: int) -> tuple[Architecture, torch.Tensor]:
    """Depth L, 2 ReLUs a layer: the tent map composed L times on the input's x; the output logit
    is t^L(x), with 2^L linear pieces on [0, 1].

    Layer 1 reads (x, y) and ignores y; every later layer computes (t, t - 1/2) from the previous
    pair (relu(z), relu(z - 1/2)). Weights are (fan_in, fan_out) as the engine stores them.
    """
    arch = Architecture((2,) * depth, "relu")
    theta = torch.zeros(1, arch.n_params, dtype=torch.float64)
    layers = layer_views(arch, theta)
    tent = torch.tensor(
        [[2.0, 2.0], [-4.0, -4.0]], dtype=torch.float64
    )  # rows: relu(z), relu(z-.5)
    for i, (w, b) in enumerate(layers):
        if i == 0:
            w[0] = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
        elif i < depth:
            w[0] = tent
        else:  # the output: t of the last pair
            w[0] = tent[:, :1]
        if i < depth:
            b[0, 0] = torch.tensor([0.0, -0.5])
    return arch, theta


def sawtooth(x: np.ndarray, depth: int) -> np.ndarray:
    """t^L(x) in closed form: the tent map composed L times (values in [0, 1] for x in [0, 1])."""
    z = np.asarray(x, dtype=np.float64)
    for _ in range(depth):
        z = np.where(z < 0.5, 2 * z, 2 - 2 * z)
    return z


def shallow_sawtooth_theta(depth: int) -> tuple[Architecture, torch.Tensor]:
    """One hidden layer with 2^L ReLUs that equals the sawtooth on [0, 1]: a unit at x = 0 gives
    the first piece its slope 2^L, one unit at each kink k / 2^L turns the slope (by -+2^(L+1))."""
    n = 2**depth
    arch = Architecture((n,), "relu")
    theta = torch.zeros(1, arch.n_params, dtype=torch.float64)
    (w1, b1), (w2, _) = layer_views(arch, theta)
    w1[0, 0] = 1.0  # every unit reads x and ignores y
    b1[0, 0] = torch.as_tensor(-np.arange(n) / n)  # knots at 0, 1/n, ..., (n - 1)/n
    turns = np.where(np.arange(1, n) % 2 == 1, -2.0, 2.0) * n  # down, up, down, ...
    w2[0, :, 0] = torch.as_tensor(np.concatenate([[float(n)], turns]))
    return arch, theta


def measure(depths, line_points: int, cells: int) -> dict[int, dict[str, float]]:
    """Per L in depths: pieces along the line y = 0.3 over [0, 1] of the deep sawtooth and its
    shallow twin, their largest error against the closed form, their sizes, and the regions of
    the deep one over the unit square (a `cells` x `cells` grid)."""
    # Points at cell centres, never on a kink (the kinks sit at dyadic points k / 2^L).
    xs = (np.arange(line_points) + 0.5) / line_points  # (n,)
    line = np.column_stack([xs, np.full_like(xs, 0.3)])
    square = regions.grid((0.0, 1.0, 0.0, 1.0), cells)
    out = {}
    for L in depths:
        row: dict[str, float] = {}
        deep = sawtooth_theta(L)
        for kind, (arch, theta) in (("deep", deep), ("shallow", shallow_sawtooth_theta(L))):
            row[f"{kind}_pieces"] = int(
                regions.count_pieces(regions.patterns(arch, theta, line))[0]
            )
            row[f"{kind}_error"] = float(
                np.abs(logits(arch, theta, line)[0] - sawtooth(xs, L)).max()
            )
            row[f"{kind}_params"] = arch.n_params
            row[f"{kind}_units"] = sum(arch.hidden)
        row["deep_regions"] = int(regions.count_regions(regions.patterns(*deep, square))[0])
        out[L] = row
    return out


def deep_against_shallow(depth: int, deep_width: int, epochs: int, seeds: int, device: str) -> dict:
    """Telgarsky's contrast, trained: `depth` layers of `deep_width` against one hidden layer with
    no fewer parameters, on 1,000 points of the unit square labelled t^L(x) > 1/2 (2^L stripes
    across x), Adam lr 0.01, full batch; test accuracy on 4,000 fresh points per seed, and the
    difference of the medians with its bootstrap standard error."""
    L = depth
    rng = np.random.default_rng(0)
    X, X_test = rng.random((1000, 2)), rng.random((4000, 2))
    y = (sawtooth(X[:, 0], L) > 0.5).astype(np.int64)
    y_test = (sawtooth(X_test[:, 0], L) > 0.5).astype(np.int64)
    deep = Architecture((deep_width,) * L, "relu")
    width = -(-(deep.n_params - 1) // 4)  # one hidden layer: 4 w + 1 parameters
    shallow = Architecture((width,), "relu")
    configs = [
        TrainConfig(hidden=a.hidden, lr=0.01, epochs=epochs, seed=s)
        for a in (deep, shallow)
        for s in range(seeds)
    ]
    results = engine.train(
        configs,
        standardize(X),
        y,
        standardize(X_test),
        y_test,
        log_every=epochs,
        device=device,
    )
    acc = np.array([r.last("val_acc") for r in results]).reshape(2, seeds)
    # Standard error of a difference of medians, by the bootstrap over seeds (fixed seed: stable).
    boot = np.random.default_rng(1)
    draws = [
        np.median(boot.choice(acc[0], seeds)) - np.median(boot.choice(acc[1], seeds))
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
