"""Adversarial examples of 2-D points: FGSM and PGD in an L-infinity ball, for a whole population.

Goodfellow et al. 2015 (FGSM): one step of size eps along the sign of the loss gradient with
respect to the input. Madry et al. 2018 (PGD): `steps` steps of size alpha (= 2.5 eps / steps, as
theirs) along the sign, each followed by projection back onto the ball |delta|_inf <= eps around
the clean point; FGSM is PGD with one step of size eps. Both start at the clean point (no random
start), so an attack is a pure function of the weights and the points. Madry's adversarial
training trains on PGD's points: `Adversary` is that as the engine's `train_inputs` hook
(`engine.training`), PGD against each member's weights as they are at every training pass.

Perturbations are in the units of the points, whatever the network takes: a run may standardize
the points and compute features of them (`features.py`), so an attack differentiates through
`ModelInputs`, that same transform written in torch (a test holds it to `features.model_inputs`).
The gradient with respect to the points is torch.autograd's on the batched forward pass in
evaluation mode: evaluation, not training, so no second training loop.

A model here is a function inputs (M, B, D) -> logits (M, B, n_outputs) of M members at once
(`Population.logits` in evaluation mode). Each member's eps is
its own: eps (M,) per member, or (M, B) per point (the margin's bisection).

Not here: training (`engine.training`), the experiment and its pictures
(`experiments/adversarial.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from pointlab.engine.training import InputBatch
from pointlab.features import FEATURES, RAW, Scaling

Model = Callable[[torch.Tensor], torch.Tensor]  # inputs (M, B, D) -> logits (M, B, n_outputs)
STEP_RATIO = 2.5  # Madry et al.'s step: 2.5 eps / steps, so the walk can cross the ball and back

# The features whose numpy function torch cannot differentiate through; the others (x, y, x2, y2,
# xy) are products that take tensors as they are.
_TORCH_FEATURES = {"sinx": lambda x, y: torch.sin(x), "siny": lambda x, y: torch.sin(y)}


@dataclass(frozen=True)
class ModelInputs:
    """`features.model_inputs` in torch: points (..., 2) -> the network's inputs (..., D), in the
    points' dtype, differentiable."""

    features: tuple[str, ...] = RAW
    scaling: Scaling | None = None

    def __call__(self, points: torch.Tensor) -> torch.Tensor:
        if self.scaling is not None:
            mean = torch.tensor(self.scaling.mean, dtype=points.dtype, device=points.device)
            std = torch.tensor(self.scaling.std, dtype=points.dtype, device=points.device)
            points = (points - mean) / std
        x, y = points[..., 0], points[..., 1]
        columns = [_TORCH_FEATURES.get(name, FEATURES[name][1])(x, y) for name in self.features]
        return torch.stack(columns, dim=-1)


def point_losses(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(M, B) each point's cross-entropy (binary from one logit, softmax from K); labels (B,)
    shared or (M, B), integer or float."""
    if logits.shape[2] == 1:
        z = logits.squeeze(2)  # (M, B)
        return F.binary_cross_entropy_with_logits(
            z, labels.to(z.dtype).expand_as(z), reduction="none"
        )
    index = labels.long().expand(logits.shape[:2]).unsqueeze(2)  # (M, B, 1)
    return -torch.log_softmax(logits, dim=2).gather(2, index).squeeze(2)


def predictions(logits: torch.Tensor) -> torch.Tensor:
    """(M, B) predicted classes."""
    return (logits[..., 0] > 0).long() if logits.shape[2] == 1 else logits.argmax(2)


def pgd(
    model: Model,
    inputs: ModelInputs,
    points: torch.Tensor,
    labels: torch.Tensor,
    eps: torch.Tensor,
    steps: int = 10,
    step_ratio: float = STEP_RATIO,
) -> torch.Tensor:
    """(M, B, 2) PGD's points: `steps` signed-gradient steps of step_ratio * eps / steps that
    raise each point's loss, each projected onto the L-infinity ball of radius eps around the
    clean point. points (B, 2) shared or (M, B, 2); eps (M,) or (M, B)."""
    eps = eps.reshape(eps.shape[0], -1, 1).to(points.dtype)  # (M, 1 or B, 1)
    clean = points.expand(eps.shape[0], *points.shape[-2:])  # (M, B, 2)
    alpha = step_ratio * eps / steps
    delta = torch.zeros_like(clean)
    for _ in range(steps):
        delta.requires_grad_(True)
        with torch.enable_grad():
            loss = point_losses(model(inputs(clean + delta)), labels).sum()  # points apart
            (grad,) = torch.autograd.grad(loss, delta)
        delta = torch.minimum(torch.maximum(delta.detach() + alpha * grad.sign(), -eps), eps)
    return clean + delta


def fgsm(
    model: Model, inputs: ModelInputs, points: torch.Tensor, labels: torch.Tensor, eps: torch.Tensor
) -> torch.Tensor:
    """(M, B, 2) FGSM's points: points + eps * sign(gradient of the loss), PGD's one step."""
    return pgd(model, inputs, points, labels, eps, steps=1, step_ratio=1.0)


@torch.no_grad()
def accuracy(
    model: Model, inputs: ModelInputs, points: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """(M,) each member's accuracy on its points (B, 2) or (M, B, 2)."""
    return (predictions(model(inputs(points))) == labels).float().mean(1)


def margins(
    model: Model,
    inputs: ModelInputs,
    points: torch.Tensor,
    labels: torch.Tensor,
    members: int,
    *,
    largest: float,
    steps: int = 10,
    halvings: int = 10,
) -> torch.Tensor:
    """(M, B) each point's L-infinity distance to the member's boundary, estimated from above:
    the smallest eps at which PGD flips the prediction, by bisection in [0, largest] (to within
    largest / 2^halvings); 0 for a point already misclassified, `largest` for one that PGD does
    not flip within it."""
    shape = (members, points.shape[-2])
    low = torch.zeros(shape, device=points.device)
    high = torch.full(shape, largest, device=points.device)
    with torch.no_grad():
        wrong = predictions(model(inputs(points.expand(members, *points.shape[-2:])))) != labels
    for _ in range(halvings):
        middle = (low + high) / 2
        moved = pgd(model, inputs, points, labels, middle, steps)
        with torch.no_grad():
            flipped = predictions(model(inputs(moved))) != labels  # (M, B)
        high = torch.where(flipped, middle, high)
        low = torch.where(flipped, low, middle)
    return torch.where(wrong, torch.zeros_like(high), high)


@dataclass(frozen=True)
class Adversary:
    """Madry et al.'s adversarial training as `engine.Training`'s `train_inputs` hook: every
    training pass takes PGD's points against the member's weights as they are, each member at
    its own eps. The inputs it returns are the engine's own plus the change the perturbation
    makes to them (in float64), so a member with eps 0 trains on exactly its clean inputs."""

    points: torch.Tensor  # (N, 2) the points, row for row the X the population trains on
    inputs: ModelInputs  # how X was made from them
    eps: torch.Tensor  # (M,) each member's radius, in the units of the points
    steps: int = 7

    def __call__(self, batch: InputBatch) -> torch.Tensor:
        if len(self.eps) != len(batch.points):
            raise ValueError(
                f"the adversary has {len(self.eps)} eps values for a population of "
                f"{len(batch.points)} members"
            )
        clean = self.points[batch.points]  # (M, B, 2)
        moved = pgd(batch.logits, self.inputs, clean, batch.labels, self.eps, self.steps)
        shift = self.inputs(moved.double()) - self.inputs(clean.double())  # (M, B, D)
        return (batch.inputs + shift).float()
