"""A population trained one epoch at a time, so a page can play, pause and step it.

`engine.train` runs a whole training to its end; a playground needs to stop after any epoch, show
the model, and go on. `LiveTraining` drives the engine's own `Population` (its forward pass, loss,
optimizer, schedule and minibatch order) with the loop of `engine.loop.train_population`, one epoch
per `step()`, so a member after N steps has exactly the weights that `engine.train` gives it with
`epochs=N` (`tests/test_web_live.py` checks this). Members whose configs differ in architecture,
loss or optimizer kind train as one population per `group_key()`, as `engine.train` groups them.

Between epochs it measures (`measure`: loss and accuracy of every member) and draws numbers for
pictures: each member's class probabilities over a grid of the plane (`regions`) and each hidden
unit's activation over it (`units`).

Not here: the training semantics themselves (`pointlab.engine`), the page (`session.py`).
"""

from __future__ import annotations

import numpy as np
import torch

from pointlab.config import TrainConfig
from pointlab.data import Dataset
from pointlab.engine.losses import member_correct
from pointlab.engine.models import ACTIVATION_FUNCTIONS, layer_views, member_state
from pointlab.engine.population import Population

METRICS = ("train_loss", "train_acc", "val_loss", "val_acc")


class LiveTraining:
    def __init__(
        self,
        configs: list[TrainConfig],
        train: Dataset,
        val: Dataset | None,
        n_classes: int,
        log_every: int,
    ) -> None:
        self.configs, self.n_classes, self.log_every = list(configs), n_classes, log_every
        self.M = len(configs)
        self.epoch = 0  # epochs trained so far
        self.max_epochs = max(c.epochs for c in configs)
        self.diverged = np.zeros(self.M, dtype=bool)
        self.history: dict[str, list[list[float]]] = {
            k: [[] for _ in configs] for k in ("epoch", *METRICS)
        }
        self.set_data(train, val)

    # --- data ---------------------------------------------------------------------------------
    def set_data(self, train: Dataset, val: Dataset | None, keep_weights: bool = False) -> None:
        """(Re)build the populations on new points; `keep_weights` carries every member's
        weights over (the optimizer state starts afresh), so a page can edit points mid-training."""
        old = getattr(self, "groups", None)
        self.train, self.val = train, val
        X = train.X if val is None else np.concatenate([train.X, val.X])  # (N, 2)
        y = train.y if val is None else np.concatenate([train.y, val.y])  # (N,)
        train_index = np.arange(len(train))
        val_index = None if val is None else np.arange(len(train), len(X))
        by_key: dict[tuple, list[int]] = {}
        for m, config in enumerate(self.configs):
            by_key.setdefault(config.group_key(), []).append(m)
        self.groups: list[tuple[list[int], Population]] = []
        self._frozen_at_set: dict[int, int] = {}  # per population: diverged count at set_lr
        for members in by_key.values():
            pop = Population(
                [self.configs[m] for m in members],
                X,
                y,
                [train_index] * len(members),
                None if val_index is None else [val_index] * len(members),
                self.n_classes,
                torch.device("cpu"),
            )
            self.groups.append((members, pop))
        if keep_weights and old is not None:
            for (_, pop), (_, old_pop) in zip(self.groups, old, strict=True):
                with torch.no_grad():
                    pop.theta.copy_(old_pop.theta)
        else:
            self.epoch = 0
            self.diverged[:] = False
            for rows in self.history.values():
                for row in rows:
                    row.clear()

    @property
    def finished(self) -> bool:
        return self.epoch >= self.max_epochs or bool(self.diverged.all())

    # --- training -----------------------------------------------------------------------------
    def step(self) -> None:
        """Train every member for one epoch (the loop of `engine.loop.train_population`)."""
        if self.finished:
            return
        epoch = self.epoch
        logging = epoch % self.log_every == 0
        for members, pop in self.groups:
            # Frozen (diverged) members keep their weights: a learning rate of 0, as the engine.
            # As the engine, a constant schedule sets the rates once (and again when one diverges).
            frozen = int(self.diverged.sum())
            if epoch == 0 or not pop.schedule.static or self._frozen_at_set.get(id(pop)) != frozen:
                pop.optimizer.set_lr(pop.schedule(epoch) * ~self.diverged[members])
                self._frozen_at_set[id(pop)] = frozen
            if pop.full_batch:
                x, targets, weights = pop.full_batch_inputs(pop.train)
                logits = pop.logits(x, train=True)  # (M, N, n_outputs)
                loss = pop.loss(logits, targets, weights, grad=True)  # (M,)
                if logging and pop.dropout is None:
                    # The forward pass before update epoch + 1 measures the model after `epoch`
                    # epochs: the book's printed loss, for free.
                    correct = member_correct(logits.detach(), targets, weights)
                    self._log(members, pop, epoch, (loss.detach(), correct / pop.train.counts))
                elif logging:
                    self._log(members, pop, epoch, None)
                pop.step(None)
            else:
                if logging:
                    self._log(members, pop, epoch, None)
                for x, targets, weights, stepping in pop.batches(epoch):
                    pop.loss(pop.logits(x, train=True), targets, weights, grad=True)
                    pop.step(stepping)
        self.epoch += 1
        if self.epoch == self.max_epochs:  # the last row, as the engine logs it
            for members, pop in self.groups:
                self._log(members, pop, self.epoch, None)

    def _log(self, members: list[int], pop: Population, epoch: int, train_metrics) -> None:
        numbers = self._measure(pop, train_metrics)
        for i, m in enumerate(members):
            if self.diverged[m]:
                continue
            finite = np.isfinite(numbers["train_loss"][i]) and (
                self.val is None or np.isfinite(numbers["val_loss"][i])
            )
            if not finite:  # NaN or infinity: the member stops here, as in the engine
                self.diverged[m] = True
                continue
            self.history["epoch"][m].append(epoch)
            for k in METRICS:
                self.history[k][m].append(float(numbers[k][i]))

    # --- measuring ----------------------------------------------------------------------------
    def _measure(self, pop: Population, train_metrics=None) -> dict[str, np.ndarray]:
        loss, acc = train_metrics or pop.evaluate(pop.train)
        out = {"train_loss": loss.float().numpy(), "train_acc": acc.float().numpy()}
        if pop.val is not None:
            val_loss, val_acc = pop.evaluate(pop.val)
            out.update(val_loss=val_loss.float().numpy(), val_acc=val_acc.float().numpy())
        else:
            out.update(val_loss=np.full(pop.M, np.nan), val_acc=np.full(pop.M, np.nan))
        return out

    def measure(self) -> dict[str, np.ndarray]:
        """(M,) loss and accuracy of every member now, in evaluation mode (NaN: no validation)."""
        out = {k: np.full(self.M, np.nan) for k in METRICS}
        for members, pop in self.groups:
            for k, v in self._measure(pop).items():
                out[k][members] = v
        return out

    # --- pictures -----------------------------------------------------------------------------
    @torch.no_grad()
    def regions(self, members: list[int], grid: np.ndarray) -> np.ndarray:
        """(len(members), G, K) class probabilities at grid points (G, 2)."""
        x = torch.as_tensor(grid, dtype=torch.float32)
        out = np.empty((len(members), len(grid), self.n_classes), dtype=np.float32)
        for group, pop in self.groups:
            wanted = [(i, group.index(m)) for i, m in enumerate(members) if m in group]
            if not wanted:
                continue
            rows, index = zip(*wanted, strict=True)
            if len(index) == 1:  # the main view: one member, not the whole population
                logits = _forward_one(pop, index[0], x).unsqueeze(0)  # (1, G, n_outputs)
            else:
                logits = pop.logits(x, train=False)[list(index)]  # (m, G, n_outputs)
            if self.n_classes == 2:
                p1 = torch.sigmoid(logits[..., 0])  # (m, G)
                probs = torch.stack([1 - p1, p1], -1)
            else:
                probs = torch.softmax(logits, -1)
            out[list(rows)] = probs.numpy()
        return out

    @torch.no_grad()
    def units(self, member: int, grid: np.ndarray) -> list[np.ndarray]:
        """Each hidden layer's activations (G, width) of one member at grid points (G, 2)."""
        pop, j = self._where(member)
        act = ACTIVATION_FUNCTIONS[pop.arch.activation]
        h = torch.as_tensor(grid, dtype=torch.float32)
        out = []
        for w, b in layer_views(pop.arch, pop.theta[j : j + 1])[:-1]:
            h = act(h @ w[0] + b[0])  # (G, width)
            out.append(h.numpy().copy())
        return out

    def weights(self, member: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each layer's (weight (fan_in, fan_out), bias (fan_out,)) of one member."""
        pop, j = self._where(member)
        return [
            (w[0].detach().numpy().copy(), b[0, 0].detach().numpy().copy())
            for w, b in layer_views(pop.arch, pop.theta[j : j + 1])
        ]

    def state(self, member: int) -> dict[str, torch.Tensor]:
        """One member's weights as a `torch.nn.Sequential` state dict (what run dirs hold)."""
        pop, j = self._where(member)
        return member_state(pop.arch, pop.theta, j, self.configs[member].dropout > 0)

    def _where(self, member: int) -> tuple[Population, int]:
        for members, pop in self.groups:
            if member in members:
                return pop, members.index(member)
        raise IndexError(member)


def _forward_one(pop: Population, j: int, x: torch.Tensor) -> torch.Tensor:
    """Logits (G, n_outputs) of member j of `pop` at points x (G, 2), evaluation mode."""
    act = ACTIVATION_FUNCTIONS[pop.arch.activation]
    layers = layer_views(pop.arch, pop.theta[j : j + 1].detach())
    h = x
    for i, (w, b) in enumerate(layers):
        h = torch.addmm(b[0], h, w[0])  # (G, fan_out)
        if i < len(layers) - 1:
            h = act(h)
    return h
