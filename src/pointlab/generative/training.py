"""Training generative models: `train_generators`, GenConfigs trained on one point set, and
`GenTraining`, one population of them stepped an epoch at a time (for front ends that watch;
`gen_populations` groups configs into them as `train_generators` does).

The points are standardized first (each coordinate to mean 0 and deviation 1, `fit_scaling`; the
scaling is kept with every model, so samples come back in data units and every data set trains
alike). Configs that share a depth and an activation train as one population of the engine
(`engine.Training` with `generative=`: the one training loop); everything else, learning rate,
widths, method, steps, embeddings, conditioning, schedule, epochs, batch size and seed, may differ
per member. Each member trains exactly as it would alone (`tests/test_generative_reference.py`).
Ctrl-C or `stop()` returning True ends training cleanly: `GeneratorsInterrupted` carries the
models as they stand.

Not here: the per-step noise, times and inputs (`pointlab.engine.generative`), sampling and files
(`model.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pointlab.features import Scaling, fit_scaling
from pointlab.generative.config import GenConfig
from pointlab.generative.model import GenModel

if TYPE_CHECKING:
    from pointlab.engine.training import Training

# on_epoch(epoch, metrics) at logged epochs: metrics maps "members" to the indices (into the
# configs) of the population being trained and "train_loss" to their losses, both (M,).
OnEpoch = Callable[[int, dict[str, np.ndarray]], None]


@dataclass(frozen=True)
class GenResult:
    """One trained member: its config, its model, its history (epoch, train_loss: the squared
    error on one fixed draw of noise and times, at each logged epoch), its training time and
    status (finished; diverged: its loss turned NaN or infinite, and its model holds the last
    finite weights; interrupted)."""

    config: GenConfig
    model: GenModel
    history: dict[str, list[float]]
    seconds: float
    status: str = "finished"


class GeneratorsInterrupted(KeyboardInterrupt):
    """Ctrl-C or a stop request: `results` holds, in the order of the configs, each member's
    result as it stood (None for members whose population had not started)."""

    def __init__(self, results: list[GenResult | None]) -> None:
        super().__init__("training interrupted")
        self.results = results


@dataclass(frozen=True)
class Points:
    """A point set made ready for training: standardized points, labels, and what models keep."""

    Z: np.ndarray  # (N, 2) float32, standardized
    y: np.ndarray  # (N,) int64 labels (zeros when no config is conditional)
    scaling: Scaling
    label_weights: list[float] | None  # each label's share, when some config is conditional

    @classmethod
    def prepare(
        cls, points: np.ndarray, configs: Sequence[GenConfig], labels: np.ndarray | None
    ) -> Points:
        X = np.asarray(points, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != 2 or len(X) < 2:
            raise ValueError(f"points must be an (N, 2) array of N >= 2 points, got {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError("points must be finite numbers (no NaN or infinity)")
        label_weights, y = None, np.zeros(len(X), dtype=np.int64)
        if any(c.conditional for c in configs):
            if labels is None or len(labels) != len(X):
                raise ValueError("conditional models need one label per point (labels=)")
            y = np.asarray(labels).astype(np.int64)
            if y.min() < 0:
                raise ValueError("labels must be 0, 1, ... K-1")
            counts = np.bincount(y)
            label_weights = (counts / counts.sum()).tolist()
        scaling = fit_scaling(X)
        return cls(scaling.apply(X).astype(np.float32), y, scaling, label_weights)


class GenTraining:
    """One population of generative members in training: the engine's `Training` (its
    `step_epoch`, `measure`, `interrupt`), with `results()` giving GenResults as they stand.
    The configs must share a depth and an activation (`train_generators` groups them so)."""

    def __init__(
        self,
        points: np.ndarray | Points,
        configs: Sequence[GenConfig],
        *,
        labels: np.ndarray | None = None,
        device: str = "cpu",
        log_every: int | None = None,
        on_epoch: OnEpoch | None = None,
        members: Sequence[int] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> None:
        from pointlab.engine.training import Training

        self.configs = list(configs)
        if len({(len(c.hidden), c.activation) for c in self.configs}) != 1:
            raise ValueError("one population needs one depth and activation; use train_generators")
        data = points if isinstance(points, Points) else Points.prepare(points, configs, labels)
        self.points = data
        n_labels = 0 if data.label_weights is None else len(data.label_weights)
        specs = [c.engine_spec(n_labels if c.conditional else 0) for c in self.configs]
        if log_every is None:
            log_every = max(1, max(c.epochs for c in self.configs) // 100)
        # the indices on_epoch reports (into the caller's configs)
        numbers = np.arange(len(self.configs)) if members is None else np.asarray(members)
        callback = None
        if on_epoch is not None:
            report = on_epoch

            def callback(epoch: int, metrics: dict[str, np.ndarray]) -> None:
                report(epoch, {"members": numbers, "train_loss": metrics["train_loss"]})

        self.start = time.perf_counter()
        self.training: Training = Training(
            [c.train_config() for c in self.configs],
            data.Z,
            data.y,
            [np.arange(len(data.Z))] * len(self.configs),
            n_classes=2,
            device=device,
            log_every=log_every,
            callback=callback,
            stop=stop,
            generative=specs,
        )

    def step_epoch(self) -> bool:
        """One more epoch (`engine.Training.step_epoch`): False once training is over."""
        return self.training.step_epoch()

    def run(self) -> list[GenResult]:
        """Every epoch to the end; Ctrl-C or `stop()`: `GeneratorsInterrupted`."""
        try:
            with self.training.strategy.running():
                while self.training.step_epoch():
                    pass
        except KeyboardInterrupt:
            self.training.interrupt()
            raise GeneratorsInterrupted(list(self.results())) from None
        return self.results()

    def replace_points(self, points: np.ndarray, labels: np.ndarray | None = None) -> None:
        """Go on training on other points (a page whose points were edited): the members keep
        their weights, history and epoch count, the optimizer starts afresh
        (`engine.Training.replace_points`), and the new points are scaled as the first were
        (the models keep that scaling; labels beyond the first set's classes are refused)."""
        data = Points.prepare(points, self.configs, labels)
        y = data.y
        first = self.points.label_weights
        if first is not None and len(y) and y.max() >= len(first):
            raise ValueError(f"labels must be among the first points' 0 ... {len(first) - 1}")
        Z = self.points.scaling.apply(np.asarray(points, np.float64)).astype(np.float32)
        self.points = Points(Z, y, self.points.scaling, first)
        self.training.replace_points(Z, y, [np.arange(len(Z))] * len(self.configs))

    def results(self) -> list[GenResult]:
        """Each member's model and history as they stand now."""
        data, seconds = self.points, time.perf_counter() - self.start
        results = []
        for config, member in zip(self.configs, self.training.results(), strict=True):
            weights = data.label_weights if config.conditional else None
            model = GenModel(config, member.final_state, data.scaling, weights)
            history = {k: member.history[k] for k in ("epoch", "train_loss")}
            results.append(
                GenResult(config, model, history, member.wall_time or seconds, member.status)
            )
        return results


def gen_populations(
    data: Points,
    configs: Sequence[GenConfig],
    *,
    device: str = "cpu",
    log_every: int | None = None,
    on_epoch: OnEpoch | None = None,
    stop: Callable[[], bool] | None = None,
) -> Iterator[tuple[list[int], GenTraining]]:
    """The configs that share a depth and an activation as one GenTraining each, with their
    indices into `configs`, in order of first appearance; each built only when the iteration
    reaches it (so one population at a time holds memory when trained in turn)."""
    groups: dict[tuple, list[int]] = {}
    for i, config in enumerate(configs):
        groups.setdefault((len(config.hidden), config.activation), []).append(i)
    for indices in groups.values():
        group = [configs[i] for i in indices]
        training = GenTraining(
            data,
            group,
            device=device,
            log_every=log_every,
            on_epoch=on_epoch,
            members=indices,
            stop=stop,
        )
        yield indices, training


def train_generators(
    points: np.ndarray,
    configs: Sequence[GenConfig],
    *,
    labels: np.ndarray | None = None,
    device: str = "cpu",
    on_epoch: OnEpoch | None = None,
    log_every: int | None = None,
    stop: Callable[[], bool] | None = None,
) -> list[GenResult]:
    """Train every config on points (N, 2); results in the order of `configs`.

    labels: (N,) class labels 0 ... K-1, needed by conditional configs (ignored by the others).
    log_every: epochs between history rows (None: about 100 rows over the longest run).
    on_epoch: called at logged epochs of each population (`OnEpoch`). stop: polled at every
    step; True ends training (`GeneratorsInterrupted`, as Ctrl-C).
    """
    configs = list(configs)
    if not configs:
        return []
    data = Points.prepare(points, configs, labels)
    if log_every is None:
        log_every = max(1, max(c.epochs for c in configs) // 100)
    results: list[GenResult | None] = [None] * len(configs)
    populations = gen_populations(
        data, configs, device=device, log_every=log_every, on_epoch=on_epoch, stop=stop
    )
    for indices, training in populations:
        try:
            trained = training.run()
        except GeneratorsInterrupted as interrupted:
            for i, result in zip(indices, interrupted.results, strict=True):
                results[i] = result
            raise GeneratorsInterrupted(results) from None
        for i, result in zip(indices, trained, strict=True):
            results[i] = result
    return results  # type: ignore[return-value]
