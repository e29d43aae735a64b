"""Paths and slices through a network's weight space, for the experiment `landscape`.

All of these take a population's weights theta in the engine's layout (`engine.models`) and
evaluate the training loss through `hessian.member_loss`, so a path's points are members: (T, P)
for T points along a path. The straight line between two weight vectors, a quadratic Bezier curve
whose bend is trained as Garipov et al. (2018) do, a path's barrier, and a 2-D slice along two
filter-normalized random directions (Li et al. 2018).

Not here: training the solutions and the claims (`experiments/landscape.py`), the loss and its
Hessian (`experiments/hessian.py`), the drawing (`plots/landscape.py`).
"""

from __future__ import annotations

import numpy as np
import torch

from pointlab.engine.models import Architecture, layer_views
from pointlab.experiments import hessian


def interpolate(start: torch.Tensor, end: torch.Tensor, ts: np.ndarray) -> torch.Tensor:
    """(T, P) points on the straight line from start (P,) to end (P,)."""
    t = torch.as_tensor(ts, dtype=start.dtype).unsqueeze(1)
    return (1 - t) * start + t * end


def bezier(a: torch.Tensor, bend: torch.Tensor, c: torch.Tensor, ts) -> torch.Tensor:
    """(T, P) points of the quadratic Bezier curve from a to c with control point `bend`."""
    t = torch.as_tensor(ts, dtype=a.dtype).unsqueeze(1)
    return (1 - t) ** 2 * a + 2 * t * (1 - t) * bend + t**2 * c


def train_bend(arch, a, c, X, y, steps: int, seed: int) -> torch.Tensor:
    """Garipov et al.'s curve fitting: the bend minimizes the loss averaged over t ~ U(0, 1) (here
    8 fresh t per step), started at the midpoint of the line, Adam lr 0.01, float64."""
    bend = ((a + c) / 2).clone().requires_grad_(True)
    optimizer = torch.optim.Adam([bend], lr=0.01)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        ts = torch.rand(8, generator=generator, dtype=a.dtype)
        loss = hessian.member_loss(arch, bezier(a, bend, c, ts), X, y).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return bend.detach()


def barrier(losses: np.ndarray, ts: np.ndarray) -> float:
    """Height of the path's loss above the straight line between its end losses (Garipov)."""
    return float(np.max(losses - ((1 - ts) * losses[0] + ts * losses[-1])))


def filter_normalized_direction(arch: Architecture, theta: torch.Tensor, seed: int) -> torch.Tensor:
    """A Gaussian direction (P,) whose every filter (a unit's incoming weights) has the norm of
    that filter in theta; biases zero, as Li et al. treat them."""
    d = torch.randn(theta.shape, generator=torch.Generator().manual_seed(seed), dtype=theta.dtype)
    d_views, t_views = layer_views(arch, d.unsqueeze(0)), layer_views(arch, theta.unsqueeze(0))
    for (dw, db), (tw, _) in zip(d_views, t_views, strict=True):
        dw.mul_(tw.norm(dim=1, keepdim=True) / dw.norm(dim=1, keepdim=True))  # (1, fan_in, fan_out)
        db.zero_()
    return d


def surface(arch, theta, X, y, points: int) -> tuple[np.ndarray, np.ndarray]:
    """(alphas (G,), loss (G, G)) over theta + a d1 + b d2, a and b in [-1, 1]."""
    d1, d2 = (filter_normalized_direction(arch, theta, s) for s in (1, 2))
    alphas = np.linspace(-1, 1, points)
    A, B = np.meshgrid(alphas, alphas)  # (G, G): rows b, columns a
    coef = torch.as_tensor(np.stack([A.ravel(), B.ravel()], 1), dtype=theta.dtype)  # (G*G, 2)
    thetas = theta + coef[:, :1] * d1 + coef[:, 1:] * d2  # (G*G, P)
    with torch.no_grad():
        loss = hessian.member_loss(arch, thetas, X, y).numpy()
    return alphas, loss.reshape(points, points)
