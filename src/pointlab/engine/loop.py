"""The population engine: trains M independent MLP classifiers in one batched program.

`train_population` trains members that share a depth, activation, loss and optimizer kind
(`padding.padding_key`); members of different widths are padded to the widest (`padding.py`).
`train` accepts any configs, groups them by `TrainConfig.group_key()` (no padding: a padded member
costs what the widest costs) and trains each group as one population. Everything else (learning
rate and its schedule, momentum, betas, weight decay, batch size, epochs, clipping, dropout, label
smoothing, early stopping, seed, even the training set) may differ per member.

Semantics, the same for every member and the same as a lone `torch.nn` loop:
- one epoch is one pass over the member's training set, in full batch (the book's way) or in
  minibatches drawn without replacement in the member's own order (`batches.py`);
- the loss is each member's mean loss; the objective is their sum, so one backward pass gives each
  member exactly its own gradient;
- history row `epoch = e` holds the metrics of the model after e epochs; rows are logged every
  `log_every` epochs and at the end. In full batch without dropout the training loss of row e is the
  loss of the forward pass that precedes update e + 1, which is what the book prints;
- `param_mask` (M, P) in theta's layout (`models.layer_views`; 1 keep, 0 pruned, e.g. from
  `models.param_mask_from_states`) prunes parameters per member: they are zero at initialization,
  their gradient is zeroed before clipping and the update, and they are set to zero again after
  every update, so they stay exactly zero under every optimizer, weight decay and clipping. This is
  a lone `torch.nn` loop with `p.grad.mul_(mask)` after `backward()` and `p.data.mul_(mask)` after
  `optimizer.step()` (`tests/reference.py`);
- a member whose loss turns NaN or infinite stops at that epoch ("diverged"), keeping its last
  finite history and, as its weights, those of its last logged epoch with a finite loss
  (`weights_epoch`); one whose validation loss has not improved for `early_stopping` epochs stops
  ("early_stopped") and keeps its best weights; the others go on.

The library never prints: progress goes to `callback(epoch, metrics)` at each logged epoch, where
metrics maps train_loss, train_acc, val_loss, val_acc and active to (M,) arrays; the callback may
return member indices to stop there (status "pruned").

Stopping from outside: Ctrl-C (KeyboardInterrupt) or `stop()` returning True (polled at every
epoch and every minibatch step, so a signal handler can ask for a clean stop) ends training with
status "interrupted". The model is then measured once more, so the last history row and
`weights_epoch` describe exactly the weights returned; `PopulationInterrupted` carries them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import torch

from pointlab.config import TrainConfig
from pointlab.engine.graphs import EpochGraphs
from pointlab.engine.graphs import wanted as graphs_wanted
from pointlab.engine.losses import member_correct
from pointlab.engine.memory import check_memory
from pointlab.engine.models import Architecture
from pointlab.engine.population import Population
from pointlab.errors import UserError

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

    @property
    def state(self) -> dict[str, torch.Tensor]:
        """The weights to use: the best ones when early stopping chose them, else the final."""
        if self.config.early_stopping is not None and self.best_state is not None:
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


def resolve_device(device: str) -> torch.device:
    """'auto' picks CUDA when present; 'cuda' without CUDA is an error the CLI reports."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for, but PyTorch sees no CUDA device here")
    return torch.device(device)


def train(
    configs: Sequence[TrainConfig],
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    *,
    n_classes: int = 2,
    device: str = "cpu",
    log_every: int = 100,
    callback: Callback | None = None,
    param_mask: Sequence | None = None,
    stop: Callable[[], bool] | None = None,
    cuda_graphs: bool | None = None,
) -> list[MemberResult]:
    """Train any configs on one train/validation split; results in the order of `configs`.

    Configs are grouped by `group_key()` and each group trains as one population (cuda_graphs as
    for `train_population`). param_mask:
    None, or one entry per config: None (nothing pruned) or that member's (P,) mask in its own
    theta layout (an (M, P) array when all configs share one architecture).
    """
    X = X_train if X_val is None else np.concatenate([X_train, X_val])
    y = y_train if y_val is None else np.concatenate([y_train, y_val])
    train_index = np.arange(len(X_train))
    val_index = None if X_val is None else np.arange(len(X_train), len(X))
    groups: dict[tuple, list[int]] = {}
    for i, config in enumerate(configs):
        groups.setdefault(config.group_key(), []).append(i)
    results: list[MemberResult | None] = [None] * len(configs)
    for indices in groups.values():
        group = [configs[i] for i in indices]
        mask = None
        if param_mask is not None and any(param_mask[i] is not None for i in indices):
            n_params = Architecture(group[0].hidden, group[0].activation, n_classes).n_params
            mask = np.stack(
                [
                    np.ones(n_params, np.float32)
                    if param_mask[i] is None
                    else np.asarray(param_mask[i], np.float32)
                    for i in indices
                ]
            )
        out = train_population(
            group,
            X,
            y,
            train_index=[train_index] * len(group),
            val_index=None if val_index is None else [val_index] * len(group),
            n_classes=n_classes,
            device=device,
            log_every=log_every,
            callback=callback,
            param_mask=mask,
            stop=stop,
            cuda_graphs=cuda_graphs,
        )
        for i, result in zip(indices, out, strict=True):
            results[i] = result
    return results  # type: ignore[return-value]


def train_population(
    configs: Sequence[TrainConfig],
    X: np.ndarray,
    y: np.ndarray,
    *,
    train_index: Sequence[np.ndarray],
    val_index: Sequence[np.ndarray] | None = None,
    n_classes: int = 2,
    device: str = "cpu",
    log_every: int = 100,
    callback: Callback | None = None,
    param_mask: np.ndarray | torch.Tensor | None = None,
    stop: Callable[[], bool] | None = None,
    cuda_graphs: bool | None = None,
    sample_weight: np.ndarray | None = None,
) -> list[MemberResult]:
    """Train one population; member m trains on X[train_index[m]] and validates on X[val_index[m]].

    All configs must share `padding_key()`; widths may differ (padded to the widest). param_mask:
    (M, P) 1 keep / 0 pruned, in the population's (padded) theta layout (see the module
    docstring), or None. Ctrl-C (KeyboardInterrupt) or `stop()` stops training
    cleanly: `PopulationInterrupted` carries the results so far, status "interrupted" for those
    training, measured once more at the weights they stopped with. cuda_graphs: on a CUDA
    device, replay each full-batch epoch as a CUDA graph (`graphs.py`): None where possible,
    True required, False never. sample_weight: (N,) non-negative weight of each point of X in
    every loss (a weighted mean per batch, as scikit-learn's) and accuracy; None: all equal.
    """
    where = resolve_device(device)
    n_train = max(len(t) for t in train_index)
    n_val = max((len(v) for v in val_index), default=0) if val_index is not None else 0
    # before anything is allocated; D = X.shape[1] input features
    check_memory(configs, n_classes, n_train, n_val, where, n_inputs=X.shape[1])
    pop = Population(
        configs, X, y, train_index, val_index, n_classes, where, param_mask, sample_weight
    )
    tracker = _Tracker(pop, log_every, callback)
    graphs = EpochGraphs(pop, bool(cuda_graphs)) if graphs_wanted(pop, cuda_graphs) else None
    try:
        with graphs.running() if graphs is not None else nullcontext():
            _loop(pop, tracker, graphs, stop)
    except KeyboardInterrupt:
        tracker.interrupt()
        raise PopulationInterrupted(tracker.results()) from None
    return tracker.results()


def _loop(
    pop: Population,
    tracker: _Tracker,
    graphs: EpochGraphs | None,
    stop: Callable[[], bool] | None,
) -> None:
    lr = np.zeros(pop.M)
    for epoch in range(pop.max_epochs + 1):
        tracker.completed, tracker.extra_steps = epoch, 0
        if stop is not None and stop():
            raise KeyboardInterrupt
        if epoch == 0 or not pop.schedule.static:
            lr = pop.schedule(epoch)
            pop.optimizer.set_lr(lr * tracker.frozen_mask)
        logging = tracker.logs_at(epoch)
        done = epoch == pop.max_epochs
        if pop.full_batch:
            # One forward pass measures the model after `epoch` epochs and gives the gradient
            # of update epoch + 1: the book's loop, where the printed loss is free.
            x, targets, weights = pop.full_batch_inputs(pop.train)
            if done and not logging:
                break
            if graphs is not None and graphs.due(epoch):
                graphs.capture(epoch)
            replay = graphs if graphs is not None and graphs.ready else None
            if replay is not None and not logging:
                replay.epoch()  # one replay: forward, loss, backward, update
                continue
            if replay is not None:
                logits, loss = replay.measure()
            else:
                logits = pop.logits(x, train=True)
                loss = pop.loss(logits, targets, weights, grad=not done)
                pop.note_finite(loss, epoch)
            if logging:
                free = pop.dropout is None  # with dropout, measure in evaluation mode
                measured = (loss, _accuracy(logits, targets, weights, pop.train))
                tracker.log(epoch, measured if free else None)
                pop.optimizer.set_lr(lr * tracker.frozen_mask)
            if done or not tracker.live:
                break
            if replay is not None:
                replay.update()
            else:
                pop.step(None)
        else:
            if logging:
                tracker.log(epoch, None)
                pop.optimizer.set_lr(lr * tracker.frozen_mask)
            if done or not tracker.live:
                break
            for x, targets, weights, stepping in pop.batches(epoch):
                loss = pop.loss(pop.logits(x, train=True), targets, weights, grad=True)
                pop.note_finite(loss, epoch)
                pop.step(stepping)
                tracker.extra_steps += 1
                if stop is not None and stop():
                    raise KeyboardInterrupt


def _accuracy(logits, targets, weights, sets) -> torch.Tensor:
    return member_correct(logits, targets, weights) / sets.mass


class PopulationInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: carries the results so far, so the caller can still save them."""

    def __init__(self, results: list[MemberResult]) -> None:
        super().__init__("training interrupted")
        self.results = results


class _Tracker:
    """Host-side bookkeeping at logged epochs: history rows, best weights, early stopping,
    divergence, pruning, and which members still train."""

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
        self.good_epoch = np.zeros(M, dtype=np.int64)
        self.completed, self.extra_steps = 0, 0  # where training is: whole epochs, steps past

    def logs_at(self, epoch: int) -> bool:
        return epoch % self.log_every == 0 or epoch in self.end_epochs

    def _stop(self, m: int, status: str, epoch: int) -> None:
        self.status[m], self.stopped[m] = status, epoch
        self.stop_time[m] = time.perf_counter() - self.start

    def log(self, epoch: int, train_metrics) -> None:
        pop = self.pop
        train_loss, train_acc = train_metrics or pop.evaluate(pop.train)
        val = pop.evaluate(pop.val) if pop.val is not None else None
        measured = {"train_loss": train_loss, "train_acc": train_acc}
        if val is not None:
            measured.update(val_loss=val[0], val_acc=val[1])
        host = {k: v.float().cpu().numpy() for k, v in measured.items()}
        nan = np.full(pop.M, np.nan)
        host.setdefault("val_loss", nan)
        host.setdefault("val_acc", nan)
        bad_epoch = pop.bad_epoch.cpu().numpy()
        finite_weights = torch.isfinite(pop.theta).all(dim=1).cpu().numpy()  # (M,)
        improved = np.zeros(pop.M, dtype=bool)
        good = np.zeros(pop.M, dtype=bool)
        for m in self.live:
            config = pop.configs[m]
            finite = np.isfinite(host["train_loss"][m]) and (
                val is None or np.isfinite(host["val_loss"][m])
            )
            if bad_epoch[m] <= epoch or not finite or not finite_weights[m]:
                self._stop(m, "diverged", int(min(bad_epoch[m], epoch)))
                continue
            good[m] = True
            self.good_epoch[m] = epoch
            if epoch % self.log_every == 0 or epoch == config.epochs:
                self.history["epoch"][m].append(epoch)
                for k in METRICS:
                    self.history[k][m].append(float(host[k][m]))
            if val is not None and host["val_loss"][m] < self.best_val[m]:
                self.best_val[m], self.best_epoch[m] = host["val_loss"][m], epoch
                improved[m] = True
            if epoch >= config.epochs:
                self.stop_time[m] = time.perf_counter() - self.start
            elif self.patience[m] and epoch - self.best_epoch[m] >= self.patience[m]:
                self._stop(m, "early_stopped", epoch)
        if improved.any() and self.best_theta is not None:
            mask = torch.as_tensor(improved, device=pop.device).unsqueeze(1)
            torch.where(mask, pop.theta, self.best_theta, out=self.best_theta)
        if good.any():
            mask = torch.as_tensor(good, device=pop.device).unsqueeze(1)
            torch.where(mask, pop.theta, self.good_theta, out=self.good_theta)
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
        if not live:
            return
        train_loss, train_acc = pop.evaluate(pop.train)
        measured = {"train_loss": train_loss, "train_acc": train_acc}
        if pop.val is not None:
            measured["val_loss"], measured["val_acc"] = pop.evaluate(pop.val)
        host = {k: v.float().cpu().numpy() for k, v in measured.items()}
        finite_weights = torch.isfinite(pop.theta).all(dim=1).cpu().numpy()
        bad_epoch = pop.bad_epoch.cpu().numpy()
        for m in live:
            rows = min(len(v[m]) for v in self.history.values())  # a row cut short by the stop
            for column in self.history.values():
                del column[m][rows:]
            values = [float(host[k][m]) if k in host else float("nan") for k in METRICS]
            finite = all(np.isfinite(v) for k, v in zip(METRICS, values, strict=True) if k in host)
            if bad_epoch[m] <= epoch or not finite or not finite_weights[m]:
                self._stop(m, "diverged", int(min(bad_epoch[m], epoch)))
                continue
            if rows and self.history["epoch"][m][-1] == epoch:  # the same weights, measured again
                for column in self.history.values():
                    column[m].pop()
            self.history["epoch"][m].append(epoch)
            for k, v in zip(METRICS, values, strict=True):
                self.history[k][m].append(v)
            self._stop(m, "interrupted", epoch)

    def results(self) -> list[MemberResult]:
        pop = self.pop
        theta = pop.theta
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
                final_state=pop.member_state(self.good_theta if diverged else theta, m),
                wall_time=self.stop_time[m],
                weights_epoch=int(self.good_epoch[m]) if diverged else self.stopped[m],
                extra_steps=self.extra_steps if self.status[m] == "interrupted" else 0,
            )
            if self.best_theta is not None:
                result.best_state = pop.member_state(self.best_theta, m)
                result.best_epoch = int(self.best_epoch[m])
                if result.state is result.best_state:
                    result.weights_epoch, result.extra_steps = result.best_epoch, 0
            results.append(result)
        return results
