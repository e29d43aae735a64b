"""The host-side bookkeeping of a training: at every logged epoch, history rows, best and last
good weights, and which members stop (early stopping, divergence, collapse, pruning).

A member stops, and is frozen from then on (its learning rate is 0), when at a logged epoch:
- its loss turned NaN or infinite, or its weights did ("diverged", at the first epoch whose
  training loss was not finite); it keeps, as its weights, those of its last logged epoch with a
  finite loss (`weights_epoch`);
- its validation loss has not improved for `early_stopping` epochs ("early_stopped"); it keeps
  its best weights;
- the callback returned its index ("pruned").
The others go on. Ctrl-C or a stop request ends with `interrupt`, which measures the members still
training once more ("interrupted").

A member whose output became one constant for every training point, when at epoch 0 it told
points apart, has collapsed: a hidden layer saturated the same way for every point (tanh at
exactly +-1, every ReLU dead), so no gradient reaches the layers below. Seen with Adam after a
loss of 1e-8 (spiral, 16,16,16 tanh, lr 0.03): its steps, normalized by a second moment that has
decayed to almost nothing, turned one moderate gradient into a full learning-rate step of every
weight at once, the loss jumped, and some thousands of epochs later the last layer saturated; the
loss stayed at ln 2. Not a bug of the engine: a lone torch.nn loop with torch.optim.Adam jumps the
same way (at epoch ~27,500, the engine at ~29,900: float rounding differs). A collapsed member
trains on, as it would alone (weight decay can bring a saturated tanh back), and
`collapsed_epoch` records the logged epoch its last constant stretch began (None once it tells
points apart again). Its status stays what it is (a constant output is no stop: "finished" when it
reached its epochs), and its `state` is its best weights when it has validation data (weights of
a constant output are never the best).

Not here: the epoch itself (`training.py`), the device-side state (`population.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch

from pointlab.config import TrainConfig
from pointlab.engine.models import Architecture
from pointlab.engine.population import Measured, Population

Callback = Callable[[int, dict[str, np.ndarray]], Iterable[int] | None]
METRICS = ("train_loss", "train_acc", "val_loss", "val_acc")


@dataclass
class MemberResult:
    """What one member's training produced."""

    config: TrainConfig
    arch: Architecture
    history: dict[str, list[float]]  # epoch, train_loss, train_acc, val_loss, val_acc
    status: str  # finished | early_stopped | diverged | pruned | interrupted
    stopped_epoch: int  # epochs actually trained
    final_state: dict[str, torch.Tensor]  # torch.nn.Sequential state dict after the last epoch
    best_state: dict[str, torch.Tensor] | None = None  # at the best validation loss, if any
    best_epoch: int | None = None
    wall_time: float = 0.0
    weights_epoch: int = 0  # epochs trained by the weights in `state` (whole epochs, see below)
    extra_steps: int = 0  # minibatch steps past `weights_epoch` (a stop in the middle of an epoch)
    collapsed_epoch: int | None = None  # where its output became constant for good (see above)

    @property
    def state(self) -> dict[str, torch.Tensor]:
        """The weights to use: the best ones when early stopping chose them or the member
        collapsed, else the final."""
        chosen = self.config.early_stopping is not None or self.collapsed_epoch is not None
        if chosen and self.best_state is not None:
            return self.best_state
        return self.final_state

    def last(self, metric: str) -> float:
        values = self.history[metric]
        return values[-1] if values else float("nan")

    def best(self, metric: str) -> float:
        values = [v for v in self.history[metric] if np.isfinite(v)]
        if not values:
            return float("nan")
        return max(values) if metric.endswith("acc") else min(values)


class Tracker:
    """History, best and last good weights, statuses, and which members still train (`live`)."""

    def __init__(self, pop: Population, log_every: int, callback: Callback | None) -> None:
        self.pop, self.log_every, self.callback = pop, log_every, callback
        M = pop.M
        self.start = time.perf_counter()
        self.status = ["finished"] * M
        self.stopped = [c.epochs for c in pop.configs]
        self.stop_time = [0.0] * M
        self.history: dict[str, list[list[float]]] = {
            k: [[] for _ in range(M)] for k in ("epoch", *METRICS)
        }
        self.live = list(range(M))
        self.frozen_mask = np.ones(M)  # 1 for members that still train: multiplies their lr
        self.end_epochs = {c.epochs for c in pop.configs}
        self.patience = np.array([c.early_stopping or 0 for c in pop.configs])
        self.best_val = np.full(M, np.inf)
        self.best_epoch = np.zeros(M, dtype=np.int64)
        self.best_theta = pop.theta.clone() if pop.val is not None else None
        # The last logged weights with a finite loss: what a diverged member keeps. (M, P)
        self.good_theta = pop.theta.clone()
        # Batch norm's running statistics (M, Q) that go with those weights (None without).
        stats = pop.stats
        self.best_stats = None if stats is None or pop.val is None else stats.clone()
        self.good_stats = None if stats is None else stats.clone()
        self.good_epoch = np.zeros(M, dtype=np.int64)
        # Whether each member's output told training points apart when first logged; one that
        # did and then no longer does has collapsed, at `collapsed_at` (-1: it has not).
        self.varied: np.ndarray | None = None
        self.collapsed_at = np.full(M, -1, dtype=np.int64)
        self.completed, self.extra_steps = 0, 0  # where training is: whole epochs, steps past

    def logs_at(self, epoch: int) -> bool:
        return epoch % self.log_every == 0 or epoch in self.end_epochs

    def _stop(self, m: int, status: str, epoch: int) -> None:
        self.status[m], self.stopped[m] = status, epoch
        self.stop_time[m] = time.perf_counter() - self.start

    def _measure(self, train: Measured | None) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Host (M,) arrays of the metrics (NaN: no validation) and of constant outputs."""
        pop = self.pop
        train_loss, train_acc, constant = train or pop.evaluate(pop.train)
        measured = {"train_loss": train_loss, "train_acc": train_acc}
        if pop.val is not None:
            val_loss, val_acc, _ = pop.evaluate(pop.val)
            measured.update(val_loss=val_loss, val_acc=val_acc)
        host = {k: v.float().cpu().numpy() for k, v in measured.items()}
        nan = np.full(pop.M, np.nan)
        host.setdefault("val_loss", nan)
        host.setdefault("val_acc", nan)
        return host, constant.cpu().numpy()

    def _judge(self, m: int, epoch: int, host, constant, finite_weights, bad_epoch) -> bool:
        """Stop member m if it diverged by `epoch` (True), and note whether it collapsed."""
        finite = np.isfinite(host["train_loss"][m]) and (
            self.pop.val is None or np.isfinite(host["val_loss"][m])
        )
        if bad_epoch[m] <= epoch or not finite or not finite_weights[m]:
            self._stop(m, "diverged", int(min(bad_epoch[m], epoch)))
            return True
        if not (constant[m] and self.varied is not None and self.varied[m]):
            self.collapsed_at[m] = -1
        elif self.collapsed_at[m] < 0:
            self.collapsed_at[m] = epoch
        return False

    def log(self, epoch: int, train: Measured | None) -> None:
        """Judge every training member at `epoch`; `train`: the training set's measurement when
        the epoch's forward pass gave it for free (None: measure it here)."""
        pop = self.pop
        host, constant = self._measure(train)
        if self.varied is None:
            self.varied = ~constant
        bad_epoch = pop.bad_epoch.cpu().numpy()
        finite_weights = torch.isfinite(pop.theta).all(dim=1).cpu().numpy()  # (M,)
        improved = np.zeros(pop.M, dtype=bool)
        good = np.zeros(pop.M, dtype=bool)
        for m in self.live:
            config = pop.configs[m]
            if self._judge(m, epoch, host, constant, finite_weights, bad_epoch):
                continue
            good[m] = True
            self.good_epoch[m] = epoch
            if epoch % self.log_every == 0 or epoch == config.epochs:
                self.history["epoch"][m].append(epoch)
                for k in METRICS:
                    self.history[k][m].append(float(host[k][m]))
            collapsed = self.collapsed_at[m] >= 0  # weights that tell no point apart: never best
            if pop.val is not None and host["val_loss"][m] < self.best_val[m] and not collapsed:
                self.best_val[m], self.best_epoch[m] = host["val_loss"][m], epoch
                improved[m] = True
            if epoch >= config.epochs:
                self.stop_time[m] = time.perf_counter() - self.start
            elif self.patience[m] and epoch - self.best_epoch[m] >= self.patience[m]:
                self._stop(m, "early_stopped", epoch)
        if improved.any() and self.best_theta is not None:
            mask = torch.as_tensor(improved, device=pop.device).unsqueeze(1)
            torch.where(mask, pop.theta, self.best_theta, out=self.best_theta)
            if self.best_stats is not None and pop.stats is not None:
                torch.where(mask, pop.stats, self.best_stats, out=self.best_stats)
        if good.any():
            mask = torch.as_tensor(good, device=pop.device).unsqueeze(1)
            torch.where(mask, pop.theta, self.good_theta, out=self.good_theta)
            if self.good_stats is not None and pop.stats is not None:
                torch.where(mask, pop.stats, self.good_stats, out=self.good_stats)
        self.live = [
            m for m in self.live if self.status[m] == "finished" and epoch < pop.configs[m].epochs
        ]
        if self.callback is not None:
            host["active"] = np.isin(np.arange(pop.M), self.live)
            # The callback may stop members (successive halving prunes the worst this way).
            for m in self.callback(epoch, host) or ():
                if m in self.live:
                    self._stop(m, "pruned", epoch)
            self.live = [m for m in self.live if self.status[m] == "finished"]
        self.frozen_mask = np.isin(np.arange(pop.M), self.live).astype(np.float64)

    def interrupt(self) -> None:
        """Stop the members still training and measure them once more, so that their last
        history row is that of the weights they keep (epoch `completed`, plus `extra_steps`)."""
        pop, epoch, live = self.pop, self.completed, self.live
        self.live = []
        self.frozen_mask = np.zeros(pop.M)
        if not live:
            return
        host, constant = self._measure(None)
        finite_weights = torch.isfinite(pop.theta).all(dim=1).cpu().numpy()
        bad_epoch = pop.bad_epoch.cpu().numpy()
        for m in live:
            rows = min(len(v[m]) for v in self.history.values())  # a row cut short by the stop
            for column in self.history.values():
                del column[m][rows:]
            if self._judge(m, epoch, host, constant, finite_weights, bad_epoch):
                continue
            if rows and self.history["epoch"][m][-1] == epoch:  # the same weights, measured again
                for column in self.history.values():
                    column[m].pop()
            self.history["epoch"][m].append(epoch)
            for k in METRICS:
                self.history[k][m].append(float(host[k][m]))
            self._stop(m, "interrupted", epoch)

    def kept_theta(self, m: int) -> torch.Tensor:
        """(M, P) the snapshot holding member m's final weights: its last good weights when it
        diverged, else the population's weights as they are."""
        return self.good_theta if self.status[m] == "diverged" else self.pop.theta

    def kept_stats(self, m: int) -> torch.Tensor | None:
        """(M, Q) batch norm's running statistics that go with `kept_theta(m)` (None without)."""
        return self.good_stats if self.status[m] == "diverged" else self.pop.stats

    def results(self) -> list[MemberResult]:
        pop = self.pop
        results = []
        for m, config in enumerate(pop.configs):
            diverged = self.status[m] == "diverged"
            result = MemberResult(
                config=config,
                arch=pop.member_archs[m],
                history={k: v[m] for k, v in self.history.items()},
                status=self.status[m],
                stopped_epoch=self.stopped[m],
                # A diverged member's weights are NaN by now: keep its last finite ones.
                final_state=pop.member_state(self.kept_theta(m), m, self.kept_stats(m)),
                wall_time=self.stop_time[m],
                weights_epoch=int(self.good_epoch[m]) if diverged else self.stopped[m],
                extra_steps=self.extra_steps if self.status[m] == "interrupted" else 0,
                collapsed_epoch=int(self.collapsed_at[m]) if self.collapsed_at[m] >= 0 else None,
            )
            if self.best_theta is not None:
                result.best_state = pop.member_state(self.best_theta, m, self.best_stats)
                result.best_epoch = int(self.best_epoch[m])
                if result.state is result.best_state:
                    result.weights_epoch, result.extra_steps = result.best_epoch, 0
            results.append(result)
        return results
