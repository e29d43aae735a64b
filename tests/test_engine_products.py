"""`engine.products`: each orientation of a batched product gives torch's own product."""

from __future__ import annotations

import pytest
import torch

from pointlab.engine.products import affine, matmul


@pytest.mark.parametrize(
    ("members", "rows", "inner", "columns", "transposed"),
    [
        (32, 120, 128, 1, True),  # the output layer of a population
        (8, 200, 16, 3, True),  # three classes
        (4, 200, 128, 8, True),  # a narrow hidden layer
        (1, 200, 128, 1, False),  # one model: torch's matrix-vector product
        (32, 120, 128, 128, False),  # wide: as it is
        (2, 10, 4, 2, False),  # tiny: as it is
    ],
)
def test_affine_and_matmul_equal_torch(members, rows, inner, columns, transposed):
    g = torch.Generator().manual_seed(0)
    a = torch.randn(members, rows, inner, generator=g)
    w = torch.randn(members, inner, columns, generator=g)
    b = torch.randn(members, 1, columns, generator=g)
    got = affine(b, a, w)
    torch.testing.assert_close(got, torch.baddbmm(b, a, w), rtol=1e-5, atol=1e-4)
    assert got.is_contiguous() is not transposed or columns == 1  # the transposed view shows
    flat = torch.zeros(members, inner * columns + 5)  # a gradient written into a flat tensor
    gw = flat[:, 2 : 2 + inner * columns].view(members, inner, columns)
    d = torch.randn(members, rows, columns, generator=g)
    assert matmul(a.transpose(1, 2), d, out=gw) is gw
    torch.testing.assert_close(gw, torch.bmm(a.transpose(1, 2), d), rtol=1e-5, atol=1e-3)
    assert flat[:, :2].abs().sum() == 0 and flat[:, 2 + inner * columns :].abs().sum() == 0
    torch.testing.assert_close(
        matmul(d, w.transpose(1, 2)), torch.bmm(d, w.transpose(1, 2)), rtol=1e-5, atol=1e-4
    )
