"""One population's training, an epoch at a time: the only place an epoch is defined.

`Training(configs, X, y, train_index, val_index, ...)` builds a population (after checking that
it fits in memory) and trains it one epoch per `step_epoch()`, which returns False once training
is over. Between epochs `measure()` gives every member's loss and accuracy now and `results()` what
each member would end with now; `interrupt()` ends training. `engine.train_population` steps it to
the end; the playground steps it as a page asks; an experiment drives it with hooks (`callback`
at logged epochs, `batch_order` for the minibatch order).

An epoch, as `step_epoch` runs it, starting from the weights after `epoch` epochs:
1. the learning rates of the epoch (`schedules.py`), 0 for members that stopped;
2. at a logged epoch, the tracker measures every member and may stop some (`tracker.py`);
3. one pass over each member's training set: in full batch one forward pass, which is also
   step 2's measurement of the training set (the book's printed loss) when there is no dropout,
   and one update; in minibatches, the member's own order (`batches.py`) cut into its batches,
   one update each.
A full-batch epoch goes through an `Epochs` strategy: `EagerEpochs` runs it kernel by kernel,
`graphs.GraphEpochs` replays it as CUDA graphs on a GPU. Both run the same arithmetic.

The last history row (epoch = the largest `epochs`) is logged by the `step_epoch` that trains the
last epoch, so after N calls a member with `epochs=N` is where `engine.train` leaves it.

Stopping from outside: `stop()` is polled at every epoch and every minibatch step; when it returns
True (or on Ctrl-C) `step_epoch` raises KeyboardInterrupt, and the caller ends with `interrupt()`,
which measures the members still training once more (status "interrupted").

Not here: the bookkeeping at logged epochs (`tracker.py`), the device-side state and the step
(`population.py`), grouping configs into populations (`loop.train`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol

import numpy as np
import torch

from pointlab.config import TrainConfig
from pointlab.engine.memory import check_memory
from pointlab.engine.population import BatchOrder, Population
from pointlab.engine.tracker import METRICS, Callback, MemberResult, Tracker
from pointlab.errors import SettingError


def resolve_device(device: str) -> torch.device:
    """'auto' picks CUDA when present; 'cuda' without CUDA is an error the CLI reports."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        # The library's name for it; the command line says `--device` (cli.args.in_flags).
        raise SettingError(
            "{device} " + SettingError.literal(device) + " was asked for, but PyTorch sees no CUDA "
            "device here"
        )
    return torch.device(device)


class Epochs(Protocol):
    """How a full-batch epoch runs: `measure` then `update`, or `whole` when nothing is logged."""

    def running(self) -> AbstractContextManager[None]:
        """The context every step of training runs in (a CUDA stream, or nothing)."""
        ...

    def measure(self, epoch: int, grad: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """The epoch's forward pass over the training set: (logits (M, N, n_outputs), loss
        (M,)); with grad, also the loss gradient `update` follows."""
        ...

    def update(self) -> None:
        """The backward pass and optimizer step that follow `measure`."""
        ...

    def whole(self, epoch: int) -> None:
        """A whole epoch whose measurement nobody reads."""
        ...


class EagerEpochs:
    """A full-batch epoch kernel by kernel (every device; the only way on a CPU)."""

    def __init__(self, pop: Population) -> None:
        self.pop = pop

    def running(self) -> AbstractContextManager[None]:
        return nullcontext()

    def measure(self, epoch: int, grad: bool) -> tuple[torch.Tensor, torch.Tensor]:
        pop = self.pop
        x, targets, weights = pop.full_batch_inputs(pop.train)
        logits = pop.logits(x, train=True, at=(epoch, None))
        loss = pop.loss(logits, targets, weights, grad=grad)
        pop.note_finite(loss, epoch)
        return logits, loss

    def update(self) -> None:
        self.pop.step(None)

    def whole(self, epoch: int) -> None:
        self.measure(epoch, grad=True)
        self.update()


class Training:
    """A population in training, stepped one epoch at a time (see the module docstring).

    Arguments as `engine.train_population` (sample_weight: each point's weight in the losses and
    accuracies, None: all equal); batch_order: None, or a hook (epoch, the engine's
    order (M, n_max)) -> the order each member visits its training points in that epoch.
    """

    def __init__(
        self,
        configs: Sequence[TrainConfig],
        X: np.ndarray,
        y: np.ndarray,
        train_index: Sequence[np.ndarray],
        val_index: Sequence[np.ndarray] | None = None,
        *,
        n_classes: int = 2,
        device: str = "cpu",
        log_every: int = 100,
        callback: Callback | None = None,
        param_mask: np.ndarray | torch.Tensor | None = None,
        stop: Callable[[], bool] | None = None,
        cuda_graphs: bool | None = None,
        batch_order: BatchOrder | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> None:
        where = resolve_device(device)
        n_train = max(len(t) for t in train_index)
        n_val = max((len(v) for v in val_index), default=0) if val_index is not None else 0
        n_inputs = int(np.shape(X)[1])
        # before anything is allocated
        check_memory(configs, n_classes, n_train, n_val, where, n_inputs=n_inputs)
        self.configs, self.n_classes, self.device = list(configs), n_classes, where
        self.log_every, self.stop, self.batch_order = log_every, stop, batch_order
        self.param_mask = param_mask
        self.population = Population(
            configs,
            X,
            y,
            train_index,
            val_index,
            n_classes,
            where,
            param_mask,
            batch_order,
            sample_weight,
        )
        self.tracker = Tracker(self.population, log_every, callback)
        self.cuda_graphs = cuda_graphs
        self.strategy = self._strategy(cuda_graphs)
        self.epoch = 0  # whole epochs trained
        self.done = False
        self._lr = np.zeros(self.population.M)  # the schedule's rates of the current epoch

    def _strategy(self, cuda_graphs: bool | None) -> Epochs:
        from pointlab.engine import graphs

        if graphs.wanted(self.population, cuda_graphs):
            return graphs.GraphEpochs(self.population, bool(cuda_graphs))
        return EagerEpochs(self.population)

    # --- stepping -----------------------------------------------------------------------------
    def step_epoch(self) -> bool:
        """Train one more epoch; False when training is over (every member reached its epochs
        or stopped: the last history row is logged by then), True while there is more."""
        if self.done:
            return False
        with self.strategy.running():
            trained = self._epoch(self.epoch)
            if trained:
                self.epoch += 1
                self.tracker.completed, self.tracker.extra_steps = self.epoch, 0
                if self.epoch == self.population.max_epochs:
                    self._epoch(self.epoch)  # the last row: it logs and trains nothing
                    trained = False
        self.done = not trained
        return trained

    def run(self) -> list[MemberResult]:
        """Every epoch to the end; Ctrl-C or `stop()`: `PopulationInterrupted` with the
        results so far."""
        try:
            with self.strategy.running():  # once, not once per epoch
                while self.step_epoch():
                    pass
        except KeyboardInterrupt:
            self.interrupt()
            raise PopulationInterrupted(self.results()) from None
        return self.results()

    def _poll(self) -> None:
        if self.stop is not None and self.stop():
            raise KeyboardInterrupt

    def _set_lr(self) -> None:
        self.population.optimizer.set_lr(self._lr * self.tracker.frozen_mask)
        self.population.set_live(self.tracker.frozen_mask)

    def _epoch(self, epoch: int) -> bool:
        """Log the weights after `epoch` epochs if due, then train epoch `epoch + 1`; False
        when nothing was trained (the end, or no member left training)."""
        pop, tracker = self.population, self.tracker
        tracker.completed, tracker.extra_steps = epoch, 0
        self._poll()
        if epoch == 0 or not pop.schedule.static:
            self._lr = pop.schedule(epoch)
            self._set_lr()
        logging = tracker.logs_at(epoch)
        done = epoch == pop.max_epochs
        if pop.full_batch:
            if done and not logging:
                return False
            if not logging:
                self.strategy.whole(epoch)
                return True
            if pop.stats is not None:
                # Batch norm: measured in evaluation mode (running statistics), before this
                # epoch's training pass moves them, as a lone torch loop measures.
                tracker.log(epoch, None)
                self._set_lr()
                if done or not tracker.live:
                    return False
                self.strategy.whole(epoch)
                return True
            # One forward pass measures the model after `epoch` epochs and gives the gradient
            # of update epoch + 1: the book's loop, where the printed loss is free.
            logits, loss = self.strategy.measure(epoch, grad=not done)
            free = pop.dropout is None  # with dropout, measure in evaluation mode
            tracker.log(epoch, pop.measured(logits, loss, pop.train) if free else None)
            self._set_lr()
            if done or not tracker.live:
                return False
            self.strategy.update()
            return True
        if logging:
            tracker.log(epoch, None)
            self._set_lr()
        if done or not tracker.live:
            return False
        for x, targets, weights, stepping, rows in pop.batches(epoch):
            logits = pop.logits(x, train=True, at=(epoch, rows))
            loss = pop.loss(logits, targets, weights, grad=True)
            pop.note_finite(loss, epoch)
            pop.step(stepping)
            tracker.extra_steps += 1
            self._poll()
        return True

    # --- between epochs -----------------------------------------------------------------------
    def measure(self) -> dict[str, np.ndarray]:
        """(M,) loss and accuracy of every member now, in evaluation mode (NaN: no validation)."""
        pop = self.population
        out = {k: np.full(pop.M, np.nan) for k in METRICS}
        for prefix, sets in (("train", pop.train), ("val", pop.val)):
            if sets is not None:
                loss, accuracy, _ = pop.evaluate(sets)
                out[f"{prefix}_loss"] = loss.float().cpu().numpy()
                out[f"{prefix}_acc"] = accuracy.float().cpu().numpy()
        return out

    @property
    def status(self) -> list[str]:
        """Each member's status now: "finished" while it trains or when it reached its epochs."""
        return list(self.tracker.status)

    def state(self, member: int) -> dict[str, torch.Tensor]:
        """The weights `results()` would give member `member` now (`MemberResult.state`)."""
        tracker, pop = self.tracker, self.population
        config = pop.configs[member]
        chosen = config.early_stopping is not None or tracker.collapsed_at[member] >= 0
        if chosen and tracker.best_theta is not None:
            return pop.member_state(tracker.best_theta, member, tracker.best_stats)
        return pop.member_state(tracker.kept_theta(member), member, tracker.kept_stats(member))

    def interrupt(self) -> None:
        """End training here: the members still training are measured once more and stop with
        status "interrupted" (or "diverged" if that is what the measurement finds)."""
        self.tracker.interrupt()
        self.done = True

    def results(self) -> list[MemberResult]:
        """Each member's result as it stands (final once `step_epoch` returned False)."""
        return self.tracker.results()

    def replace_points(
        self,
        X: np.ndarray,
        y: np.ndarray,
        train_index: Sequence[np.ndarray],
        val_index: Sequence[np.ndarray] | None = None,
    ) -> None:
        """Go on training on other points: every member keeps its weights, history, status and
        epoch count; the optimizer's state starts afresh (a page whose points were edited)."""
        old = self.population
        configs = self.configs
        n_train = max(len(t) for t in train_index)
        n_val = max((len(v) for v in val_index), default=0) if val_index is not None else 0
        check_memory(configs, self.n_classes, n_train, n_val, self.device, n_inputs=np.shape(X)[1])
        pop = Population(
            configs,
            X,
            y,
            train_index,
            val_index,
            self.n_classes,
            self.device,
            self.param_mask,
            self.batch_order,
        )
        with torch.no_grad():
            pop.theta.copy_(old.theta)
            if pop.stats is not None and old.stats is not None:
                pop.stats.copy_(old.stats)
        self.population = self.tracker.pop = pop
        if pop.val is None:
            self.tracker.best_theta = self.tracker.best_stats = None
        elif self.tracker.best_theta is None:
            self.tracker.best_theta = pop.theta.clone()
            self.tracker.best_stats = None if pop.stats is None else pop.stats.clone()
        self.strategy = self._strategy(self.cuda_graphs)
        self._lr = pop.schedule(self.epoch)
        self._set_lr()


class PopulationInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: carries the results so far, so the caller can still save them."""

    def __init__(self, results: list[MemberResult]) -> None:
        super().__init__("training interrupted")
        self.results = results
