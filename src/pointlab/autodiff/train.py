"""Training with `pointlab.autodiff`: the four stages of learning, written out, full batch.

    for each epoch:
        logits = model(x)           1. forward: every layer's values, kept for the backward pass
        loss = model.loss(logits)   2. the loss: one number
        loss.backward()             3. backward: dL/dw for every weight, by the chain rule
        optimizer.step()            4. update: move every weight against its gradient

This is the book's loop (all points in each step, printed loss = the loss of the forward pass
before that epoch's update), so its history lines up with the engine's row for row. It is a
reference to read and to check against, not a fast trainer: use `pointlab train` for that.
Not here: the model (`mlp.py`), the update rules (`optim.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pointlab.autodiff.mlp import MLP
from pointlab.autodiff.optim import Optimizer, make_optimizer
from pointlab.autodiff.tensor import Tensor, one_blas_thread


@dataclass(frozen=True)
class History:
    epochs: tuple[int, ...]
    losses: tuple[float, ...]  # the loss before the update of that epoch (the book's printout)


def fit(
    model: MLP,
    X: np.ndarray,
    y: np.ndarray,
    optimizer: Optimizer,
    epochs: int,
    loss: str = "bce",
    log_every: int = 100,
) -> History:
    """Train `model` in place for `epochs` full-batch steps; the loss at every `log_every`-th
    epoch and at the last (epoch = epochs: the model after all its updates)."""
    x = Tensor(X, label="x")  # (N, 2)
    logged_epochs, logged = [], []
    with one_blas_thread():
        for epoch in range(epochs + 1):
            value = model.loss(model(x), y, loss)  # 1 and 2: forward, loss
            if epoch % log_every == 0 or epoch == epochs:
                logged_epochs.append(epoch)
                logged.append(float(value.data))
            if epoch == epochs:
                break
            value.backward()  # 3: gradients of every parameter
            optimizer.step()  # 4: the update
    return History(tuple(logged_epochs), tuple(logged))


def train_config(
    config, X: np.ndarray, y: np.ndarray, n_classes: int = 2, epochs: int | None = None
) -> tuple[MLP, Optimizer, History]:
    """Train a `TrainConfig`'s model from the engine's initial weights for its seed, the book's
    way (full batch, constant learning rate): the model, its optimizer (with its state) and the
    history. `epochs` overrides config.epochs."""
    model = MLP.init(config.hidden, config.activation, n_classes, config.seed)
    optimizer = make_optimizer(model.parameters(), config)
    n = config.epochs if epochs is None else epochs
    history = fit(model, X, y, optimizer, n, config.loss, log_every=max(1, n // 100 or 1))
    return model, optimizer, history
