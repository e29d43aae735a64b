"""Linear regions of ReLU networks over the plane, counted exactly from activation patterns.

Given which ReLUs are on (the activation pattern), every pre-activation is an affine function of the
input, so the set of inputs with one pattern is an intersection of half-planes: a convex polygon.
Counting the distinct patterns met on a fine grid therefore counts the activation regions (missing
only those thinner than a grid cell); along a line, the pattern changes count the pieces.

Also here: Telgarsky's (2016) sawtooth, built as an engine network of depth L with 2 ReLUs a layer,
and its one-hidden-layer twin with 2^L ReLUs.

Not here: the experiment and its claims (`experiments/depth.py`), the drawing (`plots/regions.py`).
"""

from __future__ import annotations

import numpy as np
import torch

from pointlab.engine.models import Architecture, layer_views


def patterns(arch: Architecture, theta: torch.Tensor, points: np.ndarray) -> np.ndarray:
    """Activation pattern ids (M, N): one integer per distinct on/off pattern of all hidden ReLUs.

    theta (M, P) in the engine's layout, points (N, 2). Ids are comparable within one member only.
    """
    x = torch.as_tensor(np.asarray(points, dtype=np.float64))
    layers = layer_views(arch, theta.detach().to(torch.float64))
    h = x.expand(theta.shape[0], *x.shape)  # (M, N, 2)
    bits = []
    for w, b in layers[:-1]:
        z = torch.baddbmm(b, h, w)  # (M, N, width)
        bits.append(z > 0)
        h = torch.relu(z)
    on = torch.cat(bits, dim=2).numpy()  # (M, N, neurons) bool
    packed = np.packbits(on, axis=2)  # (M, N, bytes)
    ids = np.empty(on.shape[:2], dtype=np.int64)
    for m in range(on.shape[0]):
        rows = np.ascontiguousarray(packed[m]).view(np.dtype((np.void, packed.shape[2])))
        ids[m] = np.unique(rows.ravel(), return_inverse=True)[1].ravel()
    return ids


def grid(extent: tuple[float, float, float, float], cells: int) -> np.ndarray:
    """(cells * cells, 2) cell centres over extent (x0, x1, y0, y1), row-major from the bottom."""
    x0, x1, y0, y1 = extent
    xs = x0 + (np.arange(cells) + 0.5) * (x1 - x0) / cells
    ys = y0 + (np.arange(cells) + 0.5) * (y1 - y0) / cells
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def count_regions(ids: np.ndarray) -> np.ndarray:
    """(M,) number of distinct patterns per member on the points the ids were computed for."""
    return np.array([len(np.unique(row)) for row in ids])


def count_pieces(ids: np.ndarray) -> np.ndarray:
    """(M,) pieces along a line: 1 + the number of pattern changes between neighbouring points."""
    return 1 + (np.diff(ids, axis=1) != 0).sum(axis=1)


# --- Telgarsky's sawtooth ------------------------------------------------------------------------
def sawtooth_theta(depth: int) -> tuple[Architecture, torch.Tensor]:
    """Depth L, 2 ReLUs a layer: the tent map t(z) = 2 relu(z) - 4 relu(z - 1/2) composed L times
    on the input's x; the output logit is t^L(x), with 2^L linear pieces on [0, 1].

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
