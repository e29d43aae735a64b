"""Batched optimizers: one update rule, per-member hyperparameters, on the flat parameters (M, P).

Each rule follows its `torch.optim` counterpart operation by operation (same formula, same order),
so a population member takes exactly the step a lone model would. Hyperparameters are (M, 1)
tensors broadcast over the parameter axis; `stepping` (M, 1) says which members update this step
(a member past its last minibatch of the epoch, diverged or early-stopped does not).

| name      | torch.optim                          |
| --------- | ------------------------------------ |
| sgd       | SGD(lr, weight_decay)                |
| momentum  | SGD(lr, momentum, weight_decay)      |
| nesterov  | SGD(lr, momentum, nesterov=True, …)  |
| adam      | Adam(lr, betas, eps, weight_decay)   |
| adamw     | AdamW(lr, betas, eps, weight_decay)  |
| rmsprop   | RMSprop(lr, alpha, eps, weight_decay)|
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from pointlab.config import TrainConfig


class PopulationOptimizer:
    def __init__(self, kind: str, configs: Sequence[TrainConfig], theta: torch.Tensor) -> None:
        self.kind = kind
        device, dtype = theta.device, theta.dtype

        def column(name):  # (M, 1)
            values = [float(getattr(c, name)) for c in configs]
            return torch.tensor(values, device=device, dtype=dtype).unsqueeze(1)

        self.lr = column("lr")
        self.weight_decay = column("weight_decay")
        self.has_weight_decay = any(c.weight_decay > 0 for c in configs)
        self.momentum, self.alpha = column("momentum"), column("alpha")
        self.beta1, self.beta2, self.eps = column("beta1"), column("beta2"), column("eps")
        self.steps = torch.zeros_like(self.lr)  # per-member step count, for bias correction
        self.buf = (
            torch.zeros_like(theta) if kind in ("momentum", "nesterov", "adam", "adamw") else None
        )
        self.sq = torch.zeros_like(theta) if kind in ("adam", "adamw", "rmsprop") else None

    def set_lr(self, lr) -> None:
        """Per-member learning rates (M,) for the next steps (0 freezes a member)."""
        self.lr.copy_(torch.as_tensor(lr, dtype=self.lr.dtype).view_as(self.lr))

    @torch.no_grad()
    def step(self, theta: torch.Tensor, grad: torch.Tensor, stepping: torch.Tensor | None) -> None:
        """Update theta in place for members where `stepping` (M, 1) is true (None: all)."""
        if stepping is None:
            self._update(theta, grad, self.lr, None)
            return
        # Members that do not step keep their parameters and optimizer state: select per member.
        old = (theta.clone(), *(s.clone() for s in (self.buf, self.sq) if s is not None))
        old_steps = self.steps.clone()
        self._update(theta, grad, self.lr, stepping)
        news = [s for s in (theta, self.buf, self.sq) if s is not None]
        for new, before in zip(news, old, strict=True):
            torch.where(stepping, new, before, out=new)
        torch.where(stepping, self.steps, old_steps, out=self.steps)

    def _update(self, theta, grad, lr, stepping) -> None:
        kind = self.kind
        self.steps += 1
        if kind == "adamw":
            if self.has_weight_decay:
                theta.mul_(1 - lr * self.weight_decay)
        elif self.has_weight_decay:
            grad = grad.add(theta * self.weight_decay)
        if kind == "sgd":
            theta.addcmul_(grad, lr, value=-1)
        elif kind in ("momentum", "nesterov"):
            # torch: buf = grad at the first step, then buf = momentum * buf + grad
            first = self.steps == 1
            self.buf.copy_(torch.where(first, grad, self.buf * self.momentum + grad))
            direction = grad + self.buf * self.momentum if kind == "nesterov" else self.buf
            theta.addcmul_(direction, lr, value=-1)
        elif kind in ("adam", "adamw"):
            self.buf.lerp_(grad, 1 - self.beta1)
            self.sq.mul_(self.beta2).addcmul_(grad, grad * (1 - self.beta2))
            bias_correction1 = 1 - self.beta1**self.steps
            bias_correction2_sqrt = (1 - self.beta2**self.steps).sqrt()
            denom = (self.sq.sqrt() / bias_correction2_sqrt).add_(self.eps)
            theta.addcmul_(self.buf / denom, lr / bias_correction1, value=-1)
        elif kind == "rmsprop":
            self.sq.mul_(self.alpha).addcmul_(grad, grad * (1 - self.alpha))
            denom = self.sq.sqrt().add_(self.eps)
            theta.addcmul_(grad / denom, lr, value=-1)
        else:  # pragma: no cover - TrainConfig validates the name
            raise ValueError(kind)


def clip_grad_norm(grad: torch.Tensor, max_norm: torch.Tensor) -> torch.Tensor:
    """Scale each member's gradient (M, P) so its norm is at most max_norm (M, 1), as
    `torch.nn.utils.clip_grad_norm_` does for one model; inf means no clipping."""
    norm = torch.linalg.vector_norm(grad, dim=1, keepdim=True)
    coef = (max_norm / (norm + 1e-6)).clamp(max=1.0)
    return grad * coef
