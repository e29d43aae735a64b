"""Normalization of the hidden pre-activations of a population: layer norm and batch norm.

Placed as in the usual MLP, Linear -> Norm -> act (with skips: h + act(norm(a))), each hidden
layer's pre-activation a (M, B, width) is normalized and then scaled and shifted per unit, the
scale and shift being parameters in theta (`models.norm_views`), as torch's `LayerNorm` /
`BatchNorm1d` (eps 1e-5, momentum 0.1) compute it:
- layer norm: each point over the units of the layer, (a - mean) / sqrt(var + eps), var biased;
  a member padded into wider layers (`padding.py`) counts only its own units (a padded unit's
  pre-activation is exactly 0, and its scale and shift are padding, so its output stays 0);
- batch norm, training: each unit over the member's points of the minibatch, var biased; points
  that are padding (a member with fewer points or a smaller batch than the widest, `valid`) are
  left out of the statistics. Each training pass then moves the member's running mean and
  (unbiased) variance by momentum 0.1 and counts the batch (`num_batches_tracked`), unless the
  member no longer trains (`set_live`) or had no point in the batch (sat the step out);
- batch norm, evaluation: (a - running mean) / sqrt(running var + eps).
The running statistics are buffers, not parameters: one (M, Q) float64 tensor `stats` outside
theta (float32 values, the count exact), laid out per hidden layer as mean (width), var (width),
then the count; the tracker snapshots it beside theta (best and last good weights).

Backward: populations that normalize take autograd's gradient of the same batched forward
(`population.Population`), not `backprop.py`'s hand-written one: exact gradients matter more
than speed here, and the hand-written path of plain and residual MLPs stays as it was.

Not here: where normalization sits in the forward pass (`models.forward`), its parameters'
layout (`models.norm_views`), export as torch modules (`models.to_module`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from pointlab.engine.models import EPS, Architecture, Normalize

MOMENTUM = 0.1  # torch.nn.BatchNorm1d's


class Norms:
    """The normalization state of a population: its kind, layer norm's own units per member,
    batch norm's running statistics (`stats`) and which members still move them."""

    def __init__(
        self, padded: Architecture, archs: Sequence[Architecture], device: torch.device
    ) -> None:
        self.kind, self.widths = padded.norm, padded.hidden
        M = len(archs)
        # Layer norm's units of each member, per layer: None when no member is padded there,
        # else (mask (M, 1, W) 1 for own units, count (M, 1, 1)).
        self.units: list[tuple[torch.Tensor, torch.Tensor] | None] = []
        for i, width in enumerate(padded.hidden):
            own = [a.hidden[i] for a in archs]
            if all(w == width for w in own):
                self.units.append(None)
                continue
            counts = torch.tensor(own, dtype=torch.float32, device=device).view(M, 1, 1)
            mask = (torch.arange(width, device=device).view(1, 1, width) < counts).float()
            self.units.append((mask, counts))
        self.own = [a.hidden for a in archs]
        self.stats: torch.Tensor | None = None
        self.live = torch.ones(M, 1, 1, dtype=torch.bool, device=device)
        if self.kind == "batch":
            self.stats = torch.zeros(M, 2 * sum(padded.hidden) + 1, dtype=torch.float64)
            self.stats = self.stats.to(device)
            for _, var in self.running(self.stats):
                var.fill_(1.0)

    def running(self, stats: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Views (running mean (M, 1, W), running var (M, 1, W)) of each layer into stats."""
        views, offset, m = [], 0, stats.shape[0]
        for width in self.widths:
            mean = stats[:, offset : offset + width].view(m, 1, width)
            var = stats[:, offset + width : offset + 2 * width].view(m, 1, width)
            views.append((mean, var))
            offset += 2 * width
        return views

    def set_live(self, live: np.ndarray) -> None:
        """Which members still train (M,) (1 / 0): only those move their running statistics."""
        self.live = torch.as_tensor(live > 0, device=self.live.device).view(-1, 1, 1)

    def member_stats(self, stats: torch.Tensor, member: int) -> list[dict[str, torch.Tensor]]:
        """Member's running statistics in stats (M, Q) (this population's or a snapshot) as
        `torch.nn.BatchNorm1d` buffers of its own widths, per hidden layer."""
        tracked = int(stats[member, -1].item())
        out = []
        for (mean, var), width in zip(self.running(stats), self.own[member], strict=True):
            out.append(
                {
                    "running_mean": mean[member, 0, :width].float().cpu(),
                    "running_var": var[member, 0, :width].float().cpu(),
                    "num_batches_tracked": torch.tensor(tracked),  # one tensor each (safetensors)
                }
            )
        return out

    def bind(
        self,
        views: list[tuple[torch.Tensor, torch.Tensor]],
        train: bool,
        valid: torch.Tensor | None = None,
    ) -> Normalize:
        """The normalization of one forward pass: views (scale, shift) per hidden layer
        (`models.norm_views` of theta, or of autograd's leaf); train: batch statistics (and a
        step of the running ones) or, for batch norm, the running statistics; valid (M, B)
        1 / 0: the rows of each member's batch that are its points (None: all are)."""

        def normalize(i: int, a: torch.Tensor) -> torch.Tensor:
            scale, shift = views[i]
            if self.kind == "layer":
                z = self._layer(i, a)
            elif train:
                z = self._batch(i, a, valid)
            else:
                assert self.stats is not None
                mean, var = self.running(self.stats)[i]
                z = (a - mean.float()) * torch.rsqrt(var.float() + EPS)
            return z * scale + shift

        return normalize

    def _layer(self, i: int, a: torch.Tensor) -> torch.Tensor:
        units = self.units[i]
        if units is None:
            return F.layer_norm(a, a.shape[-1:], eps=EPS)  # (M, B, W)
        mask, count = units
        mean = a.sum(2, keepdim=True) / count  # padded units' pre-activations are exactly 0
        centered = (a - mean) * mask
        var = (centered * centered).sum(2, keepdim=True) / count
        return centered * torch.rsqrt(var + EPS)

    def _batch(self, i: int, a: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
        if valid is None:
            var, mean = torch.var_mean(a, dim=1, keepdim=True, correction=0)  # (M, 1, W)
            n = torch.full((a.shape[0], 1, 1), float(a.shape[1]), device=a.device)
        else:
            v = valid.to(a.dtype).unsqueeze(2)  # (M, B, 1)
            n = v.sum(1, keepdim=True)  # (M, 1, 1) points of each member in this batch
            count = n.clamp(min=1)  # a member sitting this step out: 0 / 1, no NaN
            mean = (a * v).sum(1, keepdim=True) / count
            centered = (a - mean) * v
            var = (centered * centered).sum(1, keepdim=True) / count
        self._step_running(i, mean.detach(), var.detach(), n)
        return (a - mean) * torch.rsqrt(var + EPS)

    @torch.no_grad()
    def _step_running(self, i: int, mean: torch.Tensor, var: torch.Tensor, n: torch.Tensor):
        """One step of layer i's running statistics, as torch: running = (1 - momentum) *
        running + momentum * batch, the variance unbiased (n / (n - 1); a lone point's as is)."""
        assert self.stats is not None
        moving = self.live & (n > 0)  # (M, 1, 1)
        unbiased = var * torch.where(n > 1, n / (n - 1).clamp(min=1), 1.0)
        running_mean, running_var = self.running(self.stats)[i]
        for running, batch in ((running_mean, mean), (running_var, unbiased)):
            moved = (1 - MOMENTUM) * running.float() + MOMENTUM * batch
            running.copy_(torch.where(moving, moved, running.float()))
        if i == len(self.widths) - 1:  # one batch counted once, after its last layer
            self.stats[:, -1] += moving.view(-1).to(self.stats.dtype)
