"""Curvature of the training loss of trained members: the loss as a function of theta, its top
Hessian eigenvalue by power iteration, and the whole spectrum of a small net.

The loss is the engine's (`member_losses` on `forward` over `layer_views` of theta (M, P)), so it
is exactly the objective the members were trained on. Members are independent, so one
Hessian-vector product of the summed loss gives every member its own product at once.

Not here: training (`pointlab.engine`), the experiments that use these (`batch_noise`,
`landscape`).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from pointlab.engine.losses import member_losses
from pointlab.engine.models import Architecture, forward, layer_views


def member_loss(arch: Architecture, theta: torch.Tensor, X, y) -> torch.Tensor:
    """(M,) mean cross-entropy of each member theta[m] on the points X (N, 2), labels y (N,)."""
    x = torch.as_tensor(np.asarray(X), dtype=theta.dtype)
    targets = torch.as_tensor(np.asarray(y), dtype=torch.int64)
    logits = forward(arch, layer_views(arch, theta), x)  # (M, N, n_outputs)
    return member_losses(logits, targets, None, "bce", arch.n_classes)


def top_eigenvalue(
    arch: Architecture, theta: torch.Tensor, X, y, iters: int = 40, seed: int = 0
) -> np.ndarray:
    """(M,) largest Hessian eigenvalue of each member's training loss, by power iteration on
    Hessian-vector products (double backward), in float64."""
    theta = theta.detach().to(torch.float64).requires_grad_(True)  # (M, P)
    (grad,) = torch.autograd.grad(member_loss(arch, theta, X, y).sum(), theta, create_graph=True)
    v = torch.randn(theta.shape, generator=torch.Generator().manual_seed(seed), dtype=theta.dtype)
    v /= v.norm(dim=1, keepdim=True)
    value = torch.zeros(theta.shape[0], dtype=theta.dtype)
    for _ in range(iters):
        (hv,) = torch.autograd.grad(grad, theta, grad_outputs=v, retain_graph=True)  # (M, P)
        value = (hv * v).sum(1)  # Rayleigh quotient
        v = hv / hv.norm(dim=1, keepdim=True).clamp(min=1e-30)
    return value.detach().numpy()


def spectrum(arch: Architecture, theta_row: torch.Tensor, X, y) -> np.ndarray:
    """All eigenvalues (P,), ascending, of one member's Hessian (P, P), built whole with
    `torch.func.hessian` in float64 (small nets only: P of a few hundred)."""
    with warnings.catch_warnings():  # torch.func's first import warns about torch.jit
        warnings.simplefilter("ignore", FutureWarning)
        from torch.func import hessian

    def loss(flat: torch.Tensor) -> torch.Tensor:
        return member_loss(arch, flat.unsqueeze(0), X, y)[0]

    with warnings.catch_warnings():  # and so does its first call
        warnings.simplefilter("ignore", FutureWarning)
        H = hessian(loss)(theta_row.detach().to(torch.float64))
    return torch.linalg.eigvalsh((H + H.T) / 2).numpy()
