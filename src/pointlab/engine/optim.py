"""Batched optimizers: one update rule, per-member hyperparameters, on the flat parameters (M, P).

Each rule follows its `torch.optim` counterpart operation by operation (same formula, same order),
so a population member takes exactly the step a lone model would. Hyperparameters are (M, 1)
tensors broadcast over the parameter axis; `stepping` (M, 1) says which members update this step
(a member past its last minibatch of the epoch, diverged or early-stopped does not).

L1 regularization (`l1`) has no torch.optim option: it is the gradient of `l1 * sum|w|` added to
the loss, `l1 * sign(w)` on every parameter weight decay applies to (biases too), added by
`add_l1` where the loss's gradient is formed, before clipping, as autograd would add it.

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

import numpy as np
import torch

from pointlab.config import TrainConfig


class PopulationOptimizer:
    def __init__(self, kind: str, configs: Sequence[TrainConfig], theta: torch.Tensor) -> None:
        self.kind = kind
        device, dtype = theta.device, theta.dtype

        def value(name):
            """A Python float when every member has the same value (cheaper kernels, and scalar
            arithmetic on the host), else an (M, 1) tensor broadcast over the parameters."""
            values = [float(getattr(c, name)) for c in configs]
            if len(set(values)) == 1:
                return values[0]
            return torch.tensor(values, device=device, dtype=dtype).unsqueeze(1)

        self.lr = torch.tensor([c.lr for c in configs], device=device, dtype=dtype).unsqueeze(1)
        self.on_cpu = device.type == "cpu"
        self.same_lr = self._same([c.lr for c in configs])
        self.weight_decay = value("weight_decay")
        self.has_weight_decay = any(c.weight_decay > 0 for c in configs)
        self.l1 = value("l1")
        self.has_l1 = any(c.l1 > 0 for c in configs)
        self.momentum, self.alpha = value("momentum"), value("alpha")
        self.beta1, self.beta2, self.eps = value("beta1"), value("beta2"), value("eps")
        # Step count for bias correction: one host integer while all members step together,
        # an (M, 1) tensor once some member sat a step out (minibatches of different sizes).
        self.steps: int | torch.Tensor = 0
        self.buf = (
            torch.zeros_like(theta) if kind in ("momentum", "nesterov", "adam", "adamw") else None
        )
        self.sq = torch.zeros_like(theta) if kind in ("adam", "adamw", "rmsprop") else None
        if kind in ("adam", "adamw") and self._fusable():
            self.scratch = torch.zeros_like(theta)
            self.step_count = torch.zeros((), device=device, dtype=torch.float32)

    def _fusable(self) -> bool:
        """The fused kernel needs scalar betas and eps and one step count for all members."""
        return (
            hasattr(torch, "_fused_adam_")
            and all(isinstance(v, float) for v in (self.beta1, self.beta2, self.eps))
            and isinstance(self.steps, int)
        )

    def capturable(self) -> bool:
        """True when a step does no host-side arithmetic that changes from step to step, so a
        CUDA graph captured once replays it right: not the per-member-betas Adam (its bias
        corrections are host numbers of the step count), and all members stepping together.
        Momentum's first step (a copy) must have happened before the capture."""
        if not isinstance(self.steps, int):
            return False
        return self.kind not in ("adam", "adamw") or self._fusable()

    def _same(self, lr) -> float | None:
        """The one learning rate of every member (as float32 has it), on a CPU only: a CUDA
        graph must read the tensor."""
        values = np.asarray(lr, dtype=np.float32).ravel()
        return float(values[0]) if self.on_cpu and values.min() == values.max() else None

    def set_lr(self, lr) -> None:
        """Per-member learning rates (M,) for the next steps (0 freezes a member)."""
        self.lr.copy_(torch.as_tensor(lr, dtype=self.lr.dtype).view_as(self.lr))
        self.same_lr = self._same(lr)

    @torch.no_grad()
    def add_l1(self, theta: torch.Tensor, grad: torch.Tensor) -> None:
        """grad += l1 * sign(theta) in place: the gradient of the L1 penalty l1 * sum|theta| (0 at
        w = 0, as torch's abs has it, so pruned and padded zeros stay zero)."""
        if self.has_l1:
            grad.add_(theta.sign() * self.l1)

    @torch.no_grad()
    def step(self, theta: torch.Tensor, grad: torch.Tensor, stepping: torch.Tensor | None) -> None:
        """Update theta in place for members where `stepping` (M, 1) is true (None: all)."""
        if stepping is None:
            self._update(theta, grad)
            return
        # Members that do not step keep their parameters and optimizer state: select per member.
        if isinstance(self.steps, int):
            # float64, as torch.optim computes bias corrections: 1 - 0.999**t in float32 would
            # lose four digits in the first steps.
            self.steps = torch.full_like(self.lr, self.steps, dtype=torch.float64)
        old = (theta.clone(), *(s.clone() for s in (self.buf, self.sq) if s is not None))
        old_steps = self.steps.clone()
        self._update(theta, grad)
        news = [s for s in (theta, self.buf, self.sq) if s is not None]
        for new, before in zip(news, old, strict=True):
            torch.where(stepping, new, before, out=new)
        torch.where(stepping, self.steps, old_steps, out=self.steps)

    def _update(self, theta: torch.Tensor, grad: torch.Tensor) -> None:
        kind, lr = self.kind, self.lr
        self.steps += 1
        if kind == "adamw":
            if self.has_weight_decay:
                theta.mul_(1 - lr * self.weight_decay)
        elif self.has_weight_decay:
            grad = grad.add(theta * self.weight_decay)
        if kind == "sgd":
            theta.addcmul_(grad, lr, value=-1)
        elif kind in ("momentum", "nesterov"):
            buf = self.buf
            assert buf is not None  # made for momentum and nesterov
            # torch: buf = grad at the first step, then buf = momentum * buf + grad
            if isinstance(self.steps, int):
                if self.steps == 1:
                    buf.copy_(grad)
                else:
                    buf.mul_(self.momentum).add_(grad)
            else:
                buf.copy_(torch.where(self.steps == 1, grad, buf * self.momentum + grad))
            direction = grad + buf * self.momentum if kind == "nesterov" else buf
            theta.addcmul_(direction, lr, value=-1)
        elif kind in ("adam", "adamw") and self._fusable():
            buf, sq = self.buf, self.sq
            assert buf is not None and sq is not None  # made for adam and adamw
            # torch's fused Adam kernel: one pass over the state instead of about a dozen. It
            # takes one scalar lr: where members differ it writes the lr = 1 step into a zeroed
            # scratch tensor and each member's own lr scales that (the step is linear in lr);
            # where they share one (a single model, say) it updates theta itself.
            self.step_count.add_(1)
            one_lr = self.same_lr
            same = one_lr is not None
            if one_lr is None:
                self.scratch.zero_()
            torch._fused_adam_(
                [theta if same else self.scratch],
                [grad],
                [buf],
                [sq],
                [],
                [self.step_count],
                lr=1.0 if one_lr is None else one_lr,
                beta1=self.beta1,
                beta2=self.beta2,
                weight_decay=0.0,
                eps=self.eps,
                amsgrad=False,
                maximize=False,
            )
            if not same:
                theta.addcmul_(self.scratch, lr)
        elif kind in ("adam", "adamw"):
            buf, sq = self.buf, self.sq
            assert buf is not None and sq is not None
            beta1, beta2 = self.beta1, self.beta2
            buf.lerp_(grad, 1 - beta1)
            _decay_add_square(sq, grad, beta2)
            bias_correction1 = _float32(1 - beta1**self.steps)
            bias_correction2_sqrt = _float32((1 - beta2**self.steps) ** 0.5)
            denom = sq.sqrt().div_(bias_correction2_sqrt).add_(self.eps)
            theta.addcmul_(buf / denom, lr / bias_correction1, value=-1)
        elif kind == "rmsprop":
            sq = self.sq
            assert sq is not None  # made for rmsprop
            _decay_add_square(sq, grad, self.alpha)
            denom = sq.sqrt().add_(self.eps)
            theta.addcmul_(grad / denom, lr, value=-1)
        else:  # pragma: no cover - TrainConfig validates the name
            raise ValueError(kind)


def _float32(value):
    return value.float() if isinstance(value, torch.Tensor) else value


def _decay_add_square(sq: torch.Tensor, grad: torch.Tensor, decay) -> None:
    """sq = decay * sq + (1 - decay) * grad**2, in place, as torch.optim computes it."""
    sq.mul_(decay)
    if isinstance(decay, float):
        sq.addcmul_(grad, grad, value=1 - decay)
    else:
        sq.addcmul_(grad, grad * (1 - decay))


def clip_grad_norm(grad: torch.Tensor, max_norm: torch.Tensor) -> torch.Tensor:
    """Scale each member's gradient (M, P) so its norm is at most max_norm (M, 1), as
    `torch.nn.utils.clip_grad_norm_` does for one model; inf means no clipping."""
    norm = torch.linalg.vector_norm(grad, dim=1, keepdim=True)
    coef = (max_norm / (norm + 1e-6)).clamp(max=1.0)
    return grad * coef
