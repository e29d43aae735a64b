"""A member's randomness in training: its minibatch order and its dropout masks, every step.

Both are pure functions of the member's own seed and where training is, computed by a
counter-based hash (splitmix64) of positions:
- the order of epoch e is the member's point positions ranked by hash(seed, e, position);
- the dropout mask of hidden layer l in epoch e keeps unit j at the member's training point i
  (its position in the member's own training set) when hash(seed, e, l, i, j), read as a number
  in [0, 1), is below 1 - p.
So a member sees the same batches and the same masks whatever population it trains in (as if
trained alone: neighbours, their widths and batch sizes change nothing), all members' draws come
from one batched computation on the device, and a reference PyTorch loop can be fed exactly the
same batches and masks (`epoch_order`, `dropout_keep`).

With `balanced_batches` a member's epoch is instead n draws with replacement (`balanced_order`):
slot k of epoch e takes the point at which hash(seed, e, k), read as a number in [0, 1), falls in
the cumulative distribution that gives each point 1 / (points of its class), so each class is drawn
equally often in expectation, in every minibatch. A point drawn twice gets the same dropout mask
both times (the mask is named by the point).

Not here: slicing the orders into batches (`population.Population.batches`), applying the masks
(`backprop.forward_train`).
"""

from __future__ import annotations

import torch

_MASK64 = (1 << 64) - 1


def _signed(value: int) -> int:
    """A 64-bit unsigned constant as the int64 torch stores (two's complement)."""
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


_GOLDEN = _signed(0x9E3779B97F4A7C15)
_MIX1 = _signed(0xBF58476D1CE4E5B9)
_MIX2 = _signed(0x94D049BB133111EB)


def _shift_right(x: torch.Tensor, bits: int) -> torch.Tensor:
    # Logical shift on int64: torch's >> is arithmetic, so mask off the copied sign bits.
    return (x >> bits) & ((1 << (64 - bits)) - 1)


def _splitmix64(x: torch.Tensor) -> torch.Tensor:
    # int64 multiplication wraps around, which is exactly the mod-2**64 arithmetic splitmix needs.
    x = x * _GOLDEN
    x = (x ^ _shift_right(x, 30)) * _MIX1
    x = (x ^ _shift_right(x, 27)) * _MIX2
    return x ^ _shift_right(x, 31)


def order_keys(seeds: torch.Tensor, epoch: int, n: int) -> torch.Tensor:
    """(M, n) int64 sort keys: member m's points ranked by hash(seed_m, epoch, position)."""
    positions = torch.arange(n, device=seeds.device, dtype=torch.int64)
    stream = _splitmix64(seeds.to(torch.int64) * 1_000_003 + epoch)  # (M,)
    return _splitmix64(stream.unsqueeze(1) ^ _splitmix64(positions + 1).unsqueeze(0))


def population_order(seeds: torch.Tensor, counts: torch.Tensor, epoch: int, n_max: int):
    """(M, n_max) positions 0..count_m-1 in member m's random order, padding positions last."""
    keys = order_keys(seeds, epoch, n_max)
    positions = torch.arange(n_max, device=seeds.device)
    padding = positions.unsqueeze(0) >= counts.unsqueeze(1)
    keys = torch.where(padding, torch.iinfo(torch.int64).max, keys)
    return torch.argsort(keys, dim=1)


def epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    """(n,) the order in which a lone member with this seed visits its n training points."""
    return torch.argsort(order_keys(torch.tensor([seed]), epoch, n)[0])


_BALANCED = _signed(0xA24BAED4963EE407)  # sets the balanced draws apart from `order_keys`


def balanced_order(
    seeds: torch.Tensor, labels: torch.Tensor, counts: torch.Tensor, epoch: int, n_classes: int
) -> torch.Tensor:
    """(M, n_max) positions drawn with replacement: slot k < count_m holds a point of member m
    drawn with probability 1 / (n_classes_present * count of its class) (every class present in
    the member's set equally likely); slots past count_m hold themselves (padding, never used).
    labels (M, n_max): the label at each of a member's positions (anything at padding)."""
    M, n_max = labels.shape
    positions = torch.arange(n_max, device=seeds.device, dtype=torch.int64)
    valid = positions.unsqueeze(0) < counts.unsqueeze(1)  # (M, n_max)
    per_class = torch.zeros(M, n_classes, dtype=torch.float64, device=seeds.device)
    per_class.scatter_add_(1, labels, valid.to(torch.float64))  # (M, K) points of each class
    mass = torch.where(valid, 1.0 / per_class.gather(1, labels).clamp(min=1), 0.0)  # (M, n_max)
    cdf = mass.cumsum(1)
    cdf = cdf / cdf[:, -1:]
    stream = _splitmix64(_splitmix64(seeds.to(torch.int64) * 1_000_003 + epoch) + _BALANCED)
    keys = _splitmix64(stream.unsqueeze(1) ^ _splitmix64(positions + 1).unsqueeze(0))  # (M, n_max)
    uniform = _shift_right(keys, 11).to(torch.float64) * 2.0**-53  # [0, 1), exact in float64
    drawn = torch.searchsorted(cdf, uniform, right=True)
    drawn = torch.minimum(drawn, (counts - 1).unsqueeze(1))  # rounding at the top of the cdf
    return torch.where(valid, drawn, positions.unsqueeze(0))


def balanced_epoch_order(seed: int, epoch: int, labels: torch.Tensor, n_classes: int):
    """(n,) the points a lone member with this seed and balanced batches visits in `epoch`,
    given its n training labels (as the engine draws them)."""
    counts = torch.tensor([len(labels)])
    return balanced_order(torch.tensor([seed]), labels.view(1, -1), counts, epoch, n_classes)[0]


_DROPOUT_LAYER = _signed(0xD1B54A32D192ED03)  # an odd constant that sets the dropout streams apart
_LOW31 = (1 << 31) - 1


def _lowbias32(x: torch.Tensor) -> torch.Tensor:
    # A 32-bit integer hash (Wellons' lowbias32) on int32, whose multiplication wraps around: the
    # dropout masks are the engine's largest random draws, and int32 is half the traffic of int64.
    x = (x ^ ((x >> 16) & 0xFFFF)) * 0x7FEB352D
    x = (x ^ ((x >> 15) & 0x1FFFF)) * (0x846CA68B - (1 << 32))  # as a signed int32
    return x ^ ((x >> 16) & 0xFFFF)


def dropout_uniform(
    seeds: torch.Tensor, epoch: int, layer: int, points: torch.Tensor, units: int
) -> torch.Tensor:
    """(M, B, units) float32 in [0, 1): member m's draw for unit j of hidden layer `layer` at its
    training point points[m, b] (a position in its own training set; points (M, B) or (1, B)) in
    `epoch`. A unit is kept where its draw is below the keep probability. The point, not the
    batch row, names the draw: each point is visited once an epoch, and the member draws the same
    numbers in any batch order, any batch size of its neighbours, any padding."""
    device = seeds.device
    stream = _splitmix64(seeds.to(torch.int64) * 1_000_003 + epoch)  # (M,) as `order_keys`
    layer_key = torch.tensor(layer + 1, dtype=torch.int64, device=device) * _DROPOUT_LAYER
    stream = _splitmix64(stream + layer_key) & _LOW31  # (M,)
    point_key = _splitmix64(points.to(torch.int64) + 1) & _LOW31  # (M or 1, B)
    units_at = torch.arange(units, device=device, dtype=torch.int64) + (1 << 40)  # not a point
    unit_key = _splitmix64(units_at) & _LOW31  # (units,)
    key = (stream.unsqueeze(1) ^ point_key).to(torch.int32).unsqueeze(2)  # (M, B, 1)
    x = _lowbias32(key ^ unit_key.to(torch.int32))  # (M, B, units)
    return (x & 0xFFFFFF).to(torch.float32) * 2.0**-24  # the low 24 bits, exact in float32


def dropout_keep(
    seed: int, epoch: int, layer: int, points: torch.Tensor, units: int, p: float
) -> torch.Tensor:
    """(B, units) bool: the units of a hidden layer that a lone member with this seed and drop
    probability p keeps at its training points `points` (B,) in `epoch` (as the engine does)."""
    keep = 1.0 - torch.tensor(p, dtype=torch.float32)
    return dropout_uniform(torch.tensor([seed]), epoch, layer, points.unsqueeze(0), units)[0] < keep
