"""Trained members as plain tensors: the inputs they see, their logits and errors on points.

The experiments that take the engine's members apart (regions, paths, sharpness, pruning) hold a
population's weights as theta (M, P) in the engine's layout (`engine.models.layer_views`) and
evaluate them directly; these are the shared pieces. `standardize` maps the unit square of the
book's data to mean 0 and variance 1 per axis, so ReLU kinks start among the points.

Not here: training (`pointlab.engine`), the loss and its curvature (`experiments/hessian.py`),
verdict statistics (`experiments/base.py`).
"""

from __future__ import annotations

import numpy as np
import torch

from pointlab import generators
from pointlab.engine.models import Architecture, forward, layer_views


def standardize(X: np.ndarray) -> np.ndarray:
    """Points of the unit square (N, 2) -> mean 0, variance 1 per axis (U(0, 1) has variance
    1/12), float32 as the engine trains on."""
    return ((np.asarray(X, dtype=np.float64) - 0.5) * np.sqrt(12.0)).astype(np.float32)


def spiral_points(n_train: int, n_test: int) -> tuple[np.ndarray, np.ndarray]:
    """The book's spiral as one array for the engine: `n_train` training points (seed 0), then
    `n_test` test points (seed 1), standardized: X (n_train + n_test, 2) float32, y (n,)."""
    train = generators.make("spiral", n=n_train, seed=0)
    test = generators.make("spiral", n=n_test, seed=1)
    X = np.concatenate([standardize(train.X), standardize(test.X)])
    return X, np.concatenate([train.y, test.y])


def logits(arch: Architecture, theta: torch.Tensor, points: np.ndarray) -> np.ndarray:
    """(M, N) output logit of each member theta[m] (binary nets) at points (N, 2), computed in
    theta's dtype."""
    with torch.no_grad():
        x = torch.as_tensor(np.asarray(points), dtype=theta.dtype)
        return forward(arch, layer_views(arch, theta), x)[..., 0].numpy()


def error_rate(arch: Architecture, theta: torch.Tensor, points: np.ndarray, y) -> np.ndarray:
    """(M,) share of the points (N, 2) with labels y (N,) in {0, 1} each member gets wrong."""
    return ((logits(arch, theta, points) > 0) != np.asarray(y).astype(bool)).mean(1)
