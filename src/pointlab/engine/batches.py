"""Minibatch order: each member's own random permutation of its training points, every epoch.

The order is a pure function of (seed, epoch, n): a counter-based hash (splitmix64) of each point's
position, sorted. So a member sees the same batches whatever population it trains in (as if trained
alone), all members' orders come from one batched computation on the device, and a reference
PyTorch loop can be fed exactly the same batches (`epoch_order`).
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
