"""Per-member losses from logits: each member's mean loss over its own batch, shape (M,).

Two classes: one logit per point and binary cross-entropy from logits (numerically stable: the
book's sigmoid + BCELoss saturates at probabilities of exactly 0 or 1 and then stops learning).
K > 2 classes: K logits and softmax cross-entropy. `mse` is the squared error of the probabilities
(the book invites readers to try it). Label smoothing mixes the targets with the uniform
distribution over the classes, as `torch.nn.functional.cross_entropy(label_smoothing=...)` does.

Points can weigh differently: a member's weight of each point (scikit-learn's sample_weight times
its class's weight, `class_weights`) makes each loss the weighted mean sum(w l) / sum(w) over the
batch, as `torch.nn.functional.cross_entropy(weight=...)` reduces. With `balanced` class weights
over a full batch sum(w) = n, so the two-class loss is also w_0 * `BCEWithLogitsLoss(pos_weight=
w_1 / w_0)`; over a minibatch it is normalized by the batch's own weight. With label smoothing
too, a point's whole smoothed loss takes its class's weight (torch's `cross_entropy(weight=...,
label_smoothing=...)` weighs the uniform part by each class k instead: the two differ there).

Not here: which points a member trains on and their weights gathered per batch
(`population.PointSets`, `Population.batches`).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from pointlab.config import class_weight_values
from pointlab.errors import SettingError


def class_weights(class_weight: str | None, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes,) float32 weight of each class in a member's loss (`TrainConfig.class_weight`).

    None: all 1. `balanced`: n / (n_classes * count_c) over the member's own training labels
    (scikit-learn's `compute_class_weight("balanced")`); a class the member has no training point
    of weighs 1 (there is nothing of it to train on; its validation points count once).
    `W,W,...`: as given, one per class, else a SettingError.
    """
    if class_weight is None:
        return np.ones(n_classes, dtype=np.float32)
    if class_weight == "balanced":
        counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_classes)
        weights = len(labels) / (n_classes * np.maximum(counts, 1))
        return np.where(counts > 0, weights, 1.0).astype(np.float32)
    given = class_weight_values(class_weight)
    if len(given) != n_classes:
        raise SettingError(
            "{class_weight} "
            + SettingError.literal(class_weight)
            + f" gives {len(given)} weights; the data has {n_classes} classes: give one per class"
        )
    return np.asarray(given, dtype=np.float32)


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

    The book's case (two classes, cross-entropy, no smoothing) in closed form: d/dz of the mean of
    softplus(z) - t z is (sigmoid(z) - t) / B, and of the weighted mean sum(w l) / sum(w) it is
    w (sigmoid(z) - t) / sum(w) (class weights, sample weights, padding: autograd took five times
    as long for these few nodes). Every other case asks autograd for the gradient of
    `member_losses` on the logits alone: a graph of a few nodes.
    """
    if n_classes == 2 and kind == "bce" and smoothing is None:
        z = logits.squeeze(2)  # (M, B)
        t = targets.to(z.dtype).expand_as(z)
        each = F.binary_cross_entropy_with_logits(z, t, reduction="none")
        dz = torch.sigmoid(logits)  # (M, B, 1)
        if weights is None:
            dz.squeeze(2).sub_(t).div_(z.shape[1])
            return each.mean(1), dz
        total = weights.sum(1, keepdim=True).clamp(min=1e-30)  # (M, 1), as `member_losses`
        dz.squeeze(2).sub_(t).mul_(weights / total)
        return (each * weights).sum(1) / total.squeeze(1), dz
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
