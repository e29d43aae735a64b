"""Optimizers: how a parameter moves once the backward pass has filled its `grad`.

Both follow `torch.optim` formula for formula (the tests hold them to 1e-10 in float64):

    SGD   g <- grad + weight_decay * w
          momentum > 0: buf <- g at the first step, then buf <- momentum * buf + g;
                        g <- buf (or g + momentum * buf with nesterov)
          w <- w - lr * g
    Adam  g <- grad (+ weight_decay * w; with decoupled=True, AdamW: w <- w (1 - lr wd) instead)
          m <- beta1 m + (1 - beta1) g              running mean of the gradient
          v <- beta2 v + (1 - beta2) g^2            running mean of its square
          m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t)   undo the zero start
          w <- w - lr * m_hat / (sqrt(v_hat) + eps)

The state (`buf`, `m`, `v`, `t`) is kept per parameter in plain arrays, so a report can show it.
Not here: the gradients (`tensor.py`), the training loop (`train.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pointlab.autodiff.tensor import Tensor


@dataclass
class SGD:
    params: list[Tensor]
    lr: float = 0.01
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    buf: list[np.ndarray | None] = field(default_factory=list)
    t: int = 0  # steps taken

    def __post_init__(self) -> None:
        self.buf = self.buf or [None] * len(self.params)

    def step(self) -> None:
        self.t += 1
        for i, p in enumerate(self.params):
            g = _grad(p)
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if self.momentum:
                previous = self.buf[i]
                buf = g.copy() if previous is None else self.momentum * previous + g
                self.buf[i] = buf
                g = g + self.momentum * buf if self.nesterov else buf
            p.data = p.data - self.lr * g

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()


@dataclass
class Adam:
    params: list[Tensor]
    lr: float = 0.001
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    decoupled: bool = False  # True: AdamW's weight decay
    m: list[np.ndarray] = field(default_factory=list)
    v: list[np.ndarray] = field(default_factory=list)
    t: int = 0  # steps taken

    def __post_init__(self) -> None:
        self.m = self.m or [np.zeros_like(p.data) for p in self.params]
        self.v = self.v or [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        self.t += 1
        correction1 = 1 - self.beta1**self.t
        correction2 = 1 - self.beta2**self.t
        for i, p in enumerate(self.params):
            g = _grad(p)
            w = p.data
            if self.weight_decay and self.decoupled:
                w = w * (1 - self.lr * self.weight_decay)
            elif self.weight_decay:
                g = g + self.weight_decay * w
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * g * g
            denom = np.sqrt(self.v[i]) / np.sqrt(correction2) + self.eps  # sqrt(v_hat) + eps
            p.data = w - (self.lr / correction1) * self.m[i] / denom

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()


Optimizer = SGD | Adam

# TrainConfig's optimizer names this package can run (RMSprop is left to the engine).
SUPPORTED = ("sgd", "momentum", "nesterov", "adam", "adamw")


def make_optimizer(params: list[Tensor], config) -> Optimizer:
    """The optimizer a `pointlab.config.TrainConfig` names, with its hyperparameters."""
    kind = config.optimizer
    if kind in ("sgd", "momentum", "nesterov"):
        return SGD(
            params,
            lr=config.lr,
            momentum=0.0 if kind == "sgd" else config.momentum,
            nesterov=kind == "nesterov",
            weight_decay=config.weight_decay,
        )
    if kind in ("adam", "adamw"):
        return Adam(
            params,
            lr=config.lr,
            beta1=config.beta1,
            beta2=config.beta2,
            eps=config.eps,
            weight_decay=config.weight_decay,
            decoupled=kind == "adamw",
        )
    raise ValueError(f"pointlab.autodiff has no optimizer {kind!r}; it has {SUPPORTED}")


def _grad(p: Tensor) -> np.ndarray:
    return np.zeros_like(p.data) if p.grad is None else p.grad
