"""Per-member losses from logits: each member's mean loss over its own batch, shape (M,).

Two classes: one logit per point and binary cross-entropy from logits (numerically stable: the
book's sigmoid + BCELoss saturates at probabilities of exactly 0 or 1 and then stops learning).
K > 2 classes: K logits and softmax cross-entropy. `mse` is the squared error of the probabilities
(the book invites readers to try it). Label smoothing mixes the targets with the uniform
distribution over the classes, as `torch.nn.functional.cross_entropy(label_smoothing=...)` does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def member_losses(
    logits: torch.Tensor,
    targets: torch.Tensor,
    weights: torch.Tensor | None,
    kind: str,
    n_classes: int,
    smoothing: torch.Tensor | None = None,
) -> torch.Tensor:
    """(M,) mean loss of each member.

    logits (M, B, n_out); targets (B,) shared or (M, B), int64 labels; weights (M, B): 0/1 that
    mask out padding, times each point's own weight where there are any (None: every point
    counts once); smoothing (M, 1) or None.
    """
    if n_classes == 2:
        z = logits.squeeze(2)  # (M, B)
        t = targets.to(z.dtype).expand_as(z)
        if smoothing is not None:
            t = t * (1 - smoothing) + smoothing / 2
        if kind == "mse":
            elem = (torch.sigmoid(z) - t) ** 2
        else:
            elem = F.binary_cross_entropy_with_logits(z, t, reduction="none")
    else:
        logp = torch.log_softmax(logits, dim=2)  # (M, B, K)
        index = targets.expand(logits.shape[:2]).unsqueeze(2)  # (M, B, 1)
        if kind == "mse":
            onehot = F.one_hot(index.squeeze(2), n_classes).to(logits.dtype)
            elem = ((logp.exp() - onehot) ** 2).mean(2)
        else:
            elem = -logp.gather(2, index).squeeze(2)
            if smoothing is not None:
                elem = (1 - smoothing) * elem - smoothing * logp.mean(2)
    if weights is None:
        return elem.mean(1)
    # A weighted mean; the clamp only keeps a batch of no weight (a member's padding) at 0 / 0.
    return (elem * weights).sum(1) / weights.sum(1).clamp(min=1e-30)


def member_loss_and_grad(
    logits: torch.Tensor,
    targets: torch.Tensor,
    weights: torch.Tensor | None,
    kind: str,
    n_classes: int,
    smoothing: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """((M,) mean loss of each member, (M, B, n_out) gradient of their sum w.r.t. the logits).

    The book's case (two classes, cross-entropy, no smoothing, every point counts) in closed form:
    d/dz of the mean of softplus(z) - t z is (sigmoid(z) - t) / B. Every other case asks autograd
    for the gradient of `member_losses` on the logits alone: a graph of a few nodes.
    """
    if n_classes == 2 and kind == "bce" and smoothing is None and weights is None:
        z = logits.squeeze(2)  # (M, B)
        t = targets.to(z.dtype).expand_as(z)
        loss = F.binary_cross_entropy_with_logits(z, t, reduction="none").mean(1)
        dz = torch.sigmoid(logits)  # (M, B, 1)
        dz.squeeze(2).sub_(t).div_(z.shape[1])
        return loss, dz
    with torch.enable_grad():
        z = logits.detach().requires_grad_(True)
        loss = member_losses(z, targets, weights, kind, n_classes, smoothing)
        (dz,) = torch.autograd.grad(loss.sum(), z)
    return loss.detach(), dz


def member_correct(
    logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None
) -> torch.Tensor:
    """(M,) number of correctly classified points of each member."""
    if logits.shape[2] == 1:
        correct = (logits.squeeze(2) > 0) == targets.bool()
    else:
        correct = logits.argmax(2) == targets
    return correct.sum(1) if weights is None else (correct * weights).sum(1)


def member_squared_error(
    outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None
) -> torch.Tensor:
    """(M,) each member's mean squared error of real-valued outputs (M, B, O) against targets
    (M, B, O) (a generative member's velocity or noise: `generative.py`): the mean over points
    (weighted by weights (M, B) where given) of the mean over the O outputs, which is
    `F.mse_loss` when every point counts once."""
    elem = ((outputs - targets) ** 2).mean(2)  # (M, B)
    if weights is None:
        return elem.mean(1)
    return (elem * weights).sum(1) / weights.sum(1).clamp(min=1e-30)


def member_squared_error_and_grad(
    outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """((M,) `member_squared_error`, (M, B, O) the gradient of their sum w.r.t. the outputs):
    d/dz of mean_b mean_o (z - t)^2 is 2 (z - t) / (B O); weighted, 2 w_b (z - t) / (O sum w)."""
    diff = outputs - targets  # (M, B, O)
    elem = (diff * diff).mean(2)  # (M, B)
    scale = 2.0 / diff.shape[2]
    if weights is None:
        return elem.mean(1), diff.mul_(scale / diff.shape[1])
    total = weights.sum(1).clamp(min=1e-30)  # (M,)
    loss = (elem * weights).sum(1) / total
    return loss, diff.mul_((scale * weights / total.unsqueeze(1)).unsqueeze(2))
