"""The batched matrix products of a step, each in the orientation the CPU's kernels do fastest.

A product whose result has only a few columns, like the output layer's (M, B, 1) logits and its
weight gradient (M, 128, 1), is 2-5x slower in torch's CPU `bmm` than the same product transposed
(measured on an AMD EPYC with AVX-512, M = 8 ... 160 members, B = 120 ... 1000 points, in
benchmarks/README.md): C = A B is then computed as C^T = B^T A^T, which is the same sums of the
same products, and C is returned as a transposed view. An outer product (a contraction over one
index: the output layer's dh = dz W^T) is one broadcast multiplication, no GEMM at all. And a
product meant for a strided view (a weight gradient inside the flat gradient) goes to a new tensor
and is copied: on two threads bmm writes through such a view far more slowly.

A single model's products (M = 1) are left alone unless large: torch already does them well.
Tiny products gain nothing from either trick. On a GPU (not measured yet) every product is
torch's own.
"""

from __future__ import annotations

import torch

NARROW = 16  # results with fewer columns than this (and more rows) are computed transposed
SMALL = 4096  # rows x contraction x members below which the orientation does not matter


def _transposed(a: torch.Tensor, columns: int) -> bool:
    # Cheapest tests first: at M = 1 a step takes ~0.4 ms and each microsecond here shows.
    if columns >= NARROW:
        return False
    members, rows, inner = a.shape
    if columns >= rows or members * rows * inner < SMALL:
        return False
    return (members > 1 or rows * inner >= 65536) and a.is_cpu


def affine(b: torch.Tensor, a: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """b + a @ w for a (M, R, K), w (M, K, C), b (M, 1, C): `torch.baddbmm`, maybe transposed."""
    if _transposed(a, w.shape[2]):
        at, wt = a.transpose(1, 2), w.transpose(1, 2)
        return torch.baddbmm(b.transpose(1, 2), wt, at).transpose(1, 2)
    return torch.baddbmm(b, a, w)


def matmul(a: torch.Tensor, b: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """a @ b for a (M, R, K), b (M, K, C): `torch.bmm`, maybe transposed or a broadcast product."""
    members, rows, inner = a.shape
    if inner == 1 and members > 1 and members * rows * b.shape[2] >= SMALL and a.is_cpu:
        # Into a row-major result: left to itself, the product takes its layout from the
        # inputs' strides, and a column-major dh made the next layer's products 3x slower.
        if out is None:
            out = torch.empty(members, rows, b.shape[2], dtype=a.dtype, device=a.device)
        return torch.mul(a, b, out=out)
    if _transposed(a, b.shape[2]):
        result = torch.bmm(b.transpose(1, 2), a.transpose(1, 2)).transpose(1, 2)
        # Copied, not written through out=: bmm into a strided view is several times slower.
        return out.copy_(result) if out is not None else result
    if out is None:
        return torch.bmm(a, b)
    if not out.is_contiguous():
        # A member's slice of the flat (M, P) gradient: bmm writing through the strided view ran
        # 1.1-1.7x slower on two threads (M = 8 ... 64) than bmm into a new tensor and a copy.
        return out.copy_(torch.bmm(a, b))
    return torch.bmm(a, b, out=out)
