"""Training generative models: `train_generators`, a population of GenConfigs on one point set.

The points are standardized first (each coordinate to mean 0 and deviation 1, `fit_scaling`; the
scaling is kept with every model, so samples come back in data units and every data set trains
alike). Configs that share a depth and an activation train as one population of the engine
(`engine.Training` with `generative=`: the one training loop); everything else, learning rate,
widths, method, steps, embeddings, conditioning, epochs, batch size and seed, may differ per
member. Each member trains exactly as it would alone (`tests/test_generative_reference.py`).

Not here: the per-step noise, times and inputs (`pointlab.engine.generative`), sampling and files
(`model.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pointlab.features import fit_scaling
from pointlab.generative.config import GenConfig
from pointlab.generative.model import GenModel

# on_epoch(epoch, metrics) at logged epochs: metrics maps "members" to the indices (into the
# configs) of the population being trained and "train_loss" to their losses, both (M,).
OnEpoch = Callable[[int, dict[str, np.ndarray]], None]


@dataclass(frozen=True)
class GenResult:
    """One trained member: its config, its model, its history (epoch, train_loss: the squared
    error on one fixed draw of noise and times, at each logged epoch) and its training time."""

    config: GenConfig
    model: GenModel
    history: dict[str, list[float]]
    seconds: float


def train_generators(
    points: np.ndarray,
    configs: Sequence[GenConfig],
    *,
    labels: np.ndarray | None = None,
    device: str = "cpu",
    on_epoch: OnEpoch | None = None,
    log_every: int | None = None,
) -> list[GenResult]:
    """Train every config on points (N, 2); results in the order of `configs`.

    labels: (N,) class labels 0 ... K-1, needed by conditional configs (ignored by the others).
    log_every: epochs between history rows (None: about 100 rows over the longest run).
    """
    from pointlab.engine.generative import GenerativeSpec
    from pointlab.engine.training import Training

    X = np.asarray(points, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2 or len(X) < 2:
        raise ValueError(f"points must be an (N, 2) array of N >= 2 points, got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("points must be finite numbers (no NaN or infinity)")
    configs = list(configs)
    n_labels, label_weights, y = 0, None, np.zeros(len(X), dtype=np.int64)
    if any(c.conditional for c in configs):
        if labels is None or len(labels) != len(X):
            raise ValueError("conditional models need one label per point (labels=)")
        y = np.asarray(labels).astype(np.int64)
        if y.min() < 0:
            raise ValueError("labels must be 0, 1, ... K-1")
        counts = np.bincount(y)
        n_labels, label_weights = len(counts), (counts / counts.sum()).tolist()
    scaling = fit_scaling(X)
    Z = scaling.apply(X).astype(np.float32)
    if log_every is None:
        log_every = max(1, max(c.epochs for c in configs) // 100)

    groups: dict[tuple, list[int]] = {}
    for i, config in enumerate(configs):
        groups.setdefault((len(config.hidden), config.activation), []).append(i)
    results: list[GenResult | None] = [None] * len(configs)
    for indices in groups.values():
        group = [configs[i] for i in indices]
        specs = [
            GenerativeSpec(
                c.method,
                c.steps,
                c.time_embedding,
                c.input_embedding,
                c.embedding_size,
                n_labels if c.conditional else 0,
            )
            for c in group
        ]
        callback = None
        if on_epoch is not None:
            members = np.asarray(indices)

            def callback(epoch, metrics, members=members):
                on_epoch(epoch, {"members": members, "train_loss": metrics["train_loss"]})

        start = time.perf_counter()
        training = Training(
            [c.train_config() for c in group],
            Z,
            y,
            [np.arange(len(Z))] * len(group),
            n_classes=2,
            device=device,
            log_every=log_every,
            callback=callback,
            generative=specs,
        )
        trained = training.run()
        seconds = time.perf_counter() - start
        for i, config, member in zip(indices, group, trained, strict=True):
            model = GenModel(
                config,
                member.final_state,
                scaling,
                label_weights if config.conditional else None,
            )
            history = {k: member.history[k] for k in ("epoch", "train_loss")}
            results[i] = GenResult(config, model, history, member.wall_time or seconds)
    return results  # type: ignore[return-value]
