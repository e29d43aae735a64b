"""A population trained one epoch at a time, so a page can play, pause and step it.

`engine.train` runs a whole training to its end; a playground needs to stop after any epoch, show
the model, and go on. `LiveTraining` steps the engine's own `engine.Training`, one epoch per
`step()`, so a member after N steps is exactly where `engine.train` leaves it with `epochs=N`:
the same weights, history, divergence check, early stopping and collapse report
(`tests/test_web_live.py` checks this). Members whose configs differ in architecture, loss or
optimizer kind train as one `Training` per `group_key()`, as `engine.train` groups them, and
members of other inputs (`features`, `standardize`) in Trainings of their own: each takes its
features of the points, standardized by the training points as `pointlab train` does.

Between epochs it measures (`measure`: loss and accuracy of every member) and draws numbers for
pictures: each member's class probabilities over a grid of the plane (`regions`) and each hidden
unit's activation over it (`units`).

Not here: the epoch and the training semantics themselves (`pointlab.engine.training`), the page
(`session.py`).
"""

from __future__ import annotations

import numpy as np
import torch

from pointlab import features
from pointlab.config import TrainConfig
from pointlab.data import Dataset
from pointlab.engine.models import ACTIVATION_FUNCTIONS, layer_views
from pointlab.engine.population import Population
from pointlab.engine.tracker import METRICS
from pointlab.engine.training import Training


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
        self.set_data(train, val)

    # --- data ---------------------------------------------------------------------------------
    def set_data(self, train: Dataset, val: Dataset | None, keep_weights: bool = False) -> None:
        """(Re)build the populations on new points; `keep_weights` carries every member's
        weights, history and status over (the optimizer state starts afresh), so a page can edit
        points mid-training."""
        self.train, self.val = train, val
        X = train.X if val is None else np.concatenate([train.X, val.X])  # (N, 2)
        y = train.y if val is None else np.concatenate([train.y, val.y])  # (N,)
        train_index = np.arange(len(train))
        val_index = None if val is None else np.arange(len(train), len(X))
        if keep_weights and getattr(self, "groups", None):
            # The scaling stays the one the weights learned on: the plane keeps its function.
            for (members, training), scaling in zip(self.groups, self.scalings, strict=True):
                training.replace_points(
                    features.model_inputs(X, self.configs[members[0]].features, scaling),
                    y,
                    [train_index] * len(members),
                    None if val_index is None else [val_index] * len(members),
                )
            return
        by_key: dict[tuple, list[int]] = {}
        for m, config in enumerate(self.configs):
            inputs = (config.features, config.standardize)  # one X per Training
            by_key.setdefault((config.group_key(), inputs), []).append(m)
        self.groups: list[tuple[list[int], Training]] = []
        self.scalings: list[features.Scaling | None] = []  # per group, from the training points
        for members in by_key.values():
            first = self.configs[members[0]]
            scaling = features.fit(train.X, first.standardize)
            self.scalings.append(scaling)
            training = Training(
                [self.configs[m] for m in members],
                features.model_inputs(X, first.features, scaling),
                y,
                [train_index] * len(members),
                None if val_index is None else [val_index] * len(members),
                n_classes=self.n_classes,
                log_every=self.log_every,
            )
            self.groups.append((members, training))
        self.epoch = 0

    @property
    def finished(self) -> bool:
        """Every member reached its epochs or stopped."""
        return all(training.done for _, training in self.groups)

    @property
    def history(self) -> dict[str, list[list[float]]]:
        """Each member's logged rows so far: epoch and METRICS, a list per member."""
        keys = ("epoch", *METRICS)
        out: dict[str, list[list[float]]] = {k: [[] for _ in range(self.M)] for k in keys}
        for members, training in self.groups:
            for k, rows in training.tracker.history.items():
                for i, m in enumerate(members):
                    out[k][m] = rows[i]
        return out

    @property
    def statuses(self) -> list[str]:
        """Each member's status now, as `engine.MemberResult.status` (finished while training)."""
        out = [""] * self.M
        for members, training in self.groups:
            for i, m in enumerate(members):
                out[m] = training.tracker.status[i]
        return out

    @property
    def diverged(self) -> np.ndarray:
        """(M,) bool: members that diverged (their loss turned NaN or infinite)."""
        return np.array([s == "diverged" for s in self.statuses])

    @property
    def collapsed_epoch(self) -> list[int | None]:
        """Each member's epoch of collapse (its output constant over every training point, see
        `engine.tracker`), or None while it has not collapsed."""
        out: list[int | None] = [None] * self.M
        for members, training in self.groups:
            for i, m in enumerate(members):
                at = int(training.tracker.collapsed_at[i])
                out[m] = at if at >= 0 else None
        return out

    # --- training -----------------------------------------------------------------------------
    def step(self) -> None:
        """Train every member for one epoch (`engine.Training.step_epoch`)."""
        if not self.finished and step_groups(self.groups):
            self.epoch += 1

    # --- measuring ----------------------------------------------------------------------------
    def measure(self) -> dict[str, np.ndarray]:
        """(M,) loss and accuracy of every member now, in evaluation mode (NaN: no validation)."""
        out = {k: np.full(self.M, np.nan) for k in METRICS}
        for members, training in self.groups:
            for k, v in training.measure().items():
                out[k][members] = v
        return out

    # --- pictures -----------------------------------------------------------------------------
    def inputs(self, member: int, points: np.ndarray) -> np.ndarray:
        """(N, D) float32: what `member`'s network takes for points (N, 2): its features of the
        points standardized as its training points were (`pointlab.features`)."""
        g = next(g for g, (members, _) in enumerate(self.groups) if member in members)
        return features.model_inputs(points, self.configs[member].features, self.scalings[g])

    def scaling(self, member: int) -> features.Scaling | None:
        """The standardization `member` trains with (None: raw points)."""
        g = next(g for g, (members, _) in enumerate(self.groups) if member in members)
        return self.scalings[g]

    @torch.no_grad()
    def regions(self, members: list[int], grid: np.ndarray) -> np.ndarray:
        """(len(members), G, K) class probabilities at grid points (G, 2)."""
        out = np.empty((len(members), len(grid), self.n_classes), dtype=np.float32)
        for group, training in self.groups:
            x = torch.as_tensor(self.inputs(group[0], grid))  # (G, D)
            pop = training.population
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
        h = torch.as_tensor(self.inputs(member, grid))  # (G, D)
        if pop.skips is not None or pop.norms is not None:  # the engine's own forward
            hidden: list[torch.Tensor] = []
            pop.logits(h, train=False, hidden=hidden)
            return [layer[j].numpy().copy() for layer in hidden]
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
        """One member's weights as a `torch.nn.Sequential` state dict (what run dirs hold): the
        weights `engine.train` would keep now (`MemberResult.state`)."""
        for members, training in self.groups:
            if member in members:
                return training.state(members.index(member))
        raise IndexError(member)

    def _where(self, member: int) -> tuple[Population, int]:
        for members, training in self.groups:
            if member in members:
                return training.population, members.index(member)
        raise IndexError(member)


def _forward_one(pop: Population, j: int, x: torch.Tensor) -> torch.Tensor:
    """Logits (G, n_outputs) of member j of `pop` at points x (G, 2), evaluation mode."""
    if pop.skips is not None or pop.norms is not None:  # the whole population's forward
        return pop.logits(x, train=False)[j]
    act = ACTIVATION_FUNCTIONS[pop.arch.activation]
    layers = layer_views(pop.arch, pop.theta[j : j + 1].detach())
    h = x
    for i, (w, b) in enumerate(layers):
        h = torch.addmm(b[0], h, w[0])  # (G, fan_out)
        if i < len(layers) - 1:
            h = act(h)
    return h


def step_groups(groups: list[tuple[list[int], Training]]) -> bool:
    """Train every population one epoch (`engine.Training.step_epoch`; one that is done stays
    done); True when any trained, so the page's epoch count moves on. `LiveGeneration` steps
    its populations with this too."""
    trained = False
    for _, training in groups:
        before = training.epoch
        training.step_epoch()
        trained = trained or training.epoch > before
    return trained
