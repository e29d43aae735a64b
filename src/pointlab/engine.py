"""The population engine: trains M independent MLP classifiers in one batched program.

`train_population` trains members that share an architecture, loss and optimizer kind (one
`TrainConfig.group_key()`); `train` accepts any configs, groups them and trains each group as one
population. Everything else (learning rate and its schedule, momentum, betas, weight decay, batch
size, epochs, clipping, dropout, label smoothing, early stopping, seed, even the training set) may
differ per member.

Semantics, the same for every member and the same as a lone `torch.nn` loop:
- one epoch is one pass over the member's training set, in full batch (the book's way) or in
  minibatches drawn without replacement in the member's own order (`batches.py`);
- the loss is each member's mean loss; the objective is their sum, so one backward pass gives each
  member exactly its own gradient;
- history row `epoch = e` holds the metrics of the model after e epochs; rows are logged every
  `log_every` epochs and at the end. In full batch without dropout the training loss of row e is the
  loss of the forward pass that precedes update e + 1, which is what the book prints;
- a member whose loss turns NaN or infinite stops at that epoch ("diverged"), keeping its last
  finite history; one whose validation loss has not improved for `early_stopping` epochs stops
  ("early_stopped") and keeps its best weights; the others go on.

The library never prints: progress goes to `callback(epoch, metrics)` at each logged epoch, where
metrics maps train_loss, train_acc, val_loss, val_acc and active to (M,) arrays; the callback may
return member indices to stop there (status "pruned").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from pointlab.batches import population_order
from pointlab.config import TrainConfig
from pointlab.models import Architecture, forward, init_theta, layer_views, member_state
from pointlab.optim import PopulationOptimizer, clip_grad_norm
from pointlab.schedules import PopulationSchedule

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
    extra: dict = field(default_factory=dict)

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
        from pointlab.errors import UserError

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
) -> list[MemberResult]:
    """Train any configs on one train/validation split; results in the order of `configs`.

    Configs are grouped by `group_key()` and each group trains as one population.
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
        out = train_population(
            group, X, y, train_index=[train_index] * len(group),
            val_index=None if val_index is None else [val_index] * len(group),
            n_classes=n_classes, device=device, log_every=log_every, callback=callback,
        )  # fmt: skip
        for i, result in zip(indices, out, strict=True):
            results[i] = result
    return results  # type: ignore[return-value]


class _Population:
    """The batched state of one population during training (tensors on the device)."""

    def __init__(self, configs, X, y, train_index, val_index, n_classes, device):
        self.configs = configs
        self.M = len(configs)
        first = configs[0]
        if any(c.group_key() != first.group_key() for c in configs):
            raise ValueError("train_population needs members with one group_key(); use train()")
        self.arch = Architecture(first.hidden, first.activation, n_classes)
        self.n_classes = n_classes
        self.device = device
        self.X = torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)  # (N, 2)
        self.y = torch.as_tensor(np.asarray(y, dtype=np.int64), device=device)  # (N,)

        def column(values, dtype=torch.float32):  # (M, 1)
            return torch.tensor(values, dtype=dtype, device=device).unsqueeze(1)

        self.theta = init_theta(self.arch, [c.seed for c in configs]).to(device)
        self.theta.requires_grad_(True)
        self.layers = layer_views(self.arch, self.theta)
        self.optimizer = PopulationOptimizer(first.optimizer, configs, self.theta.detach())
        self.schedule = PopulationSchedule(configs)
        self.seeds = torch.tensor([c.seed for c in configs], device=device)
        self.smoothing = column([c.label_smoothing for c in configs])
        self.any_smoothing = any(c.label_smoothing > 0 for c in configs)
        self.dropout = column([c.dropout for c in configs]).unsqueeze(2)  # (M, 1, 1)
        self.any_dropout = any(c.dropout > 0 for c in configs)
        clip = [c.clip_grad if c.clip_grad is not None else float("inf") for c in configs]
        self.clip = column(clip) if any(c.clip_grad is not None for c in configs) else None
        self.generator = torch.Generator(device=device).manual_seed(
            int(sum((i + 1) * c.seed for i, c in enumerate(configs)) % (2**63))
        )
        # Training sets: shared (the usual case, fast path) or one per member (cross-validation).
        self.shared_train = all(np.array_equal(train_index[0], t) for t in train_index)
        self.train_sets = self._pad(train_index)  # (M, n_max) indices, (M,) counts
        self.val_sets = None if val_index is None else self._pad(val_index)
        sizes = [c.batch_size or len(t) for c, t in zip(configs, train_index, strict=True)]
        self.full_batch = all(c.batch_size is None or c.batch_size >= len(t)
                              for c, t in zip(configs, train_index, strict=True))  # fmt: skip
        self.batch = column(sizes, torch.int64).squeeze(1)  # (M,)
        self.batch_max = max(sizes)
        self.counts_host = [len(t) for t in train_index]
        steps = [-(-n // b) for n, b in zip(self.counts_host, sizes, strict=True)]  # ceil
        self.steps_per_epoch, self.min_steps = max(steps), min(steps)
        self.uniform_batches = len(set(sizes)) == 1 and len(set(self.counts_host)) == 1
        self.stepping_at = [
            torch.tensor([s < k for k in steps], device=device).unsqueeze(1)
            for s in range(self.steps_per_epoch)
        ]
        n_max = self.train_sets[0].shape[1]
        arange = torch.arange(n_max, device=device)
        self.train_weights = (arange < self.train_sets[1].unsqueeze(1)).float()  # (M, n_max)
        self.shared_val = val_index is None or all(
            np.array_equal(val_index[0], v) for v in val_index
        )
        self.epochs = torch.tensor([c.epochs for c in configs], device=device)
        self.max_epochs = max(c.epochs for c in configs)

    def _pad(self, index_lists):
        n_max = max(len(t) for t in index_lists)
        padded = np.zeros((len(index_lists), n_max), dtype=np.int64)
        for m, t in enumerate(index_lists):
            padded[m, : len(t)] = t
        counts = torch.tensor([len(t) for t in index_lists], device=self.device)
        return torch.as_tensor(padded, device=self.device), counts

    # --- loss and metrics -------------------------------------------------------------------
    def member_losses(self, logits, targets, weights):
        """Per-member mean loss (M,) and correct-prediction counts (M,).

        logits (M, B, n_out), targets (M, B) or (B,), weights (M, B) 0/1 or None (all count).
        """
        config = self.configs[0]
        if self.arch.n_outputs == 1:
            z = logits.squeeze(2)  # (M, B)
            t = targets.to(z.dtype).expand_as(z)
            if self.any_smoothing:
                t = t * (1 - self.smoothing) + self.smoothing / 2
            if config.loss == "mse":
                elem = (torch.sigmoid(z) - t) ** 2
            else:
                elem = F.binary_cross_entropy_with_logits(z, t, reduction="none")
            correct = (z > 0) == targets.bool()
        else:
            logp = torch.log_softmax(logits, dim=2)  # (M, B, K)
            index = targets.expand(logits.shape[:2]).unsqueeze(2)
            if config.loss == "mse":
                onehot = F.one_hot(index.squeeze(2), self.n_classes).to(logits.dtype)
                elem = ((logp.exp() - onehot) ** 2).mean(2)
            else:
                elem = -logp.gather(2, index).squeeze(2)
                if self.any_smoothing:
                    elem = (1 - self.smoothing) * elem - self.smoothing * logp.mean(2)
            correct = logits.argmax(2) == targets
        if weights is None:
            return elem.mean(1), correct.sum(1)
        count = weights.sum(1).clamp(min=1)
        return (elem * weights).sum(1) / count, (correct * weights).sum(1)

    @torch.no_grad()
    def evaluate(self, sets, shared: bool):
        """(loss (M,), accuracy (M,)) of every member on its own point set, in eval mode."""
        index, counts = sets
        if shared:
            logits = forward(self.arch, self.layers, self.X[index[0]])
            loss, correct = self.member_losses(logits, self.y[index[0]], None)
            return loss, correct / counts
        weights = torch.arange(index.shape[1], device=self.device) < counts.unsqueeze(1)
        logits = forward(self.arch, self.layers, self.X[index])
        loss, correct = self.member_losses(logits, self.y[index], weights.float())
        return loss, correct / counts


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
) -> list[MemberResult]:
    """Train one population; member m trains on X[train_index[m]] and validates on X[val_index[m]].

    All configs must share `group_key()`. Ctrl-C (KeyboardInterrupt) stops training cleanly: the
    results so far come back with status "interrupted" for the members still training.
    """
    start = time.perf_counter()
    pop = _Population(list(configs), X, y, train_index, val_index, n_classes,
                      resolve_device(device))  # fmt: skip
    M, dev = pop.M, pop.device
    epochs = pop.epochs
    patience = torch.tensor(
        [c.early_stopping if c.early_stopping is not None else -1 for c in configs], device=dev
    )
    active = torch.ones(M, dtype=torch.bool, device=dev)
    diverged_at = torch.full((M,), -1, dtype=torch.int64, device=dev)
    status = ["finished"] * M
    stopped = [int(c.epochs) for c in configs]
    stop_time = [0.0] * M
    history = {k: [[] for _ in range(M)] for k in ("epoch", *METRICS)}
    has_val = pop.val_sets is not None
    best_val = torch.full((M,), float("inf"), device=dev)
    best_epoch = torch.zeros(M, dtype=torch.int64, device=dev)
    best_theta = pop.theta.detach().clone() if has_val else None
    lr = torch.tensor(pop.schedule(0), dtype=torch.float32, device=dev)
    max_epochs = int(epochs.max())
    live = list(range(M))  # host-side list of members still training (updated at log epochs)
    interrupted = False
    end_epochs = {c.epochs for c in configs}  # every member's last epoch is logged

    def log(epoch: int, train_metrics) -> None:
        nonlocal live
        train_loss, train_acc = (
            train_metrics if train_metrics else pop.evaluate(pop.train_sets, pop.shared_train)
        )
        val_loss, val_acc = pop.evaluate(pop.val_sets, pop.shared_val) if has_val else (None, None)
        logging = active & (epochs >= epoch)
        if has_val:
            improved = logging & (val_loss < best_val)
            best_val.copy_(torch.where(improved, val_loss, best_val))
            best_epoch.copy_(torch.where(improved, epoch, best_epoch))
            best_theta.copy_(torch.where(improved.unsqueeze(1), pop.theta.detach(), best_theta))
            patience_out = (
                (patience > 0) & (epoch - best_epoch >= patience) & logging & (epochs > epoch)
            )
        rows = {"train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss,
                "val_acc": val_acc}  # fmt: skip
        host = {k: (v.float().cpu().numpy() if v is not None else np.full(M, np.nan))
                for k, v in rows.items()}  # fmt: skip
        finite = np.isfinite(host["train_loss"]) & (
            np.isfinite(host["val_loss"]) if has_val else True
        )
        diverged_host = diverged_at.cpu().numpy()
        for m in live:
            if not finite[m] or diverged_host[m] >= 0:
                status[m] = "diverged"
                stopped[m] = int(diverged_host[m]) if diverged_host[m] >= 0 else epoch
                stop_time[m] = time.perf_counter() - start
                continue
            if epoch % log_every and epoch != configs[m].epochs:
                continue  # a row logged for another member's last epoch
            history["epoch"][m].append(epoch)
            for k in METRICS:
                history[k][m].append(float(host[k][m]))
        if has_val:
            out = patience_out.cpu().numpy()
            for m in live:
                if out[m] and status[m] == "finished":
                    status[m], stopped[m] = "early_stopped", epoch
                    stop_time[m] = time.perf_counter() - start
        for m in live:
            if epoch >= configs[m].epochs and status[m] == "finished":
                stop_time[m] = time.perf_counter() - start
        live = [m for m in live if status[m] == "finished" and epoch < configs[m].epochs]
        if callback is not None:
            host["active"] = np.isin(np.arange(M), live)
            # The callback may stop members (successive halving prunes the worst this way).
            for m in callback(epoch, host) or ():
                if m in live:
                    status[m], stopped[m] = "pruned", epoch
                    stop_time[m] = time.perf_counter() - start
            live = [m for m in live if status[m] == "finished"]
        still = torch.zeros(M, dtype=torch.bool, device=dev)
        still[live] = True
        active.copy_(still)

    try:
        for epoch in range(max_epochs + 1):
            if not pop.schedule.static:
                lr.copy_(torch.as_tensor(pop.schedule(epoch), dtype=torch.float32))
            logging = epoch % log_every == 0 or epoch == max_epochs or epoch in end_epochs
            _train_epoch(pop, epoch, lr, active, diverged_at, log if logging else None)
            if not live:
                break
    except KeyboardInterrupt:
        interrupted = True
        for m in live:
            status[m] = "interrupted"
            stopped[m] = history["epoch"][m][-1] if history["epoch"][m] else 0
            stop_time[m] = time.perf_counter() - start

    results = []
    theta = pop.theta.detach()
    for m, config in enumerate(configs):
        dropout = config.dropout > 0
        hist = {k: v[m] for k, v in history.items()}
        result = MemberResult(
            config=config, arch=pop.arch, history=hist, status=status[m], stopped_epoch=stopped[m],
            final_state=member_state(pop.arch, theta, m, dropout), wall_time=stop_time[m],
        )  # fmt: skip
        if has_val:
            result.best_state = member_state(pop.arch, best_theta, m, dropout)
            result.best_epoch = int(best_epoch[m])
        results.append(result)
    if interrupted:
        raise PopulationInterrupted(results)
    return results


class PopulationInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: carries the results so far, so the caller can still save them."""

    def __init__(self, results: list[MemberResult]) -> None:
        super().__init__("training interrupted")
        self.results = results


def _train_epoch(pop: _Population, epoch, lr, active, diverged_at, log):
    """One epoch of every member. `log(epoch, train_metrics or None)`, when given, is called
    before the epoch's first update, so a history row holds the model after `epoch` epochs."""
    index, counts = pop.train_sets
    done = epoch == pop.max_epochs
    if pop.full_batch:
        if pop.shared_train:
            x, targets, weights = pop.X[index[0]], pop.y[index[0]], None
        else:
            x, targets, weights = pop.X[index], pop.y[index], pop.train_weights
        if done and log is None:
            return
        loss = _forward_loss(pop, x, targets, weights, active, diverged_at, epoch, log)
        if not done:
            _update(pop, loss, lr, active, epoch, None)
        return
    if log is not None:
        log(epoch, None)
    if done:
        return
    order = population_order(pop.seeds, counts, epoch, index.shape[1])  # (M, n_max)
    if pop.uniform_batches:  # one batch size and one set size: plain slices, no masks
        size, n = pop.batch_max, pop.counts_host[0]
        for s in range(pop.steps_per_epoch):
            points = index.gather(1, order[:, s * size : min((s + 1) * size, n)])  # (M, B)
            loss = _forward_loss(pop, pop.X[points], pop.y[points], None, active, diverged_at,
                                 epoch, None)  # fmt: skip
            _update(pop, loss, lr, active, epoch, None)
        return
    arange = torch.arange(pop.batch_max, device=pop.device)
    for s in range(pop.steps_per_epoch):
        positions = s * pop.batch.unsqueeze(1) + arange  # (M, B_max)
        valid = (arange < pop.batch.unsqueeze(1)) & (positions < counts.unsqueeze(1))
        positions = positions.clamp(max=index.shape[1] - 1)
        points = index.gather(1, order.gather(1, positions))  # (M, B_max) indices into X
        loss = _forward_loss(pop, pop.X[points], pop.y[points], valid.float(), active,
                             diverged_at, epoch, None)  # fmt: skip
        # Members whose epoch has fewer steps sit this one out, optimizer state untouched.
        stepping = None if s < pop.min_steps else pop.stepping_at[s]
        _update(pop, loss, lr, active, epoch, stepping)


def _forward_loss(pop, x, targets, weights, active, diverged_at, epoch, log):
    """Per-member training loss (M,) on a batch; marks members whose loss is not finite."""
    dropout = pop.dropout if pop.any_dropout else None
    logits = forward(pop.arch, pop.layers, x, dropout, pop.generator)
    loss, correct = pop.member_losses(logits, targets, weights)
    with torch.no_grad():
        bad = ~torch.isfinite(loss) & active
        diverged_at.copy_(torch.where(bad & (diverged_at < 0), epoch, diverged_at))
        active &= ~bad
    if log is not None:
        # Full batch without dropout: this forward pass already measured the training set.
        n = x.shape[-2] if weights is None else weights.sum(1)
        log(epoch, None if dropout is not None else (loss.detach(), correct / n))
    return loss


def _update(pop, loss, lr, active, epoch, stepping):
    """Backward and one optimizer step; frozen members (stopped, diverged, past their own last
    epoch) take zero-length steps."""
    pop.optimizer.set_lr(lr * active * (pop.epochs > epoch))
    pop.theta.grad = None
    loss.sum().backward()
    grad = pop.theta.grad
    if pop.clip is not None:
        grad = clip_grad_norm(grad, pop.clip)
    pop.optimizer.step(pop.theta.detach(), grad, stepping)
